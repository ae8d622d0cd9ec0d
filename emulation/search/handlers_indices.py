"""Handlers for cluster and index APIs: ``GET /``, health, index create/delete/exists/get,
mappings, settings, refresh and aliases. Each returns ``(status, json body)``.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from emulation.search import ENGINE_VERSION, settings
from emulation.search import aliases as alias_table
from emulation.search.engine import Engine
from emulation.search.errors import SearchError, index_not_found
from emulation.search.index_store import IndexStore
from emulation.search.request import Request

Response = tuple[int, Any]
CLUSTER_NAME = "polystore"


def root(engine: Engine, req: Request) -> Response:
    return 200, {
        "name": "polystore-search",
        "cluster_name": CLUSTER_NAME,
        "cluster_uuid": "polystore-embedded-search",
        "version": {
            "distribution": "opensearch",
            "number": ENGINE_VERSION,
            "build_type": "polystore",
            "build_hash": "polystore",
            "build_date": "2024-09-01T00:00:00Z",
            "build_snapshot": False,
            "lucene_version": "9.11.1",
            "minimum_wire_compatibility_version": "7.10.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "The OpenSearch Project: https://opensearch.org/",
    }


def health(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index) if index else list(engine.indices.values())
    n = len(stores)
    return 200, {
        "cluster_name": CLUSTER_NAME,
        "status": "green",
        "timed_out": False,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "discovered_master": True,
        "discovered_cluster_manager": True,
        "active_primary_shards": n,
        "active_shards": n,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    }


def create_index(engine: Engine, req: Request, index: str) -> Response:
    body = req.json(error_type="parse_exception")
    engine.create_index(index, body)
    return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}


def delete_index(engine: Engine, req: Request, index: str) -> Response:
    engine.delete_index(index, must_exist=not req.flag("ignore_unavailable"))
    return 200, {"acknowledged": True}


def index_exists(engine: Engine, req: Request, index: str) -> Response:
    engine.resolve(index)
    return 200, {}


def _settings_body(store: IndexStore) -> dict[str, Any]:
    index = {k: v for k, v in store.settings.raw.get("index", {}).items()}
    index.update(
        {
            "uuid": store.uuid,
            "provided_name": store.name,
            "creation_date": str(store.meta["created"]),
            "version": {"created": "136377827"},
        }
    )
    return {"index": index}


def get_index(engine: Engine, req: Request, index: str) -> Response:
    return 200, {
        s.name: {
            "aliases": engine.aliases_of(s.name),
            "mappings": s.mapping.body,
            "settings": _settings_body(s),
        }
        for s in engine.resolve(index)
    }


def get_mapping(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
    if not stores and index and not req.flag("allow_no_indices", True):
        raise index_not_found(index)
    return 200, {s.name: {"mappings": s.mapping.body} for s in stores}


def put_mapping(engine: Engine, req: Request, index: str) -> Response:
    body = req.json(required=True)
    if "_doc" in body:
        raise SearchError(
            400, "illegal_argument_exception", "Types cannot be provided in put mapping requests"
        )
    extra = set(body) - {"properties", "dynamic", "_meta", "date_detection"}
    if extra:
        raise SearchError(
            400,
            "mapper_parsing_exception",
            f"Root mapping definition has unsupported parameters: [{sorted(extra)[0]}]",
        )
    for store in engine.resolve(index):
        store.put_mapping(body)
    return 200, {"acknowledged": True}


def get_settings(engine: Engine, req: Request, index: str | None) -> Response:
    return 200, {s.name: {"settings": _settings_body(s)} for s in engine.resolve(index or "_all")}


def put_settings(engine: Engine, req: Request, index: str | None) -> Response:
    """``PUT [/{index}]/_settings``: dynamic settings of every named index, or of none
    (one setting that cannot be updated rejects the whole request)."""
    body = req.json(required=True)
    stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
    preserve = req.flag("preserve_existing")
    plans = [(s, settings.updated(s.settings.raw, body, preserve, s.name, s.uuid))
             for s in stores]  # fmt: skip
    for store, raw in plans:
        store.update_settings(raw)
    return 200, {"acknowledged": True}


def refresh(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
    for store in stores:
        store.refresh()
    total = sum(s.shard_count[1] for s in stores)
    done = sum(s.shard_count[0] for s in stores)
    return 200, {"_shards": {"total": total, "successful": done, "failed": 0}}


# -- aliases -----------------------------------------------------------------------------
def update_aliases(engine: Engine, req: Request) -> Response:
    body = req.json(required=True)
    extra = sorted(set(body) - {"actions"})
    if extra:
        raise SearchError(400, "parsing_exception", f"[aliases] unknown field [{extra[0]}]")
    engine.update_aliases(body.get("actions"))
    return 200, {"acknowledged": True}


def put_alias(engine: Engine, req: Request, index: str, alias: str) -> Response:
    conf = req.json()
    action = {"add": {**conf, "indices": engine.resolve_names(index), "alias": alias}}
    engine.update_aliases([action])
    return 200, {"acknowledged": True}


def delete_alias(engine: Engine, req: Request, index: str, alias: str) -> Response:
    names = engine.resolve_names(index)
    if not names:
        raise alias_table.aliases_missing(alias.split(","))
    engine.update_aliases([{"remove": {"indices": names, "aliases": alias.split(",")}}])
    return 200, {"acknowledged": True}


def _alias_matches(alias: str, patterns: list[str]) -> bool:
    return any(p in ("_all", "*") or fnmatch.fnmatchcase(alias, p) for p in patterns)


def get_alias(engine: Engine, req: Request, index: str | None, alias: str | None) -> Response:
    """GET (and HEAD) ``[/{index}]/_alias[/{name}]``: 404 when a named alias is missing."""
    stores = engine.resolve(index or "_all", must_exist=index is not None)
    patterns = [p for p in (alias or "").split(",") if p]
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for store in stores:
        names = engine.aliases_of(store.name)
        if patterns:
            names = {a: v for a, v in names.items() if _alias_matches(a, patterns)}
            seen.update(names)
            if not names:
                continue
        out[store.name] = {"aliases": names}
    missing = [p for p in patterns if "*" not in p and p != "_all" and p not in seen]
    if missing:
        error = SearchError(
            404,
            "aliases_not_found_exception",
            f"alias [{','.join(missing)}] missing",
            **{"resource.type": "aliases", "resource.id": ",".join(missing)},
        )
        if not out or req.method == "HEAD":
            raise error
        return 404, {**out, "error": f"alias [{','.join(missing)}] missing", "status": 404}
    if patterns and not out and req.method == "HEAD":
        return 404, {}
    return 200, out
