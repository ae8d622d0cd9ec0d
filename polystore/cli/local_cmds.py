"""``polystore up/down/reset/status/env/parity/compose``: the local stack.

Heavy imports (psycopg, boto3, docker) happen inside the commands, so the rest of the
CLI does not pay for them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from polystore.cli.common import EXIT_BAD_INPUT, EXIT_PROBLEMS, load_or_exit, select_or_exit

state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), envvar="POLYSTORE_STATE_DIR",
    default=None, help="Where engine data, ports and passwords live (default .polystore/ in "
    "the project root, the nearest directory up holding stacks/; env POLYSTORE_STATE_DIR).",
)  # fmt: skip


def _stack(state_dir: Path | None) -> Any:
    """The local stack of ``state_dir``; a dir that can never be one exits 2 up front."""
    from emulation.stack import LocalStack

    stack = LocalStack(state_dir)
    root = stack.dir.root
    # The nearest existing ancestor must be a directory, or every write fails later.
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not existing.is_dir():
        click.echo(f"polystore: state dir {root}: {existing} is not a directory "
                   "(pass another --state-dir)", err=True)  # fmt: skip
        sys.exit(EXIT_BAD_INPUT)
    return stack


def _progress(line: str) -> None:
    click.echo(f"  {line}", err=True)


def _guard(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; an EmulationError is printed (message + hint) and exits with its code:
    1, or 2 for bad input (a failed migration, an unreadable or inconsistent state dir)."""
    from emulation.errors import EmulationError, StaleState

    try:
        return fn()
    except StaleState as exc:
        click.echo(f"polystore: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except EmulationError as exc:
        click.echo(f"polystore: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", EXIT_PROBLEMS))


@click.command()
@click.argument("systems", nargs=-1)
@click.option("--runtime", type=click.Choice(["auto", "embedded", "docker"]), default="auto",
              show_default=True, help="auto: docker if an engine answers, else embedded.")
@click.option("--new-ports", is_flag=True, help="Pick new free ports (when a kept one is taken).")
@click.option("--no-services", is_flag=True,
              help="Do not start the declared services (stores, links and workers only).")
@click.option("--no-seed", is_flag=True,
              help="Do not load the demo data into freshly provisioned, empty stores.")
@state_dir_option
def up(systems: tuple[str, ...], runtime: str, new_ports: bool, no_services: bool,
       no_seed: bool, state_dir: Path | None) -> None:  # fmt: skip
    """Start the local stack for SYSTEMS (default: all), provision it, serve its services.

    Stores provisioned by this run that are empty get the default demo data
    (`polystore seed`; --no-seed skips it). Running it again is cheap and safe.
    """
    selected = select_or_exit(load_or_exit(), systems)
    stack = _stack(state_dir)
    names = ", ".join(s.name for s in selected)
    click.echo(f"polystore up: {names} (state {stack.dir.root})", err=True)
    result = _guard(lambda: stack.up(selected, runtime=runtime, progress=_progress,
                                     new_ports=new_ports, services=not no_services,
                                     supervise=True))  # fmt: skip
    ep = result.endpoints
    what = "provisioned " + ", ".join(result.provisioned) if result.provisioned else \
        "already up to date"  # fmt: skip
    click.echo(f"ready in {result.seconds:.2f}s on the {result.runtime} runtime ({what})")
    for engine in result.engines:
        click.echo(f"  {engine:<9} {ep.url(engine)}")
    for worker in result.workers:
        click.echo(f"  {worker}")
    waiting = [s for s in selected if s.name in stack.unseeded()]
    if waiting and no_seed:
        stack.mark_seeded([s.name for s in waiting])  # declined: a later `up` won't seed
    elif waiting:
        from seed.api import seed_after_up

        # Provisioned by this run: seeded when empty. Left by an `up` killed while seeding:
        # finished (the default seed is idempotent: only what is missing is written).
        resumed = [s for s in waiting if s.name not in result.provisioned]
        summary = _guard(lambda: seed_after_up(stack.dir.root, waiting, resumed, _progress))
        stack.mark_seeded([s.name for s in waiting])
        for name, why in sorted(summary.skipped.items()):
            click.echo(f"  seed: {name} not seeded ({why})")
    click.echo("variables for a service: polystore env SYSTEM.SERVICE; all: polystore status")


