"""Real Kafka and Kafka Connect processes for the tests, in a temp dir on free ports.

The jars are resolved once per machine into the user cache (the first run downloads
them from Maven Central); each test module that needs engines gets one broker and one
worker, started in parallel as the embedded runtime does, stopped at the end.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulation import procs
from emulation.kafka import engine
from emulation.kafka.jars import Jars
from emulation.ports import free_port
from emulation.waits import wait_for
from polystore import load_topology
from polystore.topology.model import Topology


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def kafka_jars() -> Jars:
    started = time.monotonic()
    _java, jars = engine.prepare(None, progress=lambda line: print(line, file=sys.stderr))
    print(f"kafka jars ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return jars


@dataclass
class KafkaProcesses:
    """A broker and a Connect worker under ``root``, started and stopped like engines."""

    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    tracked: dict[str, procs.Tracked] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return engine.bootstrap(self.ports)

    @property
    def connect_url(self) -> str:
        return engine.url(engine.CONNECT, self.ports)

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def data(self, name: str) -> Path:
        return self.root / name

    def start(self, names: tuple[str, ...] = (engine.KAFKA, engine.CONNECT)) -> None:
        for name in names:
            command = engine.command(name, self.data(name), self.ports, progress=lambda _: None)
            self.tracked[name] = procs.spawn_detached(
                name, command, pids_dir=self.root / "pids", log=self.log(name), cwd=self.root
            )
        for name in names:
            url = engine.url(name, self.ports)
            wait_for(
                lambda url=url: engine.probe(url),
                what=name,
                timeout=engine.STARTUP_TIMEOUT[name],
                log=self.log(name),
                alive=self.tracked[name].is_alive,
            )

    def stop(self, names: tuple[str, ...] = (engine.CONNECT, engine.KAFKA)) -> None:
        for name in names:
            if name in self.tracked:
                procs.stop(self.tracked.pop(name), pids_dir=self.root / "pids", timeout=60)

    def kill9(self, name: str) -> None:
        tracked = self.tracked.pop(name)
        os.kill(tracked.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while tracked.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not tracked.is_alive(), f"{name} (pid {tracked.pid}) survived SIGKILL"
        (self.root / "pids" / f"{name}.json").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def kafka_procs(
    kafka_jars: Jars, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaProcesses]:
    root = tmp_path_factory.mktemp("kafka")
    ports = {
        engine.KAFKA: free_port(),
        engine.CONTROLLER_PORT_KEY: free_port(),
        engine.CONNECT: free_port(),
    }
    stack = KafkaProcesses(root, ports)
    engine.prepare(stack.data(engine.KAFKA), progress=lambda _: None)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
