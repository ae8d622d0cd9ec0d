"""The versions pinned in ``pom.xml``, read from it so nothing restates them.

The pom (and its three classpath modules) is the one place Kafka, Debezium and the
logging binding are pinned; the jar cache is keyed by a hash of those files, so a bump
downloads into a new cache directory and the old one is never half-replaced.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
POM = PACKAGE_DIR / "pom.xml"
CLASSPATHS = ("broker", "connect", "debezium")
_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom_files() -> list[Path]:
    """The aggregator pom and one pom per classpath, in a fixed order."""
    return [POM, *(PACKAGE_DIR / "classpaths" / name / "pom.xml" for name in CLASSPATHS)]


@cache
def properties() -> dict[str, str]:
    """The ``<properties>`` of the aggregator pom (``kafka.version`` ...)."""
    root = ET.parse(POM).getroot()
    props = root.find("m:properties", _NS)
    assert props is not None, f"{POM}: no <properties>"
    return {el.tag.split("}", 1)[1]: (el.text or "").strip() for el in props}


def kafka_version() -> str:
    return properties()["kafka.version"]


def debezium_version() -> str:
    return properties()["debezium.version"]


@cache
def version_hash() -> str:
    """A short hash of every pom: the name of this pin set's jar cache directory."""
    digest = hashlib.sha256()
    for path in pom_files():
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"kafka-{kafka_version()}-debezium-{debezium_version()}-{digest.hexdigest()[:10]}"
