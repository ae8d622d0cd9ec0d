"""The engine: every index under one data directory, aliases, and the data-dir lock.

Exactly one engine may own a data directory (an exclusive ``flock`` on
``engine.lock``); a second server on the same directory fails fast with a clear error
instead of corrupting tantivy segments. All operations run under one re-entrant lock,
which makes the server a single writer whatever the number of clients.
"""

from __future__ import annotations

import fcntl
import fnmatch
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulation.search.errors import SearchError, index_not_found
from emulation.search.index_store import IndexStore

_INVALID_CHARS = set('\\/*?"<>| ,#:')


class DataDirLockedError(RuntimeError):
    """Another engine already serves this data directory."""


def validate_index_name(name: str) -> None:
    def invalid(why: str) -> SearchError:
        return SearchError(
            400,
            "invalid_index_name_exception",
            f"Invalid index name [{name}], {why}",
            index=name,
            index_uuid="_na_",
        )

    if name != name.lower():
        raise invalid("must be lowercase")
    if name.startswith(("_", "-", "+")):
        raise invalid("must not start with '_', '-', or '+'")
    if name in (".", "..") or not name:
        raise invalid("must not be '.' or '..'")
    if any(c in _INVALID_CHARS for c in name):
        raise invalid('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]')
    if len(name.encode()) > 255:
        raise invalid("index name is too long, (" + str(len(name.encode())) + " > 255)")


class Engine:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._acquire(self.data_dir / "engine.lock")
        self.lock = threading.RLock()
        self.indices: dict[str, IndexStore] = {}
        self._last_refresh: dict[str, float] = {}
        (self.data_dir / "indices").mkdir(exist_ok=True)
        for meta in sorted((self.data_dir / "indices").glob("*/meta.json")):
            store = IndexStore.open(meta.parent)
            self.indices[store.name] = store
        aliases = self.data_dir / "aliases.json"
        self.aliases: dict[str, list[str]] = (
            json.loads(aliases.read_text()) if aliases.exists() else {}
        )
        self.closed = False

    @staticmethod
    def _acquire(path: Path) -> Any:
        handle = open(path, "a+")  # noqa: SIM115 - held open for the engine's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirLockedError(
                f"data dir {path.parent} is already served by another polystore search engine "
                f"(pid {holder}); stop it or choose another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            if self.closed:
                raise SearchError(503, "node_closed_exception", "the engine is shutting down")
            yield

    # -- names --------------------------------------------------------------------------
    def resolve(self, expression: str, must_exist: bool = True) -> list[IndexStore]:
        """Index names, aliases, comma lists, wildcards and ``_all`` -> stores."""
        found: dict[str, IndexStore] = {}
        for part in [p for p in expression.split(",") if p] or ["_all"]:
            if part in ("_all", "*"):
                found.update(self.indices)
            elif "*" in part:
                for name in self.indices:
                    if fnmatch.fnmatchcase(name, part):
                        found[name] = self.indices[name]
                for alias, targets in self.aliases.items():
                    if fnmatch.fnmatchcase(alias, part):
                        found.update({t: self.indices[t] for t in targets if t in self.indices})
            elif part in self.indices:
                found[part] = self.indices[part]
            elif part in self.aliases:
                found.update({t: self.indices[t] for t in self.aliases[part] if t in self.indices})
            elif must_exist:
                raise index_not_found(part)
        return list(found.values())

    def one(self, expression: str) -> IndexStore:
        stores = self.resolve(expression)
        if len(stores) != 1:
            if not stores:
                raise index_not_found(expression)
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"[{expression}] resolves to {len(stores)} indices; this engine "
                "serves one index per request (see docs/search-compatibility.md)",
            )
        return stores[0]

    def for_write(self, name: str) -> IndexStore:
        """The index a write goes to, creating it on first use as OpenSearch does."""
        if name in self.indices:
            return self.indices[name]
        if name in self.aliases:
            targets = self.aliases[name]
            if len(targets) != 1:
                raise SearchError(
                    400,
                    "illegal_argument_exception",
                    f"no write index is defined for alias [{name}]. The write "
                    "index may be explicitly disabled using is_write_index=false"
                    " or the alias points to multiple indices without one being"
                    " designated as a write index",
                )
            return self.indices[targets[0]]
        return self.create_index(name, {})

    # -- index lifecycle ---------------------------------------------------------------------
    def create_index(self, name: str, body: dict[str, Any]) -> IndexStore:
        validate_index_name(name)
        if name in self.indices or name in self.aliases:
            existing = self.indices.get(name)
            raise SearchError(
                400,
                "resource_already_exists_exception",
                f"index [{name}/{existing.uuid if existing else '_na_'}] already exists",
                index=name,
                index_uuid=existing.uuid if existing else "_na_",
            )
        extra = set(body) - {"settings", "mappings", "aliases"}
        if extra:
            raise SearchError(
                400, "parse_exception", f"unknown key [{sorted(extra)[0]}] for create index"
            )
        directory = self.data_dir / "indices" / name
        shutil.rmtree(directory, ignore_errors=True)
        store = IndexStore.create(directory, name, body)
        self.indices[name] = store
        for alias in body.get("aliases") or {}:
            self.aliases.setdefault(alias, []).append(name)
        self.save_aliases()
        return store

    def delete_index(self, expression: str, must_exist: bool = True) -> None:
        for store in self.resolve(expression, must_exist):
            store.drop()
            del self.indices[store.name]
            for targets in self.aliases.values():
                if store.name in targets:
                    targets.remove(store.name)
        self.aliases = {a: t for a, t in self.aliases.items() if t}
        self.save_aliases()

    def save_aliases(self) -> None:
        tmp = self.data_dir / "aliases.json.tmp"
        tmp.write_text(json.dumps(self.aliases))
        tmp.replace(self.data_dir / "aliases.json")

    def aliases_of(self, index: str) -> dict[str, Any]:
        return {a: {} for a, targets in self.aliases.items() if index in targets}

    # -- refresh ---------------------------------------------------------------------------
    def refresh_due(self) -> None:
        """Refresh dirty indices whose ``refresh_interval`` has elapsed."""
        now = time.monotonic()
        with self.lock:
            if self.closed:
                return
            for name, store in self.indices.items():
                interval = store.settings.refresh_interval
                if not store.dirty or interval is None:
                    continue
                if now - self._last_refresh.get(name, 0.0) >= interval:
                    store.refresh()
                    self._last_refresh[name] = now

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for store in self.indices.values():
                store.close()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
