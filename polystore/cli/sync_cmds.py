"""``polystore sync status|redrive`` and ``polystore reindex``: the data-in-motion links.

The poller itself runs under the local stack's supervision (``python -m sync.poller``);
these commands read its state and act on it. Imports of boto3 and the sync package happen
inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from polystore.cli.common import EXIT_BAD_INPUT, EXIT_PROBLEMS, load_or_exit

state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), envvar="POLYSTORE_STATE_DIR",
    default=None, help="The local stack's state dir (default ./.polystore; env "
    "POLYSTORE_STATE_DIR).",
)  # fmt: skip


def _state_dir(state_dir: Path | None) -> Path:
    return (state_dir or Path(".polystore")).absolute()


def _split(target: str, what: str) -> tuple[str, str]:
    system, _, name = target.partition(".")
    if not system or not name:
        click.echo(f"polystore: expected SYSTEM.{what}, got {target!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return system, name


def _system(name: str):  # type: ignore[no-untyped-def]
    topology = load_or_exit()
    try:
        return topology.system(name)
    except KeyError as exc:
        click.echo(f"polystore: {exc.args[0]}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group()
def sync() -> None:
    """Stream-to-search links: status of their pollers, replay of their failure queues."""


@sync.command("status")
@click.argument("links", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@state_dir_option
def status(links: tuple[str, ...], as_json: bool, state_dir: Path | None) -> None:
    """Lag, last error and queued failures of each link (SYSTEM.LINK; default: all)."""
    from sync.status import link_status

    topology = load_or_exit()
    targets: list[tuple[str, str]] = []
    if links:
        targets = [_split(t, "LINK") for t in links]
    else:
        for system in topology.select(None):
            targets += [(system.name, name) for name in system.stream_links()]
    root = _state_dir(state_dir)
    rows = [link_status(root, s, n) for s, n in targets]
    if as_json:
        click.echo(json.dumps({"links": rows}, indent=2))
        return
    for r in rows:
        lag = "-" if r["lag_ms"] is None else f"{r['lag_ms']} ms"
        click.echo(f"{r['system']}.{r['link']}: {r['state']}, lag {lag}, "
                   f"{r['queued_failures']} queued failures"
                   + (f", last error: {r['last_error']}" if r["last_error"] else ""))  # fmt: skip
    if any(r["queued_failures"] for r in rows):
        sys.exit(EXIT_PROBLEMS)


@sync.command("redrive")
@click.argument("link")
@state_dir_option
def redrive(link: str, state_dir: Path | None) -> None:
    """Replay the failure queue of LINK (SYSTEM.LINK) through the handler."""
    from sync.redrive import redrive as run

    system_name, name = _split(link, "LINK")
    system = _system(system_name)
    if name not in system.stream_links():
        click.echo(f"polystore: {system_name} has no stream-to-search link {name!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    result = run(_state_dir(state_dir), system, name)
    click.echo(f"{link}: {result['redriven']} redriven, {result['still_failing']} still failing")
    if result["still_failing"]:
        sys.exit(EXIT_PROBLEMS)


@click.command()
@click.argument("target")
@state_dir_option
def reindex(target: str, state_dir: Path | None) -> None:
    """Rebuild SYSTEM.INDEX (a search store) from a scan of its table, then swap its alias."""
    from sync.reindex import ReindexError
    from sync.reindex import reindex as run

    system_name, store = _split(target, "INDEX")
    system = _system(system_name)
    try:
        result = run(system, store, _state_dir(state_dir),
                     progress=lambda line: click.echo(f"  {line}", err=True))  # fmt: skip
    except ReindexError as exc:
        click.echo(f"polystore: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"{target}: {result['alias']} -> {result['index']} ({result['scanned']} items "
               f"scanned, {result['caught_up']} changes caught up)")  # fmt: skip


commands = [sync, reindex]
