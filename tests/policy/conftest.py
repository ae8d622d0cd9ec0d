"""Shared fixtures: the repository topology and compliant previews built from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from polystore.topology.loader import load_topology
from polystore.topology.model import Topology
from tests.policy.stack_builder import build


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def _previews(topology: Topology) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s, e): build(topology.systems[s], e) for s in topology.systems
            for e in ("dev", "staging", "prod")}


@pytest.fixture
def preview(_previews: dict[tuple[str, str], dict[str, Any]]):  # type: ignore[no-untyped-def]
    """preview(system, env) → a fresh deep copy a test may mutate."""
    return lambda system, env="prod": copy.deepcopy(_previews[(system, env)])