@click.command()
@state_dir_option
def down(state_dir: Path | None) -> None:
    """Stop every engine of the local stack (data is kept)."""
    stack = _stack(state_dir)
    if not _guard(lambda: stack.down(progress=_progress)):
        click.echo(f"no local stack in {stack.dir.root}")
        return
    click.echo("stopped; data kept in " + str(stack.dir.root))


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@state_dir_option
def reset(yes: bool, state_dir: Path | None) -> None:
    """Stop the local stack and delete all its data."""
    stack = _stack(state_dir)
    if not yes:
        # No terminal to answer on (a pipe, a script, CI): never take silence — or a piped
        # "n" — for consent to wipe data.
        if not sys.stdin.isatty():
            click.echo(f"polystore reset: would delete every local database, table and index "
                       f"in {stack.dir.root}; no terminal to confirm on, pass --yes",
                       err=True)  # fmt: skip
            sys.exit(EXIT_BAD_INPUT)
        click.confirm(f"delete every local database, table and index in {stack.dir.root}?",
                      abort=True)  # fmt: skip
    _guard(lambda: stack.reset(progress=_progress))
    click.echo("reset: nothing running, no data left")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@state_dir_option
def status(as_json: bool, state_dir: Path | None) -> None:
    """Engines (endpoint, pid or container, healthy) and how to reach every store."""
    from emulation import report

    topology = load_or_exit()
    stack = _stack(state_dir)
    doc = _guard(lambda: report.status(stack.dir, topology.select(None)))
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(f"runtime: {doc['runtime']}   state: {doc['state_dir']}")
        for name, engine in doc["engines"].items():
            ident = engine.get("container") or engine.get("pid") or "-"
            click.echo(f"  {name:<9} {engine['endpoint']:<28} {ident!s:<12} {engine['state']}"
                       + _restarted(engine))  # fmt: skip
        for name, worker in doc["workers"].items():
            click.echo(f"  {name:<9} {worker.get('url') or '(worker)':<28} "
                       f"{worker['pid'] or '-'!s:<12} {worker['state']}"
                       + _restarted(worker))  # fmt: skip
        keeper = doc["supervisor"]
        click.echo(f"  supervisor: pid {keeper['pid']}, restarts what dies" if keeper["alive"]
                   else "  supervisor: not running (`polystore up` starts it)")  # fmt: skip
        for name, link in doc["links"].items():
            lag = "-" if link["lag_ms"] is None else f"lag {link['lag_ms']:.0f} ms"
            error = f", last error: {link['last_error']}" if link["last_error"] else ""
            click.echo(f"  link {name}: {link['state']}, {lag}, "
                       f"{link['queued_failures']} queued failures{error}")  # fmt: skip
        for store in doc["stores"]:
            where = (store.get("database") or store.get("table") or store.get("index")
                     or store.get("topic") or store.get("name"))  # fmt: skip
            click.echo(f"  {store['system']}.{store['service']}: {store['store']} "
                       f"({store['kind']}) {where}")  # fmt: skip
        if doc["stopped"]:
            click.echo("stopped with `polystore down`; `polystore up` starts it again")
    if doc["problems"]:
        sys.exit(EXIT_PROBLEMS)


def _restarted(entry: dict[str, object]) -> str:
    n = entry.get("restarts") or 0
    return f" (restarted {n}x by the supervisor)" if n else ""


@click.command()
@click.argument("target", metavar="SYSTEM.SERVICE")
@click.option("--format", "fmt", type=click.Choice(["shell", "dotenv", "json"]),
              default="shell", show_default=True,
              help="shell: `export NAME='value'` lines for eval; dotenv: NAME=value lines "
              "(docker --env-file, python-dotenv); json: one object.")
