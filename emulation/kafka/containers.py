"""The docker runtime's Kafka and Connect containers, from the same settings as embedded.

Each function returns the keyword arguments of a ``ContainerSpec`` (container port,
volume path, environment, health check); the engine plug-in adds name, image, labels and
host port. The environment is *derived* from ``broker_properties``/``worker_properties``,
so both runtimes run one configuration:

- ``apache/kafka`` turns ``KAFKA_*`` variables into server.properties (``.`` → ``_``,
  ``_`` → ``__``, ``-`` → ``___``) and formats its log dir on first start with
  ``CLUSTER_ID``.
- ``quay.io/debezium/connect`` turns ``CONNECT_*`` variables into worker properties and
  reads ``BOOTSTRAP_SERVERS``, ``GROUP_ID`` and the three ``*_STORAGE_TOPIC`` names.

Containers talk to each other on a second listener (``DOCKER``, the Kafka container's
name on port 19092), so the stack's containers must share a user-defined network; the
host reaches Kafka on ``127.0.0.1:<host port>``.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from emulation.kafka.broker import broker_properties
from emulation.kafka.connect import GROUP_ID, INTERNAL_TOPICS, worker_properties
from emulation.runtimes.containers import HealthCheck

KAFKA_PORT = 9092  # the host-facing listener inside the container
DOCKER_PORT = 19092  # what other containers use
CONTROLLER_PORT = 9093
CONNECT_PORT = 8083
KAFKA_DATA = "/var/lib/kafka/data"
CONNECT_PLUGIN_PATH = "/kafka/connect"  # where the Debezium image keeps its connectors


def kafka_env_name(key: str) -> str:
    """``log.dirs`` → ``KAFKA_LOG_DIRS`` in the apache/kafka image's convention."""
    return "KAFKA_" + key.replace("_", "__").replace("-", "___").replace(".", "_").upper()


def cluster_id(container_name: str) -> str:
    """A stable KRaft cluster id per stack (16 bytes, URL-safe base64, as Kafka wants)."""
    digest = hashlib.sha256(container_name.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def kafka_container(container_name: str, host_port: int) -> dict[str, Any]:
    props = broker_properties(KAFKA_DATA, KAFKA_PORT, CONTROLLER_PORT, host="0.0.0.0")
    props.update({
        "controller.quorum.voters": f"1@localhost:{CONTROLLER_PORT}",
        "listeners": f"HOST://0.0.0.0:{KAFKA_PORT},DOCKER://0.0.0.0:{DOCKER_PORT},"
                     f"CONTROLLER://localhost:{CONTROLLER_PORT}",
        "advertised.listeners": f"HOST://127.0.0.1:{host_port},"
                                f"DOCKER://{container_name}:{DOCKER_PORT}",
        "listener.security.protocol.map": "HOST:PLAINTEXT,DOCKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "DOCKER",
    })  # fmt: skip
    env = {kafka_env_name(k): v for k, v in props.items()}
    env["CLUSTER_ID"] = cluster_id(container_name)
    return {
        "container_port": KAFKA_PORT,
        "volume_path": KAFKA_DATA,
        "environment": env,
        "healthcheck": HealthCheck([
            "CMD-SHELL",
            f"/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server "
            f"localhost:{DOCKER_PORT} >/dev/null",
        ]),
    }  # fmt: skip


def connect_container(kafka_container_name: str) -> dict[str, Any]:
    bootstrap = f"{kafka_container_name}:{DOCKER_PORT}"
    props = worker_properties(bootstrap, CONNECT_PORT, CONNECT_PLUGIN_PATH, host="0.0.0.0")
    # The image sets these from its own variables; the REST address it advertises must
    # be one other containers can reach.
    for key in ("bootstrap.servers", "group.id", "listeners", "rest.advertised.host.name"):
        props.pop(key)
    for kind in INTERNAL_TOPICS:
        props.pop(f"{kind}.storage.topic")
    env = {"CONNECT_" + k.replace(".", "_").upper(): v for k, v in props.items()}
    env.update({
        "BOOTSTRAP_SERVERS": bootstrap,
        "GROUP_ID": GROUP_ID,
        "CONFIG_STORAGE_TOPIC": INTERNAL_TOPICS["config"],
        "OFFSET_STORAGE_TOPIC": INTERNAL_TOPICS["offset"],
        "STATUS_STORAGE_TOPIC": INTERNAL_TOPICS["status"],
    })  # fmt: skip
    return {
        "container_port": CONNECT_PORT,
        "volume_path": "/kafka/data",  # nothing durable: Connect keeps its state in Kafka
        "environment": env,
        "healthcheck": HealthCheck(
            ["CMD-SHELL", f"curl -fs http://127.0.0.1:{CONNECT_PORT}/connectors"]
        ),
    }
