"""Benchmark the Kafka and Kafka Connect engines: cold starts, restarts, the jar download.

Every start is a fresh data dir (format included) unless it says "restart"; the JVM
tuning (emulation/kafka/jvm.py) is compared with Kafka's stock flags (what
kafka-server-start.sh uses: 1 GB heap, G1, C2, no CDS archive) measured in the same run.
"whole stack" starts Kafka + Connect while `LocalStack.up` starts the other engines
of all five systems (PostgreSQL, DynamoDB, search) and provisions them, in parallel, as
`polystore up` will once Kafka is wired into the registry. Prints medians.

  .venv/bin/python bench/bench_kafka.py            # BENCH_RUNS=3 by default
  .venv/bin/python bench/bench_kafka.py --download # also a first download into empty caches
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulation import procs  # noqa: E402
from emulation.kafka import engine, jars, versions  # noqa: E402
from emulation.ports import free_port  # noqa: E402
from emulation.waits import wait_for  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET_STACK_S = 12.0
STOCK_FLAGS = [
    "-Xmx1G",
    "-Xms1G",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
]
_OURS = (
    "-Xmx",
    "-Xms",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel",
    "-XX:SharedArchiveFile",
    "-XX:ArchiveClassesAtExit",
    "-Xshare",
)
_CDS = ("-XX:SharedArchiveFile", "-XX:ArchiveClassesAtExit", "-Xshare")
quiet: Callable[[str], None] = lambda _line: None  # noqa: E731


class Pair:
    """A broker and a worker in a temp dir, on free ports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = {
            engine.KAFKA: free_port(),
            engine.CONTROLLER_PORT_KEY: free_port(),
            engine.CONNECT: free_port(),
        }
        self.tracked: dict[str, procs.Tracked] = {}

    def spawn(self, name: str, flags: str = "tuned") -> None:
        """``tuned`` (ours), ``no-cds`` (ours without the archive), ``stock`` (Kafka's)."""
        argv = engine.command(name, self.root / name, self.ports, progress=quiet)
        java, rest = argv[0], argv[1:]
        if flags == "stock":
            argv = [java, *STOCK_FLAGS, *[a for a in rest if not a.startswith(_OURS)]]
        elif flags == "no-cds":
            argv = [java, *[a for a in rest if not a.startswith(_CDS)]]
        self.tracked[name] = procs.spawn_detached(
            name, argv, pids_dir=self.root / "pids", log=self.root / f"{name}.log", cwd=self.root
        )

    def ready(self, name: str) -> None:
        wait_for(
            lambda: engine.probe(engine.url(name, self.ports)),
            what=name,
            timeout=engine.STARTUP_TIMEOUT[name],
            log=self.root / f"{name}.log",
            alive=self.tracked[name].is_alive,
            interval=0.05,
        )

    def stop(self) -> None:
        for name in (engine.CONNECT, engine.KAFKA):
            if name in self.tracked:
                procs.stop(self.tracked.pop(name), pids_dir=self.root / "pids", timeout=60)


def timed(run: Callable[[Pair], None], setup: Callable[[Pair], None] | None = None) -> float:
    with tempfile.TemporaryDirectory(prefix="polystore-bench-kafka-") as tmp:
        pair = Pair(Path(tmp))
        try:
            if setup is not None:
                setup(pair)
            t0 = time.perf_counter()
            run(pair)
            return time.perf_counter() - t0
        finally:
            pair.stop()


def kafka_cold(pair: Pair, flags: str = "tuned") -> None:
    engine.prepare(pair.root / engine.KAFKA, quiet)  # format: part of a cold start
    pair.spawn(engine.KAFKA, flags)
    pair.ready(engine.KAFKA)


def both_cold(pair: Pair) -> None:
    engine.prepare(pair.root / engine.KAFKA, quiet)
    pair.spawn(engine.KAFKA)
    pair.spawn(engine.CONNECT)
    pair.ready(engine.KAFKA)
    pair.ready(engine.CONNECT)