@state_dir_option
def env(target: str, fmt: str, state_dir: Path | None) -> None:
    """A service's variables, as its ECS task has them: eval "$(polystore env tcgstore.catalog)".

    Everything the service's clients need to reach its own stores and nothing else:
    libpq's PG* (its own login), boto3's AWS_* (region, DynamoDB and Streams endpoints),
    OPENSEARCH_URL, KAFKA_BOOTSTRAP_SERVERS, and the physical names of its tables,
    indexes and topics.
    """
    from emulation import report

    system_name, dot, service = target.partition(".")
    if not dot or not system_name or not service:
        click.echo(f"polystore: expected SYSTEM.SERVICE (e.g. tcgstore.catalog), got {target!r}",
                   err=True)  # fmt: skip
        sys.exit(EXIT_BAD_INPUT)
    topology = load_or_exit()
    [system] = select_or_exit(topology, [system_name])
    if service not in system.services:
        known = ", ".join(sorted(system.services))
        click.echo(f"polystore: no service {service!r} in {system_name} (known: {known})",
                   err=True)  # fmt: skip
        sys.exit(EXIT_BAD_INPUT)
    values = _guard(lambda: report.env(_stack(state_dir).dir, system, service))
    click.echo(report.render_env(values, fmt))


@click.command()
@click.argument("systems", nargs=-1)
@state_dir_option
def parity(systems: tuple[str, ...], state_dir: Path | None) -> None:
    """Compare the live local stack with the topology; exit 1 with a diff on any drift."""
    from emulation.parity.check import check

    selected = select_or_exit(load_or_exit(), systems)
    drift = _guard(lambda: check(_stack(state_dir).dir, selected, named=bool(systems)))
    if not drift:
        click.echo(f"parity: the local stack matches the topology ({len(selected)} systems)")
        return
    for line in drift:
        click.echo(line)
    click.echo(f"parity: {len(drift)} difference{'s' if len(drift) != 1 else ''}", err=True)
    sys.exit(EXIT_PROBLEMS)


@click.command()
@click.argument("systems", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: docker-compose.yml in the project root); "
              "secrets go to .env beside it.")
@state_dir_option
def compose(systems: tuple[str, ...], output: Path | None, state_dir: Path | None) -> None:
    """Write the docker-compose.yml equivalent of the docker runtime (secrets in .env)."""
    from emulation.runtimes.compose import write_compose
    from polystore.project import project_root

    selected = select_or_exit(load_or_exit(), systems)
    output = output or (project_root() or Path.cwd()) / "docker-compose.yml"
    path = _guard(lambda: write_compose(_stack(state_dir).dir, selected, output))
    click.echo(f"wrote {path} (secrets in {path.parent / '.env'}, mode 0600); then: "
               f"docker compose -f {path} up -d && polystore up --runtime docker")  # fmt: skip


def _restarted(entry: dict[str, object]) -> str:
    n = entry.get("restarts") or 0
    return f" (restarted {n}x by the supervisor)" if n else ""


@click.command()
@click.argument("target", metavar="SYSTEM.SERVICE")
@click.option("--port", type=int, default=None, help="Default: the port the stack keeps for it.")
@click.option("--no-reload", is_flag=True, help="Do not restart on code changes.")
@state_dir_option
def serve(target: str, port: int | None, no_reload: bool, state_dir: Path | None) -> None:
    """Run one service in the foreground against the local stack, reloading on changes.

    The service gets exactly what `polystore env SYSTEM.SERVICE` prints. Stop the stack's
    own copy first (`polystore down` stops all; or pass --port to run beside it).
    """
    import os

    from emulation import report
    from emulation.runtimes.embedded import process_env

    system_name, dot, service = target.partition(".")
    topology = load_or_exit()
    [system] = select_or_exit(topology, [system_name])
    if not dot or service not in system.services:
        click.echo(f"polystore: expected SYSTEM.SERVICE with a service of {system_name} "
                   f"({', '.join(sorted(system.services))}), got {target!r}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    stack = _stack(state_dir)
    values = _guard(lambda: report.env(stack.dir, system, service))
    state = stack.dir.load()
    chosen = port or state.ports.get(f"service:{target}") or system.services[service].port
    argv = [sys.executable, "-m", "services", target, "--host", "127.0.0.1", "--port",
            str(chosen)] + ([] if no_reload else ["--reload"])  # fmt: skip
    click.echo(f"serving {target} at http://127.0.0.1:{chosen} (Ctrl-C stops)", err=True)
    os.execve(sys.executable, argv, process_env(values))


commands = [up, down, reset, status, env, parity, compose, serve]
