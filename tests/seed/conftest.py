"""Seed tests: the topology, plan hashing, and a module-scoped local stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from polystore import load_topology
from polystore.topology.model import Topology
from seed.plan import Plan


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


def plan_digest(plan: Plan) -> str:
    return plan.digest()


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
