"""``polystore validate | show | diagram``: read the topology, check it, draw it."""

from __future__ import annotations

import json
from collections import Counter

import click
from rich.console import Console
from rich.table import Table

from polystore.cli.common import load_or_exit, select_or_exit
from polystore.topology.describe import describe_topology, store_summary
from polystore.topology.diagram import diagram as mermaid
from polystore.topology.model import System

stacks_option = click.option(
    "--stacks",
    "stacks",
    multiple=True,
    type=click.Path(),
    help="Topology files or directories (default: stacks/).",
)


def _summary(system: System) -> str:
    kinds = Counter(s.kind for s in system.stores.values())
    stores = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return (
        f"ok  {system.name}: {len(system.services)} services, {len(system.stores)} stores "
        f"({stores}), {len(system.links)} links, {len(system.access_patterns)} access patterns, "
        f"{len(system.references)} references"
    )


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Validate stacks/ (or the given files or directories).

    Prints one line per system. On any problem prints `path:line: message` per problem
    and exits with status 2.
    """
    topology = load_or_exit(paths)
    for system in topology.select(None):
        click.echo(_summary(system))


@click.command()
@click.argument("systems", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json is the stable machine interface (see README).",
)
@stacks_option
def show(systems: tuple[str, ...], fmt: str, stacks: tuple[str, ...]) -> None:
    """Show systems, services, stores, links and access patterns."""
    topology = load_or_exit(stacks)
    chosen = select_or_exit(topology, systems)
    if fmt == "json":
        click.echo(json.dumps(describe_topology(topology, chosen), indent=2))
        return
    console = Console()
    for system in chosen:
        console.rule(f"[bold]{system.name}[/] — {system.description}")
        stores = Table("store", "kind", "owner", "details", title="stores", title_justify="left")
        for name, store in system.stores.items():
            stores.add_row(name, store.kind, store.owner, store_summary(store))
        console.print(stores)
        if system.links:
            links = Table("link", "kind", "flow", title="links", title_justify="left")
            for name, link in system.links.items():
                d = link.model_dump()
                if link.kind == "event":
                    flow = f"{d['producer']} → {d['event']} → {', '.join(d['consumers'])}"
                elif link.kind == "analytics":
                    flow = f"{d['producer']} → {', '.join(d['events'])}"
                elif link.kind == "cdc":
                    flow = f"{d['source']} → {d['topic']} → {d['target']}"
                else:
                    flow = f"{d['source']} → {d['target']}"
                links.add_row(name, link.kind, flow)
            console.print(links)
        patterns = Table(
            "access pattern",
            "store",
            "via",
            "condition",
            title="access patterns",
            title_justify="left",
        )
        for name, ap in system.access_patterns.items():
            via = ap.index or ("search" if ap.operation == "search" else "primary key")
            cond = ap.key_condition or " ".join(ap.text_fields)
            patterns.add_row(name, ap.store, via, cond)
        console.print(patterns)


@click.command()
@click.argument("system")
@stacks_option
def diagram(system: str, stacks: tuple[str, ...]) -> None:
    """Mermaid diagrams of SYSTEM: services/stores/links, and an ER diagram per database."""
    topology = load_or_exit(stacks)
    [chosen] = select_or_exit(topology, [system])
    click.echo(mermaid(chosen), nl=False)


commands = [validate, show, diagram]
