"""Shared fixtures: the topology, and a module-scoped local stack in a tmp state dir.

Each test module that needs engines gets one stack for all its tests (starting one
costs seconds), in its own state dir and on its own free ports, so modules can run
in parallel under xdist. The stack is always reset at the end, even after a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulation.engines import ENGINE_NAMES
from emulation.stack import LocalStack, UpResult
from polystore import load_topology
from polystore.topology.model import Topology


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


def engine_pids(stack: LocalStack) -> dict[str, Any]:
    from emulation import procs

    return {e: procs.read_tracked(stack.dir.pids, e) for e in ENGINE_NAMES}


@pytest.fixture(scope="module")
def up_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, topology: Topology
) -> Iterator[tuple[LocalStack, UpResult]]:
    """The embedded stack of the systems named by the module's ``SYSTEMS`` (None: all)."""
    names = getattr(request.module, "SYSTEMS", None)
    stack = LocalStack(tmp_path_factory.mktemp("polystore-state"))
    try:
        result = stack.up(topology.select(names), runtime="embedded")
        yield stack, result
    finally:
        stack.reset()
