"""Every service's OpenAPI, fuzzed with schemathesis: no response is a 5xx.

Cases come from each service's own ``/openapi.json`` (generated routes and write flows
alike); the stack is real, so a request that reaches a store gets a real answer.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from services.app import create_app
from services.config import ServiceConfig
from tests.services.conftest import RecordingPublisher, service_env

pytestmark = pytest.mark.slow
SYSTEMS = ["bellyfed", "order-processor", "inventory", "tcgstore"]
SERVICES = [f"{s}.{svc}" for s, svcs in (
    ("bellyfed", ["restaurant-api"]), ("order-processor", ["user", "order"]),
    ("inventory", ["inventory"]), ("tcgstore", ["catalog", "inventory", "order", "payment"]))
    for svc in svcs]  # fmt: skip


@pytest.mark.parametrize("target", SERVICES)
def test_no_server_errors(stack: LocalStack, topology: Topology, target: str) -> None:
    system, _, service = target.partition(".")
    env = service_env(stack, topology, target)
    env.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # the recorder stands in
    app = create_app(ServiceConfig.from_env(topology.system(system), service, env),
                     RecordingPublisher())  # fmt: skip
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[tuple[Any, ...]] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def fuzz(case: Any) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query, case.body,
                                 response.status_code, response.text[:300]))  # fmt: skip

        fuzz()
    assert operations >= 2  # /health plus at least one generated or written route
    assert failures == []
