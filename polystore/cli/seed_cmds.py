"""``polystore seed``: deterministic, realistic, cross-store-consistent demo data.

Heavy imports (psycopg, boto3, rich progress) happen inside the command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from polystore.cli.common import EXIT_BAD_INPUT, EXIT_PROBLEMS, load_or_exit, select_or_exit


class RichReporter:
    """One progress bar per store, with rows per second."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, label: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(label, total=max(total, 1))
        self.tasks[label] = task
        return lambda n: self.progress.advance(task, n)

    def finish(self, label: str) -> None:
        task = self.tasks[label]
        self.progress.update(task, completed=self.progress.tasks[task].total)


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} rows/s" if speed else "", style="cyan")

    return Progress(
        TextColumn("{task.description:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        console=_console(),
        transient=False,
    )


def _console(stderr: bool = True) -> Any:
    import shutil

    from rich.console import Console

    # a pipe has no width; tables stay readable (and greppable) at 160 columns
    width = None if sys.stderr.isatty() else max(shutil.get_terminal_size().columns, 160)
    return Console(stderr=stderr, width=width)


def _plan_table(summary: Any) -> Any:
    from rich.table import Table

    table = Table(title="seed plan", title_justify="left")
    for col in ("system", "store", "kind", "owner", "what", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for plan in summary.plans:
        for store, kind, what, count in plan.counts():
            table.add_row(
                plan.system.name, store, kind, plan.system.stores[store].owner, what, f"{count:,}"
            )
        for store, link in sorted(plan.fed_by.items()):
            table.add_row(
                plan.system.name,
                store,
                plan.system.stores[store].kind,
                plan.system.stores[store].owner,
                f"fed by link {link}",
                "-",
            )
    return table


def _summary_table(summary: Any) -> Any:
    from rich.table import Table

    table = Table(title=f"seeded in {summary.seconds:.2f}s", title_justify="left")
    for col in ("system", "store", "kind", "service", "planned", "written", "rows/s", "status"):
        table.add_column(
            col, justify="right" if col in ("planned", "written", "rows/s") else "left"
        )
    for r in summary.results:
        rate = f"{r.written / r.seconds:,.0f}" if r.seconds and r.written else "-"
        table.add_row(
            r.system, r.store, r.kind, r.service, f"{r.planned:,}", f"{r.written:,}", rate, r.status
        )
    return table


@click.command()
@click.argument("systems", nargs=-1)
@click.option(
    "--scale",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    help="Multiplies every count; 1 is a small demo that loads in seconds.",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=42,
    show_default=True,
    help="Same --seed and --scale give byte-identical data.",
)
@click.option(
    "--target",
    type=click.Choice(["local"]),
    default=None,
    help="The running local stack (the default).",
)
@click.option(
    "--stack",
    default=None,
    help="A deployed stack (dev, staging; prod needs --allow-prod); requires --outputs.",
)
@click.option(
    "--outputs",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="`pulumi stack output --json --show-secrets` of --stack, "
    "saved to a file: endpoints and secret ARNs.",
)
@click.option("--allow-prod", is_flag=True, help="Allow seeding a prod stack.")
@click.option("--reset", is_flag=True, help="Delete what the last run seeded (by key) first.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (rows per table, items per "
    "item type, documents, events) and write nothing; with --verify, check the stores "
    "as they are.",
)
@click.option(
    "--verify",
    "check",
    is_flag=True,
    help="Check the invariants after loading; exit 1 with the first violation.",
)
@click.option(
    "--verify-wait",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds --verify waits for link-fed stores to converge.",
)
@click.option(
    "--now",
    "use_now",
    is_flag=True,
    help="Times relative to the wall clock "
    "instead of the fixed epoch (2026-01-01T00:00:00Z); no longer reproducible.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POLYSTORE_STATE_DIR",
    default=None,
    help="The local stack's state dir (default ./.polystore).",
)
def seed(
    systems: tuple[str, ...],
    scale: int,
    seed_value: int,
    target: str | None,
    stack: str | None,
    outputs: Path | None,
    allow_prod: bool,
    reset: bool,
    dry_run: bool,
    check: bool,
    verify_wait: float,
    use_now: bool,
    state_dir: Path | None,
) -> None:
    """Fill the stores of SYSTEMS (default: all) with deterministic, realistic demo data.

    Data is generated from the topology (schemas, item types, mappings) plus a domain
    generator per known system, keeps the cross-store invariants (references,
    balances, replayable events) and is loaded with each owning service's credentials.
    Running twice adds nothing.
    """
    from seed import api
    from seed.load_postgres import LoadError
    from seed.targets import DeployedTarget, LocalTarget, TargetError

    if stack and target:
        click.echo("polystore seed: --target and --stack exclude each other", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if stack and not outputs:
        click.echo(
            "polystore seed: --stack needs --outputs FILE (save it with "
            "`pulumi stack output --json --show-secrets > FILE`)",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    selected = select_or_exit(load_or_exit(), systems)
    try:
        tgt = (
            DeployedTarget(stack, outputs, allow_prod)
            if stack and outputs
            else LocalTarget(state_dir)
        )
    except TargetError as exc:
        click.echo(f"polystore seed: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    now = datetime.now(UTC) if use_now else None
    console = _console(stderr=False)
    try:
        if dry_run:
            summary = api.seed(
                selected,
                tgt,
                seed=seed_value,
                scale=scale,
                now=now,
                dry_run=True,
                check=check,
                verify_wait_s=verify_wait,
            )
            console.print(_plan_table(summary))
            for plan in summary.plans:
                console.print(
                    f"{plan.system.name}: seed {plan.seed}, scale {plan.scale}, "
                    f"plan digest {plan.digest()[:16]}"
                )
        else:
            with _progress() as progress:
                summary = api.seed(
                    selected,
                    tgt,
                    seed=seed_value,
                    scale=scale,
                    now=now,
                    reset=reset,
                    check=check,
                    reporter=RichReporter(progress),
                    verify_wait_s=verify_wait,
                )
    except (TargetError, LoadError) as exc:
        click.echo(f"polystore seed: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    if not dry_run:
        console.print(_summary_table(summary))
    if check:
        if summary.violations:
            if "data" in summary.checked:
                click.echo("verify: rows, references and domain invariants hold", err=True)
            click.echo(f"verify: FAILED: {summary.violations[0]}", err=True)
            sys.exit(EXIT_PROBLEMS)
        click.echo("verify: every invariant holds", err=True)


commands = [seed]
