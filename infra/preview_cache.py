"""A content-addressed cache of offline previews (``polystore preview`` / ``policy``).

A mocked run of the Pulumi program costs seconds — importing the AWS provider SDK and
registering ~800 resources — and its result is a pure function of its inputs: the
topology, the stack's ``Pulumi.<stack>.yaml`` (plus overrides), the program's source
(``infra/``, ``polystore/``) and the installed Pulumi SDKs. The key hashes all of them,
so an entry can never describe another program or config; computing it imports neither
Pulumi nor the provider SDK, so a hit costs a file read. Entries live in
``$POLYSTORE_CACHE_DIR/previews`` (else ``$XDG_CACHE_HOME/polystore/previews``, else
``~/.cache/polystore/previews``); ``POLYSTORE_NO_CACHE=1`` turns the cache off. Any read
or write problem falls back to running the program.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.config import REPO_ROOT, stack_file
from polystore.topology.model import Topology

__all__ = ["cache_dir", "cached_preview", "preview_key"]

KEEP = 64  # entries kept; older ones are pruned on write (a preview is ~1-3 MB of JSON)
# Code whose change can change a preview: the program and what it reads (model, naming).
_SOURCE_DIRS = ("infra", "polystore")
_SDKS = ("pulumi", "pulumi-aws")


def cache_dir() -> Path:
    env = os.environ.get("POLYSTORE_CACHE_DIR")
    if env:
        return Path(env) / "previews"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polystore" / "previews"


def _program_identity() -> bytes:
    h = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for top in _SOURCE_DIRS:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            h.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    for dist in _SDKS:
        try:
            h.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{dist} missing".encode())
    return h.digest()


def _topology_identity(topology: Topology) -> bytes:
    """The model as validated (what the program reads) and every migration's bytes."""
    h = hashlib.sha256()
    for name in sorted(topology.systems):
        system = topology.systems[name]
        h.update(system.model_dump_json(by_alias=True).encode())
        for store in sorted(system.postgres_stores()):
            directory = system.migrations_dir(store)
            if directory.is_dir():
                for f in sorted(directory.glob("*.sql")):
                    h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.digest()


def preview_key(stack: str, topology: Topology, overrides: dict[str, Any] | None) -> str | None:
    """The entry's key, or None when the stack has no config file (the run reports that)."""
    config = stack_file(stack)
    if not config.is_file():
        return None
    h = hashlib.sha256()
    h.update(_program_identity())
    h.update(_topology_identity(topology))
    h.update(stack.encode() + b"\0" + config.read_bytes())
    h.update(json.dumps(overrides or {}, sort_keys=True).encode())
    return h.hexdigest()


def cached_preview(
    stack: str, topology: Topology, config_overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``infra.preview.run_preview(stack, ...)``, from the cache when its inputs are unchanged."""
    entry: Path | None = None
    if not os.environ.get("POLYSTORE_NO_CACHE"):
        try:
            key = preview_key(stack, topology, config_overrides)
            entry = cache_dir() / f"{key}.json" if key else None
            if entry is not None and entry.is_file():
                cached: dict[str, Any] = json.loads(entry.read_text())
                os.utime(entry)  # pruning keeps the most recently used entries
                return cached
        except (OSError, ValueError):
            entry = None
    from infra.preview import run_preview  # imports Pulumi and the provider SDK: seconds

    result = run_preview(stack, topology=topology, config_overrides=config_overrides)
    if entry is not None:
        _store(entry, result)
    return result


def _store(entry: Path, result: dict[str, Any]) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a concurrent reader never sees half an entry
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(result, fh, separators=(",", ":"))
        os.replace(tmp, entry)
        entries = sorted(entry.parent.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home is fine: the next run computes the preview again
