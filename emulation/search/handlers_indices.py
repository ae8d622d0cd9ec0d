"""Handlers for cluster and index APIs: ``GET /``, health, index create/delete/exists/get,
mappings, settings, refresh and aliases. Each returns ``(status, json body)``.
"""

from __future__ import annotations

from typing import Any

from emulation.search import ENGINE_VERSION
from emulation.search.engine import Engine
from emulation.search.errors import SearchError, bad_request, index_not_found
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
    stores = engine.resolve(index or "_all")
    return 200, {s.name: {"mappings": s.mapping.body} for s in stores}


def put_mapping(engine: Engine, req: Request, index: str) -> Response:
    body = req.json(required=True)
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


def refresh(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index or "_all")
    for store in stores:
        store.refresh()
    n = len(stores)
    return 200, {"_shards": {"total": n * 2, "successful": n, "failed": 0}}


# -- aliases -----------------------------------------------------------------------------
def update_aliases(engine: Engine, req: Request) -> Response:
    body = req.json(required=True)
    actions = body.get("actions")
    if not isinstance(actions, list):
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: no alias actions specified;",
        )
    for action in actions:
        if not isinstance(action, dict) or len(action) != 1:
            raise bad_request("[aliases] malformed action")
        kind, conf = next(iter(action.items()))
        indices = conf.get("indices") or [conf.get("index")]
        aliases = conf.get("aliases") or [conf.get("alias")]
        if kind not in ("add", "remove", "remove_index"):
            raise bad_request(f"[aliases] unsupported action [{kind}]")
        for expr in indices:
            if expr is None:
                raise SearchError(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: One of [index] or [indices] is required;",
                )
            for store in engine.resolve(str(expr)):
                if kind == "remove_index":
                    engine.delete_index(store.name)
                    continue
                for alias in aliases:
                    _alias(engine, store.name, str(alias), add=kind == "add")
    engine.save_aliases()
    return 200, {"acknowledged": True}


def _alias(engine: Engine, index: str, alias: str, add: bool) -> None:
    if alias in engine.indices:
        raise SearchError(
            400,
            "invalid_alias_name_exception",
            f"Invalid alias name [{alias}]: an index or data stream exists with "
            "the same name as the alias",
        )
    targets = engine.aliases.setdefault(alias, [])
    if add and index not in targets:
        targets.append(index)
    elif not add:
        if index not in targets:
            raise SearchError(
                404,
                "aliases_not_found_exception",
                f"aliases [{alias}] missing",
                **{"resource.type": "aliases", "resource.id": alias},
            )
        targets.remove(index)
    engine.aliases = {a: t for a, t in engine.aliases.items() if t}


def put_alias(engine: Engine, req: Request, index: str, alias: str) -> Response:
    for store in engine.resolve(index):
        _alias(engine, store.name, alias, add=True)
    engine.save_aliases()
    return 200, {"acknowledged": True}


def delete_alias(engine: Engine, req: Request, index: str, alias: str) -> Response:
    for store in engine.resolve(index):
        _alias(engine, store.name, alias, add=False)
    engine.save_aliases()
    return 200, {"acknowledged": True}


def get_alias(engine: Engine, req: Request, index: str | None, alias: str | None) -> Response:
    stores = engine.resolve(index or "_all")
    out: dict[str, Any] = {}
    for store in stores:
        names = engine.aliases_of(store.name)
        if alias is not None:
            names = {a: v for a, v in names.items() if a in alias.split(",")}
            if not names:
                continue
        out[store.name] = {"aliases": names}
    if alias is not None and not out:
        if index is None and all(a not in engine.aliases for a in alias.split(",")):
            raise SearchError(404, "aliases_not_found_exception", f"alias [{alias}] missing")
        if index is not None:
            raise (
                index_not_found(index)
                if not stores
                else SearchError(404, "aliases_not_found_exception", f"alias [{alias}] missing")
            )
    return 200, out
