"""Topics from the topology: provision them on the local Kafka, and list drift (parity).

Every topic store becomes one topic named by ``polystore.naming.local_name``
(``bellyfed-local-bellyfed.cdc``) with the declared partitions, ``retention.ms`` from
``retention_hours`` and ``cleanup.policy``. Provisioning is idempotent: a missing topic
is created, a topic with fewer partitions than declared is grown, a differing setting is
set; a topic with *more* partitions than declared cannot be shrunk by Kafka, so it is
reported, not touched (``polystore reset`` recreates it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulation.errors import ProvisionError
from emulation.kafka.probes import client_config
from polystore.naming import LOCAL_ENVIRONMENT, local_name
from polystore.topology.model import System, TopicStore

Progress = Callable[[str], None]
REPLICATION = 1  # one broker; MSK Serverless fixes its own (3)
MANAGED_CONFIGS = ("retention.ms", "cleanup.policy")


@dataclass(frozen=True)
class TopicSpec:
    """One declared topic as Kafka sees it."""

    name: str
    where: str  # "system.store", for messages
    partitions: int
    config: dict[str, str]


@dataclass
class ProvisionReport:
    created: list[str] = field(default_factory=list)
    grown: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what provisioning cannot fix

    @property
    def changed(self) -> bool:
        return bool(self.created or self.grown or self.reconfigured)


def topic_config(store: TopicStore) -> dict[str, str]:
    return {
        "retention.ms": str(store.retention_hours * 3_600_000),
        "cleanup.policy": store.cleanup_policy,
    }


def declared(systems: Iterable[System]) -> list[TopicSpec]:
    return [
        TopicSpec(
            local_name(system, name), f"{system.name}.{name}", store.partitions, topic_config(store)
        )
        for system in systems
        for name, store in system.topic_stores().items()
    ]


def _admin(bootstrap: str) -> Any:
    from confluent_kafka.admin import AdminClient

    return AdminClient(client_config(bootstrap))


def _live(admin: Any, names: list[str], timeout: float) -> dict[str, tuple[int, dict[str, str]]]:
    """Partitions and managed settings of those of ``names`` that exist."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    metadata = admin.list_topics(timeout=timeout)
    present = [n for n in names if n in metadata.topics]
    if not present:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, n) for n in present]
    futures = admin.describe_configs(resources, request_timeout=timeout)
    out = {}
    for resource, future in futures.items():
        entries = future.result(timeout=timeout)
        config = {k: entries[k].value for k in MANAGED_CONFIGS if k in entries}
        out[resource.name] = (len(metadata.topics[resource.name].partitions), config)
    return out


def _wait(futures: dict[Any, Any], timeout: float, what: str, exists_ok: bool = False) -> None:
    from confluent_kafka import KafkaError, KafkaException

    for key, future in futures.items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            err = exc.args[0]
            if exists_ok and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # created by a concurrent provisioning: same declaration
            raise ProvisionError(
                f"{what} {getattr(key, 'name', key)}: {err.str()}",
                "read the Kafka log (`polystore status` names it)",
            ) from None


