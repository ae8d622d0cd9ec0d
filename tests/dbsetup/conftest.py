from __future__ import annotations

import pytest

from polystore import load_topology
from polystore.topology.model import Topology


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()
