"""Kafka and Kafka Connect as plug-ins of the engine registry, ready to be registered.

Not registered here (the registry's owner wires engines); registering is one line each
in ``emulation/engines/__init__.py: REGISTRY``, e.g. a package ``emulation/engines/kafka``
whose ``__init__`` says ``from emulation.kafka.plugin import KAFKA as ENGINE``, and one
for ``CONNECT``.

- ``kafka`` serves topic stores: provisioning and parity of the declared topics, and
  ``KAFKA_BOOTSTRAP_SERVERS`` for every service that publishes or consumes.
- ``connect`` is needed where a system declares a CDC link. It does not wait for Kafka
  (``after`` stays empty): the worker waits for the broker by itself, so starting both
  at once overlaps the worker's JVM start and plugin loading with the broker's start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.engines.base import Endpoints, Engine, Launch, Progress
from emulation.kafka import engine as kafka_engine

if TYPE_CHECKING:
    from emulation.runtimes.containers import ContainerSpec
    from emulation.state import State, StateDir
    from polystore.topology.model import Store, System


def _bootstrap(ep: Endpoints) -> str:
    return f"{ep.host}:{ep.port(kafka_engine.KAFKA)}"


def _kafka_container_name(state_dir: StateDir) -> str:
    from emulation.runtimes.containers import stack_id

    return f"polystore-{stack_id(state_dir)}-{kafka_engine.KAFKA}"


class KafkaEngine(Engine):
    name = kafka_engine.KAFKA
    kinds = ("topic",)
    scheme = "kafka"
    startup_timeout = kafka_engine.STARTUP_TIMEOUT[kafka_engine.KAFKA]

    def probe(self, ep: Endpoints) -> None:
        kafka_engine.probe(_bootstrap(ep))

    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        kafka_engine.prepare(data, progress)
        return Launch(kafka_engine.kafka_command(data, ep.port(self.name), None, progress))

    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        from emulation.kafka.containers import kafka_container
        from emulation.runtimes.containers import spec

        kw = kafka_container(_kafka_container_name(state_dir), state.ports[self.name])
        return spec(state_dir, state, self.name, **kw)

    def provision(self, systems: list[System], ep: Endpoints, progress: Progress) -> None:
        from emulation.kafka import topics

        report = topics.provision(systems, _bootstrap(ep), progress)
        for problem in report.problems:
            progress(f"kafka: {problem}")

    def parity(self, systems: list[System], ep: Endpoints) -> list[str]:
        from emulation.kafka import topics

        return topics.parity(systems, _bootstrap(ep))

    def service_env(self, system: System, service: str, ep: Endpoints) -> dict[str, str]:
        owns = any(s.kind == "topic" for s in system.stores_of(service).values())
        if not owns and not system.consumed_topics(service):
            return {}
        return {"KAFKA_BOOTSTRAP_SERVERS": _bootstrap(ep)}

    def store_status(
        self, system: System, name: str, store: Store, ep: Endpoints
    ) -> dict[str, Any]:
        from polystore.naming import local_name

        return {"topic": local_name(system, name), "bootstrap": _bootstrap(ep),
                "partitions": getattr(store, "partitions", None)}  # fmt: skip


class ConnectEngine(Engine):
    name = kafka_engine.CONNECT
    kinds = ()
    startup_timeout = kafka_engine.STARTUP_TIMEOUT[kafka_engine.CONNECT]

    def needed(self, systems: list[System]) -> bool:
        return any(system.cdc_links() for system in systems)

    def probe(self, ep: Endpoints) -> None:
        kafka_engine.probe(self.url(ep))

    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        kafka_engine.prepare(None, progress)
        return Launch(
            kafka_engine.connect_command(data, ep.port(self.name), _bootstrap(ep), progress)
        )

    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        from emulation.kafka.containers import connect_container
        from emulation.runtimes.containers import spec

        kw = connect_container(_kafka_container_name(state_dir))
        return spec(state_dir, state, self.name, **kw)


KAFKA = KafkaEngine()
CONNECT = ConnectEngine()
