"""Benchmark the Kafka and Kafka Connect engines: cold starts, restarts, the jar download.

Every start is a fresh data dir (format included) unless it says "restart"; the JVM
tuning (emulation/kafka/jvm.py) is compared with Kafka's stock flags (what
kafka-server-start.sh uses: 1 GB heap, G1, C2, no CDS archive) measured in the same run.
"whole stack" starts Kafka + Connect while `LocalStack.up` starts the other engines
of all five systems (PostgreSQL, DynamoDB, search) and provisions them, in parallel, as
`polystore up` will once Kafka is wired into the registry; the same `up` without Kafka
is its baseline. Rounds interleave the scenarios (the machine's load moves them alike).
Prints medians and ratios.

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

STOCK = "kafka cold, Kafka's stock JVM flags (baseline)"
NO_CDS = "kafka cold, our flags without the CDS archive"
TUNED = "kafka cold (format + start + Metadata answered)"
OTHERS = "5 systems' other engines only (today's `up`), cold"
WHOLE = "whole stack: 5 systems' engines + kafka + connect, cold"
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


def resident(pair: Pair) -> None:
    """Resident memory of the two JVMs, idle just after start."""
    import psutil

    rss = {n: psutil.Process(t.pid).memory_info().rss / 1e6 for n, t in pair.tracked.items()}
    print(
        f"{'resident memory, idle after start':<58} "
        + ", ".join(f"{n} {mb:.0f} MB" for n, mb in sorted(rss.items()))
    )


def connect_cold(pair: Pair) -> None:
    pair.spawn(engine.CONNECT)
    pair.ready(engine.CONNECT)


def restart(pair: Pair) -> None:
    pair.stop()
    pair.spawn(engine.KAFKA)
    pair.spawn(engine.CONNECT)
    pair.ready(engine.KAFKA)
    pair.ready(engine.CONNECT)


def whole_stack(pair: Pair, with_kafka: bool = True) -> None:
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
        if with_kafka:
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
    scenarios: dict[str, Callable[[], float]] = {
        STOCK: lambda: timed(lambda p: kafka_cold(p, "stock")),
        NO_CDS: lambda: timed(lambda p: kafka_cold(p, "no-cds")),
        TUNED: lambda: timed(kafka_cold),
        "connect cold, broker already up (GET /connectors = 200)": lambda: timed(
            connect_cold, setup=lambda p: kafka_cold(p)
        ),
        "kafka + connect cold, in parallel": lambda: timed(both_cold),
        "kafka + connect restart (data kept)": lambda: timed(restart, setup=both_cold),
        OTHERS: lambda: timed(lambda p: whole_stack(p, with_kafka=False)),
        WHOLE: lambda: timed(whole_stack),
    }
    # Rounds interleave the scenarios, so a change in the machine's load during the run
    # moves every scenario alike and the ratios stay meaningful.
    samples: dict[str, list[float]] = {label: [] for label in scenarios}
    for round_no in range(RUNS):
        for label, run in scenarios.items():
            try:
                samples[label].append(run())
                print(f"  round {round_no + 1}: {label}: {samples[label][-1]:.2f} s", flush=True)
            except Exception as exc:  # one failed start must not lose the other figures
                first = (str(exc).splitlines() or [""])[0][:200]
                print(f"  round {round_no + 1}: {label}: FAILED {type(exc).__name__}: {first}")
    med = {label: report(label, values) for label, values in samples.items() if values}
    if {TUNED, STOCK, NO_CDS} <= med.keys():
        print(
            f"{'':<58} tuned / stock = {med[TUNED] / med[STOCK]:.2f}, "
            f"tuned / no-cds = {med[TUNED] / med[NO_CDS]:.2f}"
        )
    if {WHOLE, OTHERS} <= med.keys():
        print(
            f"{'':<58} whole / without kafka = {med[WHOLE] / med[OTHERS]:.2f}; "
            f"target whole <= {TARGET_STACK_S:.0f} s"
        )
    timed(resident, setup=both_cold)
    print(f"load average at end: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")


if __name__ == "__main__":
    main()
