"""ecommerce's ten services fuzzed with schemathesis (the same check as
``test_schemathesis.py``, over the ecommerce stack): no response is a 5xx."""

from __future__ import annotations

import pytest

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.test_schemathesis import test_no_server_errors as no_server_errors

pytestmark = pytest.mark.slow
SYSTEMS = ["ecommerce"]
SERVICES = [f"ecommerce.{s}" for s in ("auth", "user", "product", "order", "payment",
                                       "notification", "cart", "discount", "shipping",
                                       "return")]  # fmt: skip


@pytest.mark.parametrize("target", SERVICES)
def test_no_server_errors(stack: LocalStack, topology: Topology, target: str) -> None:
    no_server_errors(stack, topology, target)
