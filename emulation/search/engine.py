"""The engine: every index under one data directory, aliases, and the data-dir lock.

Exactly one engine may own a data directory (an exclusive ``flock`` on
``engine.lock``); a second server on the same directory fails fast with a clear error
instead of corrupting tantivy segments. All operations run under one re-entrant lock,
which makes the server a single writer whatever the number of clients.
"""

from __future__ import annotations

import fcntl
import fnmatch
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulation.search import aliases as alias_table
from emulation.search.cursors import Cursors
from emulation.search.errors import SearchError, index_not_found, unsupported
from emulation.search.index_store import IndexStore
from emulation.search.query_dsl import QueryBuilder
from emulation.search.settings import IndexSettings
from emulation.search.view_dir import choose_root

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


def _shards_of(body: dict[str, Any]) -> int:
    settings = IndexSettings.from_request(body.get("settings") or {})
    return int(settings.raw["index"]["number_of_shards"])


class Engine:
    def __init__(self, data_dir: str | Path, view_dir: str | None = None) -> None:
        """``view_dir``: where the tantivy views go (see ``view_dir.choose_root``; None:
        ``$POLYSTORE_SEARCH_VIEW_DIR``, else tmpfs when usable, else the data dir)."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.view_root = choose_root(self.data_dir, view_dir)  # before the lock: may fail
        self._lock_file = self._acquire(self.data_dir / "engine.lock")
        self.lock = threading.RLock()
        self.indices: dict[str, IndexStore] = {}
        self._last_refresh: dict[str, float] = {}
        (self.data_dir / "indices").mkdir(exist_ok=True)
        for meta in sorted((self.data_dir / "indices").glob("*/meta.json")):
            store = IndexStore.open(meta.parent, self.view_root)
            self.indices[store.name] = store
        if self.view_root is not None:  # views of indices gone while the engine was down
            live = {s.uuid for s in self.indices.values()}
            for view in self.view_root.iterdir():
                if view.is_dir() and view.name not in live:
                    shutil.rmtree(view, ignore_errors=True)
        self.aliases: alias_table.AliasTable = alias_table.load(self.data_dir / "aliases.json")
        self.cursors = Cursors()  # open scrolls and points in time
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
    def resolve_names(self, expression: str, must_exist: bool = True) -> list[str]:
        """Index names, aliases, comma lists, wildcards, ``-exclusions`` and ``_all``."""
        found: dict[str, None] = {}
        parts = [p.strip() for p in expression.split(",") if p.strip()] or ["_all"]
        for n, part in enumerate(parts):
            if part.startswith("-") and n > 0:  # an exclusion of what came before
                pattern = part[1:]
                for name in [x for x in found if fnmatch.fnmatchcase(x, pattern)]:
                    del found[name]
                continue
            if part in ("_all", "*"):
                found.update(dict.fromkeys(sorted(self.indices)))
            elif "*" in part:
                for name in sorted(self.indices):
                    if fnmatch.fnmatchcase(name, part):
                        found[name] = None
                for alias, targets in sorted(self.aliases.items()):
                    if fnmatch.fnmatchcase(alias, part):
                        found.update(dict.fromkeys(t for t in targets if t in self.indices))
            elif part in self.indices:
                found[part] = None
            elif part in self.aliases:
                found.update(dict.fromkeys(t for t in self.aliases[part] if t in self.indices))
            elif must_exist:
                raise index_not_found(part)
        return list(found)

    def resolve(self, expression: str, must_exist: bool = True) -> list[IndexStore]:
        """The stores an index expression names (see :meth:`resolve_names`)."""
        return [self.indices[n] for n in self.resolve_names(expression, must_exist)]

    def one(self, expression: str) -> IndexStore:
        stores = self.resolve(expression)
        if len(stores) != 1:
            if not stores:
                raise index_not_found(expression)
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"alias [{expression}] has more than one index associated with it "
                f"{sorted(s.name for s in stores)}, can't execute a single index op",
            )
        return stores[0]

    def for_write(self, name: str, require_alias: bool = False) -> IndexStore:
        """The index a write goes to: an index, an alias's write index, or a new index
        created on first use as OpenSearch does (unless ``require_alias``)."""
        if name in self.aliases:
            return self.indices[alias_table.write_index(self.aliases, name)]
        if require_alias:
            raise SearchError(
                404,
                "index_not_found_exception",
                f"no such index [{name}] and [require_alias] request flag is [true] and "
                f"[{name}] is not an alias",
                index=name,
                **{"resource.type": "index_expression", "resource.id": name, "index_uuid": "_na_"},
            )
        if name in self.indices:
            return self.indices[name]
        return self.create_index(name, {})

    def write_target(self, name: str) -> IndexStore:
        """The existing index a write to ``name`` (an index or an alias) goes to."""
        if name in self.aliases:
            return self.indices[alias_table.write_index(self.aliases, name)]
        return self.one(name)

    def _check_filter(self, index: str, alias: str, flt: dict) -> None:
        """An alias filter must be a query the index can run (OpenSearch parses it)."""
        store = self.indices[index]
        try:
            QueryBuilder(store.mapping, store.schema, store.searcher()).build(flt)
        except SearchError as err:
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"failed to parse filter for alias [{alias}]",
                caused_by=err.cause(),
            ) from None

    def filtered(self, expression: str, stores: list[IndexStore], body: dict) -> dict:
        """``body`` with the alias filters the expression applies (a search, count or
        by-query through a filtered alias sees only what the filter matches)."""
        if not self.aliases or not stores:
            return body
        parts = [p.strip() for p in expression.split(",") if p.strip() and p[:1] != "-"]
        per_store = [alias_table.filter_of(self.aliases, parts or ["_all"], s.name)
                     for s in stores]  # fmt: skip
        if all(f is None for f in per_store):
            return body
        if any(f != per_store[0] for f in per_store):
            raise unsupported(
                "a search over several indices reached through different alias filters"
            )
        filters = per_store[0] or []
        flt = (
            filters[0]
            if len(filters) == 1
            else {"bool": {"should": filters, "minimum_should_match": 1}}
        )
        query = body.get("query", {"match_all": {}})
        return {**body, "query": {"bool": {"must": [query], "filter": [flt]}}}

    def routing_through(self, name: str, store: IndexStore, routing: str | None) -> str | None:
        """The routing of a single-document request sent to ``name`` (an alias's
        ``index_routing`` when it has one)."""
        if name not in self.aliases:
            return routing
        return alias_table.index_routing(self.aliases, name, store.name, routing)

    def update_aliases(self, actions: Any) -> None:
        """``POST /_aliases``: every action applied, or none."""
        table, dropped = alias_table.apply_actions(
            self.aliases,
            self.indices,
            actions,
            lambda name: self.indices[name].shards,
            self._check_filter,
        )
        self.aliases = table
        for name in dropped:
            store = self.indices.pop(name)
            store.drop()
        self.save_aliases()

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
        new_aliases = body.get("aliases") or {}
        if not isinstance(new_aliases, dict):
            raise SearchError(400, "parse_exception", "[aliases] must be an object")
        table = {a: {i: dict(o) for i, o in t.items()} for a, t in self.aliases.items()}
        for alias, conf in new_aliases.items():  # validated before the index exists
            opts = alias_table.options(alias, conf)
            if "search_routing" in opts and _shards_of(body) > 1:
                raise unsupported(f"search routing of alias [{alias}] on an index with shards > 1")
            alias_table.add(table, self.indices, name, alias, opts)
        alias_table.check_write_indices(table)
        store = IndexStore.create(directory, name, body, self.view_root)
        self.indices[name] = store
        self.aliases = table
        self.save_aliases()
        return store

    def delete_index(self, expression: str, must_exist: bool = True) -> None:
        for store in self.resolve(expression, must_exist):
            store.drop()
            del self.indices[store.name]
            for targets in self.aliases.values():
                targets.pop(store.name, None)
        self.aliases = {a: t for a, t in self.aliases.items() if t}
        self.save_aliases()

    def save_aliases(self) -> None:
        alias_table.save(self.data_dir / "aliases.json", self.aliases)

    def aliases_of(self, index: str) -> dict[str, Any]:
        return alias_table.of_index(self.aliases, index)

    # -- refresh ---------------------------------------------------------------------------
    def refresh_due(self) -> None:
        """Refresh dirty indices whose ``refresh_interval`` has elapsed.

        The interval runs from the end of the previous refresh (a fixed delay, as
        OpenSearch schedules its refresh task): a refresh is a tantivy commit that can take
        tens of milliseconds, and counting from its start would let refreshes take most of
        the engine's time under a steady stream of writes with a short interval.
        """
        with self.lock:
            if self.closed:
                return
            for name, store in self.indices.items():
                interval = store.settings.refresh_interval
                if not store.dirty or interval is None:
                    continue
                if time.monotonic() - self._last_refresh.get(name, 0.0) >= interval:
                    store.refresh()
                    self._last_refresh[name] = time.monotonic()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for store in self.indices.values():
                store.close()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
