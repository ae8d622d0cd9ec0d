"""JVM flags for the broker and the worker: small, fast to start, logging to stdout.

Tuned for a developer machine running the whole stack (2 cores): a bounded heap, the
serial collector (no GC threads competing with the other engines), C1 only
(``TieredStopAtLevel=1``: start-up is class loading and interpretation; C2's peak speed
is not what a local stack needs), and a class-data-sharing archive per role, written
when the JVM first exits and mapped on every later start (measured: a broker answers
its first metadata request ~40% sooner with it; docs/kafka.md). ``POLYSTORE_KAFKA_OPTS``
and ``POLYSTORE_CONNECT_OPTS`` add or override flags (the last occurrence wins).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import time
from pathlib import Path

from emulation.kafka.java import Java

HEAP = {"broker": "512m", "connect": "512m", "format": "256m"}
EXTRA_OPTS_ENV = {"broker": "POLYSTORE_KAFKA_OPTS", "connect": "POLYSTORE_CONNECT_OPTS"}
# A just-written archive is adopted once its writer has surely finished (the JVM writes
# it in well under a second while exiting).
_SETTLE_S = 5.0

LOG4J2 = """\
# Written by polystore (emulation/kafka/jvm.py): everything to stdout, which the runtime
# appends to the engine's log file. Config dumps and per-plugin lines are left out.
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.plugins.name = org.apache.kafka.connect.runtime.isolation
logger.plugins.level = WARN
logger.utils.name = org.apache.kafka.common.utils.AppInfoParser
logger.utils.level = WARN
logger.rest.name = org.apache.kafka.connect.runtime.rest.RestServer
logger.rest.level = WARN
"""


def write_log4j(data_dir: Path) -> Path:
    path = data_dir / "log4j2.properties"
    if not path.exists() or path.read_text() != LOG4J2:
        path.write_text(LOG4J2)
    return path


def cds_flags(java: Java, role: str, classpath: str, cds_dir: Path) -> list[str]:
    """Map this role's archive if one exists; otherwise ask this run to write one.

    The archive depends on the exact JVM build and classpath, so both are in its name.
    The JVM writes it at exit to a private name (two first runs never write one file);
    a later call adopts it. A stale or foreign archive is ignored by the JVM itself.
    """
    key = hashlib.sha256(f"{java.version_line}\0{java.executable}\0{classpath}".encode())
    final = cds_dir / f"{role}-{key.hexdigest()[:12]}.jsa"
    cds_dir.mkdir(parents=True, exist_ok=True)
    for pending in sorted(cds_dir.glob(final.name + ".*.tmp")):
        try:  # another start may adopt or drop the same file meanwhile
            info = pending.stat()
            if time.time() - info.st_mtime <= _SETTLE_S:
                continue
            if info.st_size and not final.exists():
                pending.replace(final)
            else:  # a second first run's archive: one is enough
                pending.unlink()
        except FileNotFoundError:
            continue
    if final.exists():
        return [f"-XX:SharedArchiveFile={final}", "-Xshare:auto"]
    return [f"-XX:ArchiveClassesAtExit={final}.{secrets.token_hex(4)}.tmp"]


def jvm_command(
    java: Java,
    role: str,
    classpath: str,
    main: str,
    args: list[str],
    *,
    log4j: Path,
    cds_dir: Path | None,
) -> list[str]:
    """The whole ``java ...`` argv for one role (broker, connect, format)."""
    flags = [
        f"-Xmx{HEAP[role]}",
        "-Xms64m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:-UsePerfData",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
    ]
    if cds_dir is not None:
        flags += cds_flags(java, role, classpath, cds_dir)
    extra = os.environ.get(EXTRA_OPTS_ENV.get(role, ""), "")
    return [str(java.executable), *flags, *shlex.split(extra), "-cp", classpath, main, *args]
