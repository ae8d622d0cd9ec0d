"""Services against a real local stack: one stack per module, apps in-process.

Apps get their configuration from ``polystore env`` (the same dict the CLI prints),
and a recording publisher in place of Kafka where a test checks what was published.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from emulation import report
from emulation.stack import LocalStack
from polystore import load_topology
from polystore.topology.model import Topology
from services.app import create_app
from services.config import ServiceConfig


class RecordingPublisher:
    """Captures what a service publishes (the events library is tested on its own)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def analytics(self, event: str, pattern: str, params: dict[str, Any], count: int) -> None:
        self.events.append((event, pattern, {"params": params, "results": count}))

    def domain(self, event: str, key: str, data: dict[str, Any]) -> None:
        self.events.append((event, key, data))

    def relay(self, envelopes: list[Any]) -> None:
        """An outbox's rows, relayed with their envelope ids."""
        for env in envelopes:
            self.events.append((env.type, env.key, env.data))

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          topology: Topology) -> Iterator[LocalStack]:  # fmt: skip
    names = request.module.SYSTEMS
    st = LocalStack(tmp_path_factory.mktemp("svc-state"))
    try:
        st.up(topology.select(names), runtime="embedded")
        yield st
    finally:
        st.reset()


def service_env(stack: LocalStack, topology: Topology, target: str) -> dict[str, str]:
    system, _, service = target.partition(".")
    return report.env(stack.dir, topology.system(system), service)


def client_for(stack: LocalStack, topology: Topology, target: str,
               publisher: Any = None) -> TestClient:  # fmt: skip
    """An in-process client of the service (``publisher``: what stands in for Kafka)."""
    system, _, service = target.partition(".")
    env = service_env(stack, topology, target)
    if publisher is not None:
        # The recording publisher stands in for Kafka: nothing connects to this address.
        env.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    config = ServiceConfig.from_env(topology.system(system), service, env)
    return TestClient(create_app(config, publisher),
                      raise_server_exceptions=False)  # fmt: skip


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90.0,
             interval: float = 0.05) -> Any:  # fmt: skip
    """Poll ``check`` until it returns a truthy value (returned), or fail naming ``what``.

    The default bounds a consumer group's join plus delivery on a loaded machine.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(interval)
    raise AssertionError(f"after {timeout}s: {what}")