def provision(
    systems: Iterable[System], bootstrap: str, progress: Progress = print, timeout: float = 30.0
) -> ProvisionReport:
    """Create, grow and configure the declared topics; report what cannot be fixed."""
    from confluent_kafka.admin import (
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        NewPartitions,
        NewTopic,
        ResourceType,
    )

    specs = declared(systems)
    report = ProvisionReport()
    if not specs:
        return report
    admin = _admin(bootstrap)
    live = _live(admin, [s.name for s in specs], timeout)
    new = [s for s in specs if s.name not in live]
    if new:
        futures = admin.create_topics(
            [
                NewTopic(
                    s.name,
                    num_partitions=s.partitions,
                    replication_factor=REPLICATION,
                    config=s.config,
                )
                for s in new
            ],
            operation_timeout=timeout,
            request_timeout=timeout,
        )
        _wait(futures, timeout, "creating topic", exists_ok=True)
        report.created = [s.name for s in new]
    grow, alter = [], []
    for spec in specs:
        if spec.name not in live:
            continue
        partitions, config = live[spec.name]
        if partitions < spec.partitions:
            grow.append(NewPartitions(spec.name, spec.partitions))
            report.grown.append(f"{spec.name}: {partitions} → {spec.partitions} partitions")
        elif partitions > spec.partitions:
            report.problems.append(
                f"{spec.name} ({spec.where}) has {partitions} partitions, the topology "
                f"declares {spec.partitions}: Kafka cannot remove partitions "
                "(`polystore reset` recreates the topic)"
            )
        differing = {k: v for k, v in spec.config.items() if config.get(k) != v}
        if differing:
            ops = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in differing.items()
            ]
            alter.append(ConfigResource(ResourceType.TOPIC, spec.name, incremental_configs=ops))
            report.reconfigured.append(
                f"{spec.name}: " + ", ".join(f"{k}={v}" for k, v in sorted(differing.items()))
            )
    if grow:
        _wait(
            admin.create_partitions(grow, operation_timeout=timeout, request_timeout=timeout),
            timeout,
            "adding partitions to",
        )
    if alter:
        _wait(
            admin.incremental_alter_configs(alter, request_timeout=timeout),
            timeout,
            "configuring topic",
        )
    if report.changed:
        _settle(admin, specs, timeout)
    for line in report.created:
        progress(f"kafka: created topic {line}")
    for line in report.grown + report.reconfigured:
        progress(f"kafka: updated topic {line}")
    return report


def _settle(admin: Any, specs: list[TopicSpec], timeout: float) -> None:
    """Wait until the broker serves what the controller accepted.

    Admin calls complete when the controller has committed the change; the broker
    applies the metadata log a moment later, and a Metadata or DescribeConfigs request in
    between still shows the old topic. Provisioning returns only once they agree.
    """
    deadline = time.monotonic() + timeout
    while True:
        live = _live(admin, [s.name for s in specs], timeout)
        if all(
            s.name in live
            and live[s.name][0] >= s.partitions
            and all(live[s.name][1].get(k) == v for k, v in s.config.items())
            for s in specs
        ):
            return
        if time.monotonic() > deadline:
            raise ProvisionError(
                f"the broker did not show the provisioned topics within {timeout:.0f}s",
                "read the Kafka log; `polystore parity` shows what differs",
            )
        time.sleep(0.1)


def parity(systems: Iterable[System], bootstrap: str, timeout: float = 10.0) -> list[str]:
    """Drift between the live topics and the topology, one line each ([] when none).

    Besides missing or differing topics, a topic that carries a selected system's local
    prefix but is declared nowhere is drift too (a mistyped producer, a stale rename).
    """
    systems = list(systems)
    specs = declared(systems)
    admin = _admin(bootstrap)
    live = _live(admin, [s.name for s in specs], timeout)
    lines = []
    for spec in specs:
        if spec.name not in live:
            lines.append(f"topic {spec.name} ({spec.where}): missing")
            continue
        partitions, config = live[spec.name]
        if partitions != spec.partitions:
            lines.append(
                f"topic {spec.name} ({spec.where}): {partitions} partitions, "
                f"declared {spec.partitions}"
            )
        for key, want in spec.config.items():
            if config.get(key) != want:
                lines.append(
                    f"topic {spec.name} ({spec.where}): {key}={config.get(key)}, declared {want}"
                )
    names = {s.name for s in specs}
    prefixes = tuple(f"{system.name}-{LOCAL_ENVIRONMENT}-" for system in systems)
    for topic in sorted(admin.list_topics(timeout=timeout).topics):
        if topic.startswith(prefixes) and topic not in names:
            lines.append(f"topic {topic}: not declared in the topology")
    return lines
