"""Checks of a stream-to-search link's transform against its table and its index.

A record that the handler turns into a document the index mapping rejects would fail
forever in the Lambda (and fill the failure queue), so these are load-time errors: every
attribute the transform names must exist on the selected item templates, every field it
produces must exist in the mapping, and with a ``strict`` mapping every attribute left
unrenamed and undropped must be a mapped field too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from polystore.topology.model import DynamoStore, SearchStore, StreamToSearchLink

Found = Iterator[tuple[tuple[Any, ...], str]]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def transform_problems(
    lname: str, link: StreamToSearchLink, src: DynamoStore, dst: SearchStore
) -> Found:
    base = ("links", lname, "transform")
    t = link.transform
    mapped = set(dst.mappings.properties)
    strict = dst.mappings.dynamic in ("strict", "false", False)
    for i, item in enumerate(t.items):
        if item not in src.items:
            known = ", ".join(sorted(src.items)) or "none declared"
            yield (
                (*base, "items", i),
                f"item type {item!r} is not an item of {link.source!r} (items: {known})",
            )
    keys = {k for k in (src.key.hash, src.key.range) if k is not None}
    for attr in t.key_prefixes:
        if attr not in keys:
            yield (
                (*base, "key_prefixes", attr),
                f"key_prefixes names {attr!r}, which is not a key attribute of "
                f"{src.table!r} (keys: {', '.join(sorted(keys))})",
            )
    if t.id is not None:
        for ph in _PLACEHOLDER.findall(t.id):
            if ph not in keys:
                yield (
                    (*base, "id"),
                    f"document id template uses {{{ph}}}, which is not a key attribute of "
                    f"{src.table!r}",
                )
    selected = [n for n in (t.items or tuple(src.items)) if n in src.items]
    # Without item templates the attributes are unknown; only the index side is checked.
    attrs: set[str] | None = (
        {a for n in selected for a in src.items[n].fields} | keys if selected else None
    )

    def attribute(loc: tuple[Any, ...], attr: str, what: str) -> Found:
        if attrs is not None and attr not in attrs:
            yield (
                loc,
                f"{what} {attr!r}, which is not a field of the item templates of "
                f"{link.source!r} ({', '.join(selected)})",
            )

    for attr, field in t.rename.items():
        yield from attribute((*base, "rename", attr), attr, "renamed attribute")
        if field not in mapped:
            yield (
                (*base, "rename", attr),
                f"{attr!r} is renamed to {field!r}, which the mapping of {link.target!r} lacks",
            )
    for i, attr in enumerate(t.drop):
        yield from attribute((*base, "drop", i), attr, "dropped attribute")
    for field, spec in t.derive.items():
        loc = (*base, "derive", field)
        if field not in mapped:
            yield loc, f"derived field {field!r} is not in the mapping of {link.target!r}"
        for attr in spec.source:
            yield from attribute((*loc, "from"), attr, f"derived field {field!r} reads")
        if spec.op != "concat" and len(spec.source) != 1:
            yield (*loc, "from"), f"op {spec.op!r} reads exactly one attribute"
    if attrs is None or not strict:
        return
    dropped = set(t.drop)
    produced: dict[str, str] = {}
    for attr in sorted(attrs - dropped):
        if t.rename.get(attr, attr) not in mapped and attr in t.rename:
            continue  # reported on the rename itself
        produced[t.rename.get(attr, attr)] = attr
    for field, attr in sorted(produced.items()):
        if field in t.derive:
            yield (
                (*base, "derive", field),
                f"derived field {field!r} would overwrite attribute {attr!r}: drop or rename it",
            )
        elif field not in mapped and (not link.fields or field in link.fields):
            how = "rename" if attr == field else "rename it differently"
            yield (
                base,
                f"attribute {attr!r} of {link.source!r} becomes document field {field!r}, "
                f"which the strict mapping of {link.target!r} lacks: drop it or {how}",
            )
