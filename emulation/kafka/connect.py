"""The Kafka Connect worker, in distributed mode, with Debezium on its plugin path.

Distributed rather than standalone, with one worker, because:
- connectors registered through the REST API (as the CDC provisioning and AWS's Connect
  on ECS both do) are kept in the config topic: they survive a restart; a standalone
  worker forgets every connector not passed on its command line;
- source offsets (Debezium's LSN) go to a compacted topic written with acks=all, so they
  are as durable as the data, with nothing extra under the state dir to keep in step;
- the REST API and its semantics are those of the Connect cluster in AWS.
The cost, a group join at start, is kept small: no delay before reassigning work after
a restart (``scheduled.rebalance.max.delay.ms=0``), a short session timeout so a killed
worker's membership expires fast, and offsets flushed every second.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emulation.kafka.broker import write_properties
from emulation.kafka.jars import ensure_jars
from emulation.kafka.java import find_java
from emulation.kafka.jvm import jvm_command, write_log4j
from emulation.ports import LOOPBACK

Progress = Callable[[str], None]
MAIN = "org.apache.kafka.connect.cli.ConnectDistributed"
GROUP_ID = "polystore-connect"
INTERNAL_TOPICS = {
    "config": "polystore-connect-configs",
    "offset": "polystore-connect-offsets",
    "status": "polystore-connect-status",
}


def worker_properties(
    bootstrap: str, port: int, plugin_path: str, host: str = LOOPBACK
) -> dict[str, str]:
    """The worker's properties, REST on ``host:port`` only."""
    props = {
        "bootstrap.servers": bootstrap,
        "group.id": GROUP_ID,
        "listeners": f"http://{host}:{port}",
        "rest.advertised.host.name": host,
        "rest.advertised.port": str(port),
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "offset.flush.interval.ms": "1000",
        "scheduled.rebalance.max.delay.ms": "0",
        "session.timeout.ms": "6000",  # the broker's group.min.session.timeout.ms
        "heartbeat.interval.ms": "2000",
        "plugin.path": plugin_path,
        # Plugins declare themselves in META-INF/services (Kafka's and Debezium's do):
        # reading those manifests is seconds faster than scanning every class.
        "plugin.discovery": "service_load",
    }
    for kind, topic in INTERNAL_TOPICS.items():
        props[f"{kind}.storage.topic"] = topic
        props[f"{kind}.storage.replication.factor"] = "1"
    props["offset.storage.partitions"] = "1"
    props["status.storage.partitions"] = "1"
    return props


def connect_command(
    data_dir: Path, port: int, bootstrap: str, progress: Progress = print
) -> list[str]:
    """The worker's argv; its configuration is written under ``data_dir``.

    The worker keeps nothing on disk (configs, offsets and status live in Kafka), so
    ``data_dir`` holds only its configuration and log settings.
    """
    jars = ensure_jars(progress)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = write_properties(
        data_dir / "worker.properties", worker_properties(bootstrap, port, str(jars.plugin_path))
    )
    return jvm_command(
        find_java(),
        "connect",
        jars.classpath(jars.connect),
        MAIN,
        [str(config)],
        log4j=write_log4j(data_dir),
        cds_dir=jars.root / "cds",
    )
