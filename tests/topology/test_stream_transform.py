"""A stream-to-search link's transform is checked against its item templates and mapping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import MiniSystem

Problems = Callable[[Path], list[str]]

ITEMS = """    stream: new-and-old-images
    items:
      item:
        key: {PK: "ITEM#{sku}", SK: "META"}
        fields: {sku: string, name: string, colour: string, note: string}
      review:
        key: {PK: "ITEM#{sku}", SK: "REVIEW#{at}"}
        fields: {sku: string, at: timestamp, stars: integer}
"""
GOOD = """    target: items-index
    transform:
      items: [item]
      drop: [PK, SK, sku, note]
"""


@pytest.fixture
def typed(mini: MiniSystem) -> MiniSystem:
    mini.replace("    stream: new-and-old-images\n", ITEMS)
    mini.replace("    target: items-index\n", GOOD)
    return mini


def test_a_complete_transform_is_valid(typed: MiniSystem, problems_of: Problems) -> None:
    assert problems_of(typed.yaml) == []


CASES = [
    ("unknown item type", "items: [item]", "items: [itme]", "items: [itme]",
     "item type 'itme' is not an item of 'items'"),
    ("dropped attribute the templates lack", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku, note, notes]", "drop:",
     "dropped attribute 'notes', which is not a field"),
    ("rename to a field the mapping lacks", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku]\n      rename: {note: remark}", "rename:",
     "'note' is renamed to 'remark', which the mapping of 'items-index' lacks"),
    ("rename of an attribute the templates lack", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku, note]\n      rename: {color: colour}", "rename:",
     "renamed attribute 'color', which is not a field"),
    ("attribute left unmapped under a strict mapping", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku]", "transform:",
     "attribute 'note' of 'items' becomes document field 'note', which the strict mapping"),
    ("derived field the mapping lacks", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku, note]\n      derive: {shade: {from: [colour], op: lowercase}}",
     "derive:", "derived field 'shade' is not in the mapping"),
    ("derived from an attribute the templates lack", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku, note, colour]\n      derive: {colour: {from: [hue], op: lowercase}}",
     "derive:", "derived field 'colour' reads 'hue', which"),
    ("key prefix on a non-key attribute", "items: [item]",
     "items: [item]\n      key_prefixes: {sku: 'X'}", "key_prefixes:",
     "key_prefixes names 'sku', which is not a key attribute"),
    ("id template with a non-key placeholder", "items: [item]",
     "items: [item]\n      id: '{sku}'", "id: '{sku}'", "uses {sku}, which is not a key"),
    ("unknown derive op", "drop: [PK, SK, sku, note]",
     "drop: [PK, SK, sku, note, colour]\n      derive: {colour: {from: [colour], op: shout}}",
     "derive:", "'lowercase'"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "marker", "fragment"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_transform(typed: MiniSystem, problems_of: Problems, old: str, new: str,
                       marker: str, fragment: str) -> None:  # fmt: skip
    typed.replace(old, new)
    problems = problems_of(typed.yaml)
    assert len(problems) == 1, problems
    line = typed.line_of(marker)
    assert problems[0].startswith(f"{typed.yaml}:"), problems[0]
    got_line = int(problems[0].split(":")[1])
    assert abs(got_line - line) <= 1, (problems[0], line)
    assert fragment in problems[0], problems[0]