def connect_cold(pair: Pair) -> None:
    pair.spawn(engine.CONNECT)
    pair.ready(engine.CONNECT)


def restart(pair: Pair) -> None:
    pair.stop()
    pair.spawn(engine.KAFKA)
    pair.spawn(engine.CONNECT)
    pair.ready(engine.KAFKA)
    pair.ready(engine.CONNECT)


def whole_stack(pair: Pair) -> None:
    from emulation.stack import LocalStack
    from polystore import load_topology

    systems = load_topology().select(None)
    stack = LocalStack(pair.root / "state")
    errors: list[BaseException] = []

    def others() -> None:
        try:
            stack.up(systems, runtime="embedded")
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=others)
    try:
        thread.start()
        both_cold(pair)
        thread.join()
    finally:
        thread.join()
        stack.reset()
    if errors:
        raise errors[0]


def report(label: str, samples: list[float], extra: str = "") -> float:
    med = statistics.median(samples)
    print(
        f"{label:<58} median {med:6.2f} s  (min {min(samples):.2f}, max {max(samples):.2f}){extra}"
    )
    return med


def download() -> None:
    """A first download into empty caches (Maven's and ours), timed."""
    with tempfile.TemporaryDirectory(prefix="polystore-bench-m2-") as tmp:
        env = dict(
            os.environ, XDG_CACHE_HOME=f"{tmp}/xdg", MAVEN_OPTS=f"-Dmaven.repo.local={tmp}/m2"
        )
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from emulation.kafka.jars import ensure_jars; ensure_jars(print)",
            ],
            check=True,
            env=env,
            cwd=ROOT,
        )
        took = time.perf_counter() - t0
        fetched = sum(f.stat().st_size for f in Path(f"{tmp}/m2").rglob("*") if f.is_file())
        print(
            f"first download (empty ~/.m2 and cache): {took:.1f} s, {fetched / 1e6:.0f} MB "
            f"fetched by Maven (jars, poms, plugins)"
        )


def main() -> None:
    pins = jars.ensure_jars(print)
    size = sum(f.stat().st_size for f in pins.root.rglob("*.jar"))
    print(
        f"Kafka {versions.kafka_version()}, Debezium {versions.debezium_version()}; "
        f"cores: {os.cpu_count()}; load average at start: {os.getloadavg()[0]:.1f}"
    )
    print(f"jars in the cache: {size / 1e6:.0f} MB ({pins.root})")
    if "--download" in sys.argv:
        download()
    # one throwaway start per role so every class-data-sharing archive exists
    timed(both_cold)
    timed(both_cold)
    stock = report(
        "kafka cold, Kafka's stock JVM flags (baseline)",
        [timed(lambda p: kafka_cold(p, "stock")) for _ in range(RUNS)],
    )
    no_cds = report(
        "kafka cold, our flags without the CDS archive",
        [timed(lambda p: kafka_cold(p, "no-cds")) for _ in range(RUNS)],
    )
    tuned = report(
        "kafka cold (format + start + Metadata answered)", [timed(kafka_cold) for _ in range(RUNS)]
    )
    print(f"{'':<58} tuned / stock = {tuned / stock:.2f}, tuned / no-cds = {tuned / no_cds:.2f}")
    report(
        "connect cold, broker already up (GET /connectors = 200)",
        [timed(connect_cold, setup=lambda p: kafka_cold(p)) for _ in range(RUNS)],
    )
    report("kafka + connect cold, in parallel", [timed(both_cold) for _ in range(RUNS)])
    report(
        "kafka + connect restart (data kept)",
        [timed(restart, setup=both_cold) for _ in range(RUNS)],
    )
    report(
        "whole stack: 5 systems' engines + kafka + connect, cold",
        [timed(whole_stack) for _ in range(RUNS)],
        f"  target <= {TARGET_STACK_S:.0f} s",
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")


if __name__ == "__main__":
    main()
