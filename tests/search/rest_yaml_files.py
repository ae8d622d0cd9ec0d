"""Loading OpenSearch's REST API YAML tests and API specs, and the ``skip`` rules
(version ranges, runner features) — the files half of the runner in ``rest_yaml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The OpenSearch version the engine reports; ``skip.version`` ranges compare against it.
ENGINE_VERSION = (2, 17, 0)
# Runner features this runner implements; a test needing another one is skipped.
FEATURES = frozenset(
    {
        "headers",
        "warnings",
        "allowed_warnings",
        "contains",
        "default_shards",
        "stash_in_path",
        "stash_in_key",
        "arbitrary_key",
    }
)
CATCH_STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "missing": 404,
    "request_timeout": 408,
    "conflict": 409,
    "unavailable": 503,
}


class Skipped(Exception):
    """The test asks to be skipped here (a version range or a runner feature)."""


class Failed(AssertionError):
    """A step's expectation did not hold."""


def _version_key(text: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.strip().split(".")[:3])
    # Elasticsearch 5-7 versions in old tests predate every OpenSearch version.
    return (0, *parts) if 5 <= parts[0] <= 7 else (1, *parts)


def version_skipped(spec: str) -> bool:
    """Whether ``ENGINE_VERSION`` falls in one of the ranges of a ``skip.version``."""
    if spec.strip() == "all":
        return True
    mine = (1, *ENGINE_VERSION)
    for one in spec.split(","):
        low, _, high = one.partition("-")
        lo = _version_key(low) if low.strip() else (0, 0, 0, 0)
        hi = _version_key(high) if high.strip() else (9, 99, 99, 99)
        if lo <= mine <= hi:
            return True
    return False


@dataclass
class YamlTest:
    file: str
    name: str
    steps: list[dict[str, Any]]
    setup: list[dict[str, Any]]
    teardown: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``2019-10-21 00:30:04.828740`` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_tests(root: Path) -> list[YamlTest]:
    tests: list[YamlTest] = []
    for path in sorted((root / "test").glob("*/*.yml")):
        rel = str(path.relative_to(root / "test"))
        setup: list[dict[str, Any]] = []
        teardown: list[dict[str, Any]] = []
        bodies: list[tuple[str, list[dict[str, Any]]]] = []
        for doc in yaml.load_all(path.read_text(), Loader=_Loader):
            if not doc:
                continue
            for name, steps in doc.items():
                if name == "setup":
                    setup = steps or []
                elif name == "teardown":
                    teardown = steps or []
                else:
                    bodies.append((name, steps or []))
        tests.extend(YamlTest(rel, n, s, setup, teardown) for n, s in bodies)
    return tests


def load_specs(root: Path) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    for path in sorted((root / "api").glob("*.json")):
        specs.update(json.loads(path.read_text()))
    return specs
