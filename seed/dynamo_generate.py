"""Items for any DynamoDB store, generated from its declared item types.

An item type gives key templates (``"TRANS#{username}#{asset_id}"``) and field types
(``string``, ``decimal-string``, ``timestamp``, ...); each generated item has every field
of its type, keys rendered from the fields, and key attributes of the type the table
declares (``N`` keys become numbers). Domain generators produce items of the same shape
for realism; ``render_keys`` and ``to_wire`` are shared with them.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal
from typing import Any

from polystore.topology.model import DynamoStore, ItemType
from seed import values
from seed.rng import Clock

Item = dict[str, Any]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def field_value(name: str, ftype: str, rng: random.Random, clock: Clock, n: int) -> Any:
    if ftype == "string":
        return values.string_for(name, rng, clock, n, None)
    if ftype == "decimal-string":
        return str(values.money(rng, 1, 500))
    if ftype == "integer":
        return rng.randint(1, 100) if "number" not in name.lower() else n + 1
    if ftype == "number":
        return Decimal(rng.randint(0, 100_000)).scaleb(-2)
    if ftype == "timestamp":
        return clock.iso(clock.past(rng))
    if ftype == "boolean":
        return rng.random() < 0.5
    if ftype == "epoch-seconds":
        return int(clock.after(rng, clock.now, 365).timestamp())
    if ftype == "map":
        return {"source": "seed", "n": n}
    if ftype == "list":
        return [values.words(rng, 1) for _ in range(2)]
    if ftype == "string-set":
        return set(rng.sample(values.vocab.WORDS, 2))
    raise ValueError(f"unknown field type {ftype}")


def render_keys(store: DynamoStore, item_type: ItemType, item: Item) -> Item:
    """Add the key attributes of ``item_type`` (rendered from the item's fields)."""
    for attr, template in item_type.key.items():
        text = _PLACEHOLDER.sub(lambda m: str(item[m.group(1)]), template)
        item[attr] = Decimal(text) if store.attributes.get(attr) == "N" else text
    return item


def key_of(store: DynamoStore, item: Item) -> tuple[Any, ...]:
    return (item[store.key.hash], item.get(store.key.range) if store.key.range else None)


def generic_items(
    store: DynamoStore, rng: random.Random, clock: Clock, count_per_type: int
) -> list[Item]:
    """``count_per_type`` items of every declared item type, keys unique."""
    out: list[Item] = []
    seen: set[tuple[Any, ...]] = set()
    for name, itype in store.items.items():
        for n in range(count_per_type):
            for _ in range(10):
                item: Item = {}
                for f, ftype in itype.fields.items():
                    item[f] = field_value(f, ftype, rng, clock, n)
                for attr, template in itype.key.items():
                    for ph in _PLACEHOLDER.findall(template):
                        if ph not in item:
                            item[ph] = (
                                f"{name}-{n}"
                                if ph not in store.attributes or store.attributes[ph] == "S"
                                else n + 1
                            )
                    del attr
                render_keys(store, itype, item)
                k = key_of(store, item)
                if k not in seen:
                    seen.add(k)
                    out.append(item)
                    break
    return out


def to_wire(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (the low-level client's shape)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal | float):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: to_wire(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [to_wire(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"SS": sorted(value)}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def item_to_wire(item: Item) -> dict[str, Any]:
    return {k: to_wire(v) for k, v in item.items() if v is not None}


def from_wire(av: dict[str, Any]) -> Any:
    ((kind, v),) = av.items()
    if kind == "S":
        return v
    if kind == "N":
        return Decimal(v)
    if kind == "BOOL":
        return v
    if kind == "M":
        return {k: from_wire(x) for k, x in v.items()}
    if kind == "L":
        return [from_wire(x) for x in v]
    if kind == "SS":
        return set(v)
    if kind == "NULL":
        return None
    return v
