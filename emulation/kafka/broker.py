"""The Kafka broker: one KRaft node (broker + controller in one process) on 127.0.0.1.

``broker_properties`` is the configuration both runtimes use (the docker runtime passes
it as ``KAFKA_*`` variables); ``kafka_command`` writes it under the data dir, formats the
log dir once (``kafka-storage format``: the cluster id is kept in ``cluster-id``, so a
re-format after a wipe of ``kraft/`` keeps the id clients saw), and returns the argv.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from emulation.errors import EmulationError
from emulation.kafka.jars import Jars, ensure_jars
from emulation.kafka.java import find_java
from emulation.kafka.jvm import jvm_command, write_log4j
from emulation.ports import LOOPBACK, free_port, is_free

Progress = Callable[[str], None]
MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
NODE_ID = 1
LOG_SUBDIR = "kraft"
# Kafka's defaults assume a production cluster: 50-partition internal topics, a 128 MB
# log-cleaner buffer, 3 s before a new group's first rebalance. None of it helps here.
_SMALL_NODE = {
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "5",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "5",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "share.coordinator.state.topic.num.partitions": "5",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "background.threads": "2",
    "num.recovery.threads.per.data.dir": "1",
    "log.cleaner.threads": "1",
    "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    # As on MSK Serverless: a topic exists because the topology (or a connector's
    # explicit topic creation) made it, never because a client mistyped a name.
    "auto.create.topics.enable": "false",
}


def broker_properties(
    log_dir: str, port: int, controller_port: int, host: str = LOOPBACK
) -> dict[str, str]:
    """The broker's server.properties, listening on ``host`` only."""
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": log_dir,
        **_SMALL_NODE,
    }


def write_properties(path: Path, props: dict[str, str]) -> Path:
    text = "# Written by polystore (emulation/kafka); rewritten at every start.\n" + "".join(
        f"{key}={value}\n" for key, value in props.items()
    )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def cluster_id(data_dir: Path) -> str:
    """The KRaft cluster id of this data dir, made once (22 chars of URL-safe base64)."""
    path = data_dir / "cluster-id"
    if path.exists():
        return path.read_text().strip()
    value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    path.write_text(value + "\n")
    return value


def is_formatted(data_dir: Path) -> bool:
    return (data_dir / LOG_SUBDIR / "meta.properties").exists()


def format_storage(data_dir: Path, jars: Jars, progress: Progress = print) -> None:
    """``kafka-storage format`` the log dir once; a formatted dir is left alone.

    The ports written here are placeholders: with a static voter set, format stores the
    cluster id, node id and feature levels, not addresses, so later ports may differ.
    """
    if is_formatted(data_dir):
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    config = write_properties(
        data_dir / "format.properties", broker_properties(str(data_dir / LOG_SUBDIR), 9092, 9093)
    )
    progress("kafka: formatting the KRaft log dir (first start)")
    command = jvm_command(
        find_java(),
        "format",
        jars.classpath(jars.broker),
        STORAGE_TOOL,
        # `--cluster-id=ID`, not `-t ID`: a base64 id may begin with "-" (1 run in 64)
        ["format", "--ignore-formatted", f"--cluster-id={cluster_id(data_dir)}",
         "-c", str(config)],
        log4j=write_log4j(data_dir),
        cds_dir=jars.root / "cds",
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    # kept for diagnosis: the error below quotes only its end
    (data_dir / "format.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not is_formatted(data_dir):
        raise EmulationError(
            f"kafka-storage format of {data_dir / LOG_SUBDIR} failed (exit {done.returncode}):\n"
            + "\n".join((done.stdout + done.stderr).splitlines()[-15:]),
            f"read {data_dir / 'format.log'}; `polystore reset` wipes a broken state dir",
        )


def kept_controller_port(data_dir: Path) -> int:
    """The controller listener's port, chosen free at first start and kept in the data dir.

    Only the broker itself connects to it, and a static voter set stores no address,
    so when the kept port is taken by then, another is chosen without harm.
    """
    path = data_dir / "controller-port"
    try:
        port = int(path.read_text())
    except (OSError, ValueError):
        port = 0
    if not port or not is_free(port):
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{port}\n")
    return port


def kafka_command(
    data_dir: Path, port: int, controller_port: int | None = None, progress: Progress = print
) -> list[str]:
    """The broker's argv (config written under ``data_dir``; log dir formatted once).

    ``controller_port=None`` uses the one kept in the data dir,
    so a runtime with one port per engine needs nothing more.
    """
    jars = ensure_jars(progress)
    format_storage(data_dir, jars, progress)
    if controller_port is None:
        controller_port = kept_controller_port(data_dir)
    config = write_properties(
        data_dir / "server.properties",
        broker_properties(str(data_dir / LOG_SUBDIR), port, controller_port),
    )
    return jvm_command(
        find_java(),
        "broker",
        jars.classpath(jars.broker),
        MAIN,
        [str(config)],
        log4j=write_log4j(data_dir),
        cds_dir=jars.root / "cds",
    )
