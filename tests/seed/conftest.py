"""Seed tests: the topology, plan hashing, and a module-scoped local stack."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from polystore import load_topology
from polystore.topology.model import Topology
from seed.pg_copy import encode
from seed.plan import Plan


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


def plan_digest(plan: Plan) -> str:
    """A hash of every byte a plan would write (COPY text, items, documents, events)."""
    h = hashlib.sha256()
    for key in plan.order:
        h.update(repr(key).encode())
        for chunk in encode(plan.specs[key], plan.tables[key]):
            h.update(chunk)
    for store in sorted(plan.items):
        for item in plan.items[store]:
            h.update(json.dumps(item, sort_keys=True, default=str).encode())
    for store in sorted(plan.docs):
        h.update(json.dumps(plan.docs[store], sort_keys=True, default=str).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def up_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, topology: Topology
) -> Iterator[Any]:
    """The embedded stack of the module's ``SYSTEMS``, reset at the end."""
    from emulation.stack import LocalStack

    stack = LocalStack(tmp_path_factory.mktemp("polystore-seed-state"))
    try:
        stack.up(topology.select(getattr(request.module, "SYSTEMS", None)), runtime="embedded")
        yield stack
    finally:
        stack.reset()
