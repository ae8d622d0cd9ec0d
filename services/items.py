"""Build DynamoDB items from the topology's item templates: flows never restate a key.

``key(store, "balance", username="bob")`` is ``{"PK": {"S": "bob"}, "SK": {"S":
"BALANCE"}}`` because the store declares ``balance: {key: {PK: "{username}", SK:
BALANCE}}``; ``item(...)`` adds the fields, typed by their declared field types.
"""

from __future__ import annotations

import re
from typing import Any

from polystore.topology.model import DynamoStore

_NUMBERS = ("integer", "number", "epoch-seconds")


def _fill(template: str, values: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise KeyError(f"template {template!r} needs {name!r}")
        return str(values[name])

    return re.sub(r"{([A-Za-z_][A-Za-z0-9_]*)}", sub, template)


def key(store: DynamoStore, item_type: str, **values: Any) -> dict[str, dict[str, str]]:
    spec = store.items[item_type]
    return {attr: {store.attributes.get(attr, "S"): _fill(t, values)}
            for attr, t in spec.key.items()}  # fmt: skip


def typed(store: DynamoStore, item_type: str, field: str, value: Any) -> dict[str, Any]:
    kind = store.items[item_type].fields.get(field, "string")
    if value is None:
        return {"NULL": True}
    if kind in _NUMBERS:
        return {"N": str(value)}
    if kind == "boolean":
        return {"BOOL": bool(value)}
    if kind == "string-set":
        return {"SS": sorted(str(v) for v in value)}
    return {"S": str(value)}


def item(store: DynamoStore, item_type: str, **values: Any) -> dict[str, Any]:
    """The whole item: its key attributes plus every declared field given in ``values``."""
    spec = store.items[item_type]
    unknown = set(values) - set(spec.fields) - {p for t in spec.key.values()
                                                for p in re.findall(r"{(\w+)}", t)}  # fmt: skip
    if unknown:
        raise KeyError(f"{item_type} has no fields {sorted(unknown)}")
    out: dict[str, Any] = key(store, item_type, **values)
    for field, value in values.items():
        if field in spec.fields and field not in out:
            out[field] = typed(store, item_type, field, value)
    return out
