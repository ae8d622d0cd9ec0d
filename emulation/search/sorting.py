"""Sort specifications of a search (``sort``) and the comparison of sort values.

Missing values sort last (or first with ``missing: _first``) whatever the direction, as
in OpenSearch; ties keep index order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulation.search.errors import parsing, unsupported


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    missing_first: bool


def parse_sort(spec: Any) -> list[SortKey]:
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    keys: list[SortKey] = []
    for item in items:
        if isinstance(item, str):
            name, _, order = item.partition(":")
            keys.append(
                SortKey(name, (order or ("desc" if name == "_score" else "asc")) == "desc", False)
            )
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise parsing("[sort] malformed")
        name, conf = next(iter(item.items()))
        if isinstance(conf, str):
            conf = {"order": conf}
        if not isinstance(conf, dict):
            raise parsing(f"[sort] malformed value for [{name}]")
        extra = set(conf) - {"order", "missing", "unmapped_type", "mode", "numeric_type", "format"}
        if extra:
            raise unsupported(f"sort option [{sorted(extra)[0]}]")
        default = "desc" if name == "_score" else "asc"
        order = str(conf.get("order", default)).lower()
        if order not in ("asc", "desc"):
            raise parsing(f"[sort] unknown order [{order}]")
        missing = conf.get("missing", "_last")
        if missing not in ("_last", "_first"):
            raise unsupported("sort [missing] with a custom value")
        keys.append(SortKey(name, order == "desc", missing == "_first"))
    return keys


def compare_values(keys: list[SortKey], a: list[Any], b: list[Any]) -> int:
    for key, x, y in zip(keys, a, b, strict=True):
        if x == y:
            continue
        if x is None or y is None:
            # Missing values go last (or first) whatever the direction.
            first_missing = -1 if key.missing_first else 1
            return first_missing if x is None else -first_missing
        result = -1 if x < y else 1
        return -result if key.descending else result
    return 0


def compare_rows(keys: list[SortKey], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    found = compare_values(keys, a[0], b[0])
    if found:
        return found
    return -1 if a[1] < b[1] else 1 if a[1] > b[1] else 0
