"""Mermaid diagrams of a system: a flowchart of services, stores and links, and one ER
diagram per PostgreSQL database built from its migrations (not from the YAML)."""

from __future__ import annotations

import re

from polystore.topology.model import (
    AnalyticsLink,
    CdcLink,
    EventLink,
    StreamToSearchLink,
    System,
)

_SHAPES = {
    "postgres": ('[("', '")]'),  # cylinder
    "dynamodb": ('[("', '")]'),
    "search": ('{{"', '"}}'),  # hexagon
    "topic": ('>"', '"]'),  # flag
}


def _id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def flowchart(system: System) -> str:
    lines = ["flowchart LR"]
    for svc in system.services:
        lines.append(f'  subgraph {_id("grp", svc)}["service {svc}"]')
        lines.append(f'    {_id("svc", svc)}(["{svc}"])')
        for name, store in system.stores_of(svc).items():
            left, right = _SHAPES[store.kind]
            label = f"{store.kind}: {name}"
            lines.append(f"    {_id('st', name)}{left}{label}{right}")
            lines.append(f"    {_id('svc', svc)} --- {_id('st', name)}")
        lines.append("  end")
    for name, link in system.links.items():
        if isinstance(link, StreamToSearchLink):
            lines.append(f"  {_id('st', link.source)} -->|stream: {name}| {_id('st', link.target)}")
        elif isinstance(link, CdcLink):
            lines.append(f"  {_id('st', link.source)} -->|CDC {name}| {_id('st', link.topic)}")
            lines.append(f"  {_id('st', link.topic)} -->|sink| {_id('st', link.target)}")
        elif isinstance(link, EventLink):
            lines.append(
                f"  {_id('svc', link.producer)} -.->|{link.event}| {_id('st', link.topic)}"
            )
            lines.extend(
                f"  {_id('st', link.topic)} -.->|{link.event}| {_id('svc', c)}"
                for c in link.consumers
            )
        elif isinstance(link, AnalyticsLink):
            events = ", ".join(link.events)
            lines.append(f"  {_id('svc', link.producer)} -.->|{events}| {_id('st', link.topic)}")
    return "\n".join(lines)


def _er_type(sql_type: str) -> str:
    # Mermaid ER attribute types are single words.
    return re.sub(r"[^A-Za-z0-9_]", "_", sql_type.split("(")[0].split(".")[-1])


def er_diagram(system: System, store: str) -> str:
    schema = system.schema(store)
    lines = ["erDiagram"]
    fk_cols = {(fk.table, c) for fk in schema.foreign_keys for c in fk.columns}
    for table in schema.base_tables().values():
        lines.append(f"  {table.name} {{")
        for col in table.columns.values():
            marks = []
            if col.name in table.primary_key:
                marks.append("PK")
            if (table.name, col.name) in fk_cols:
                marks.append("FK")
            tail = f" {','.join(marks)}" if marks else ""
            lines.append(f"    {_er_type(col.type)} {col.name}{tail}")
        lines.append("  }")
    for fk in schema.foreign_keys:
        label = ", ".join(fk.columns)
        lines.append(f'  {fk.ref_table} ||--o{{ {fk.table} : "{label}"')
    return "\n".join(lines)


def diagram(system: System) -> str:
    """Markdown with every diagram of the system, each in a ```mermaid block."""
    out = [f"# {system.name}", "", "```mermaid", flowchart(system), "```"]
    for name, store in system.postgres_stores().items():
        out += [
            "",
            f"## {name} ({store.database})",
            "",
            "```mermaid",
            er_diagram(system, name),
            "```",
        ]
    return "\n".join(out) + "\n"
