"""Documents for a search index that no link feeds, generated from its mappings."""

from __future__ import annotations

import random
from typing import Any

from polystore.topology.model import SearchStore
from seed import values
from seed.rng import Clock


def doc_value(name: str, ftype: str, rng: random.Random, clock: Clock, n: int) -> Any:
    if ftype == "keyword":
        return values.string_for(name, rng, clock, n, 256)
    if ftype == "text":
        return values.sentence(rng)
    if ftype in ("integer", "long"):
        return rng.randint(0, 1000)
    if ftype in ("float", "double", "scaled_float"):
        return round(rng.uniform(0, 500), 2)
    if ftype == "boolean":
        return rng.random() < 0.5
    if ftype == "date":
        return clock.iso(clock.past(rng))
    raise ValueError(f"no generator for search field type {ftype}")


def generic_docs(
    store: SearchStore, rng: random.Random, clock: Clock, count: int
) -> list[dict[str, Any]]:
    """``count`` documents with every mapped top-level field; ``_id`` is the document id."""
    docs = []
    for n in range(count):
        doc: dict[str, Any] = {"_id": f"doc-{n:06d}"}
        for name, spec in store.mappings.properties.items():
            doc[name] = doc_value(name, spec.type, rng, clock, n)
        docs.append(doc)
    return docs
