"""The Kafka and Kafka Connect engines, as the runtime registry needs them.

Two engines, started in parallel (Connect's worker waits for the broker by itself, so
its JVM start and plugin loading overlap the broker's start):

- ``kafka``: one KRaft node. Its state is the log dir under ``data_dir``; it needs two
  ports, the client port and the controller port (``CONTROLLER_PORT_KEY`` is the name
  suggested for the second one in the state's port map).
- ``connect``: one distributed-mode worker with Debezium PostgreSQL on its plugin path.
  It keeps everything in Kafka topics; ``data_dir`` holds its configuration only.

``prepare`` does the slow one-time work (jar download, storage format) so that a caller
can show progress for it; ``kafka_command``/``connect_command`` are cheap afterwards.
No runtime wiring lives here: the embedded runtime spawns the argv, redirects its output
to the engine's log file, and polls ``probe`` until it answers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emulation.kafka import broker, connect, probes
from emulation.kafka.jars import Jars, ensure_jars
from emulation.kafka.java import Java, find_java

Progress = Callable[[str], None]
KAFKA = "kafka"
CONNECT = "connect"
CONTROLLER_PORT_KEY = "kafka-controller"
# Cold starts on a loaded 2-core machine measured up to ~20 s (docs/kafka.md).
STARTUP_TIMEOUT = {KAFKA: 90.0, CONNECT: 120.0}


def prepare(data_dir: Path | None, progress: Progress = print) -> tuple[Java, Jars]:
    """Find the JVM, download the jars once, format ``data_dir`` (the broker's) once.

    ``data_dir=None`` prepares the machine only (what Connect needs).
    """
    java = find_java()
    jars = ensure_jars(progress)
    if data_dir is not None:
        broker.format_storage(data_dir, jars, progress)
    return java, jars


def kafka_command(
    data_dir: Path, port: int, controller_port: int, progress: Progress = print
) -> list[str]:
    return broker.kafka_command(data_dir, port, controller_port, progress)


def connect_command(
    data_dir: Path, port: int, bootstrap: str, progress: Progress = print
) -> list[str]:
    return connect.connect_command(data_dir, port, bootstrap, progress)


def command(
    engine: str,
    data_dir: Path,
    ports: dict[str, int],
    host: str = "127.0.0.1",
    progress: Progress = print,
) -> list[str]:
    """The argv of ``engine`` from the state's port map (``kafka``, ``kafka-controller``,
    ``connect``)."""
    if engine == KAFKA:
        return kafka_command(data_dir, ports[KAFKA], ports[CONTROLLER_PORT_KEY], progress)
    if engine == CONNECT:
        return connect_command(data_dir, ports[CONNECT], f"{host}:{ports[KAFKA]}", progress)
    raise KeyError(f"no engine {engine!r} here (known: {KAFKA}, {CONNECT})")


def bootstrap(ports: dict[str, int], host: str = "127.0.0.1") -> str:
    """What ``KAFKA_BOOTSTRAP_SERVERS`` holds locally."""
    return f"{host}:{ports[KAFKA]}"


def url(engine: str, ports: dict[str, int], host: str = "127.0.0.1") -> str:
    """``kafka://127.0.0.1:PORT`` for the broker (what ``status`` shows), ``http://...``
    for Connect's REST API."""
    scheme = "kafka" if engine == KAFKA else "http"
    return f"{scheme}://{host}:{ports[engine]}"


def probe(url: str, timeout: float = 2.0) -> object:
    """A real request: Metadata for ``kafka://host:port`` (or a bare ``host:port``),
    ``GET /connectors`` for ``http://host:port``. Raises when not ready."""
    if url.startswith(("http://", "https://")):
        return probes.connect(url, timeout)
    return probes.kafka(url.removeprefix("kafka://"), timeout)
