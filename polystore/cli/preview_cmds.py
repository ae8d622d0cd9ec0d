"""``polystore preview``: the Pulumi program run offline under mocks, resources printed.

No Pulumi CLI and no AWS credentials: the program runs under ``pulumi.runtime.set_mocks``
with the config of ``Pulumi.<stack>.yaml``. ``--format json`` is the artifact the policy
checks read (``polystore policy --from FILE``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

from polystore.cli.common import EXIT_BAD_INPUT, load_or_exit


@click.command("preview")
@click.option("--stack", "stack", default="dev", show_default=True,
              help="Stack whose Pulumi.<stack>.yaml config is used (dev, staging, prod).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for policy checks and CI.")
@click.option("--system", "systems", multiple=True,
              help="Only these systems (overrides polystore:systems); repeatable.")
def preview(stack: str, fmt: str, systems: tuple[str, ...]) -> None:
    """Show every resource `pulumi up --stack STACK` would create, offline."""
    from infra.config import ConfigError
    from infra.preview import run_preview

    topology = load_or_exit()
    overrides = {"polystore:systems": list(systems)} if systems else None
    try:
        result = run_preview(stack, topology=topology, config_overrides=overrides)
    except (ConfigError, KeyError, ValueError) as exc:
        click.echo(f"polystore preview: {exc.args[0] if exc.args else exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, sort_keys=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"stack {stack}: {len(result['resources'])} resources",
                  show_lines=False)
    for col in ("type", "name", "parent"):
        table.add_column(col)
    for r in result["resources"]:
        parent = (r["parent"] or "").rsplit("::", 1)[-1]
        table.add_row(r["type"], r["name"], parent)
    console = Console(width=160)
    console.print(table)
    counts = Counter(r["type"] for r in result["resources"] if r["custom"])
    console.print(", ".join(f"{n} {t.rsplit(':', 1)[-1]}" for t, n in counts.most_common()))


commands = [preview]
