"""Handlers for document APIs: single-document CRUD, ``_mget``, ``_bulk``, ``_search``,
and ``_delete_by_query`` (searches: ``handlers_search``). Each returns ``(status, json body)``.
"""

from __future__ import annotations

import json
from typing import Any

from emulation.search.bulk import run_bulk
from emulation.search.by_query import run_by_query
from emulation.search.engine import Engine
from emulation.search.errors import SearchError, version_conflict
from emulation.search.hit_fields import HitFields
from emulation.search.index_store import IndexStore
from emulation.search.request import Request
from emulation.search.source_filter import SourceFilter
from emulation.search.util import new_id
from emulation.search.versioning import WriteOptions

Response = tuple[int, Any]


def _source_of(req: Request) -> tuple[bytes, dict[str, Any]]:
    source = req.json(required=True, error_type="mapper_parsing_exception")
    return req.body.strip(), source


def _finish(store: IndexStore, req: Request, status: int, body: dict[str, Any]) -> Response:
    store.sources.commit()
    if req.refresh_requested():
        store.refresh()
        if req.forced_refresh():
            body["forced_refresh"] = True
    return status, body


def index_doc(
    engine: Engine, req: Request, index: str, doc_id: str | None, op_type: str = "index"
) -> Response:
    raw, source = _source_of(req)
    store = engine.for_write(index, require_alias=req.flag("require_alias"))
    opts = req.write_options(op_type)
    if doc_id is None:
        doc_id = new_id()
        opts = WriteOptions(
            opts.version, opts.version_type, opts.if_seq_no, opts.if_primary_term, "create"
        )
    routing = engine.routing_through(index, store, req.params.get("routing"))
    result = store.index_doc(doc_id, raw, source, opts, routing)
    return _finish(store, req, result.status, result.body)


def delete_doc(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.write_target(index)
    routing = engine.routing_through(index, store, req.params.get("routing"))
    result = store.delete_doc(doc_id, req.write_options(), routing)
    return _finish(store, req, result.status, result.body)


def update_doc(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    body = req.json(required=True)
    if "version" in req.params:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: internal versioning can not be used for "
            "optimistic concurrency control. Please use `if_seq_no` and "
            "`if_primary_term` instead;",
        )
    store = engine.for_write(index, require_alias=req.flag("require_alias"))
    routing = engine.routing_through(index, store, req.params.get("routing"))
    result = store.update_doc(doc_id, body, req.write_options(), routing)
    return _finish(store, req, result.status, result.body)


def _get_body(
    store: IndexStore,
    doc_id: str,
    source_filter: SourceFilter,
    req: Request | None = None,
    routing: str | None = None,
) -> Response:
    if req is not None and req.flag("refresh"):
        store.refresh()
    row = store.get_row(doc_id, routing)
    if row is not None and req is not None and not req.flag("realtime", True):
        row = row if store.is_searchable(doc_id) else None  # the refreshed view
    if row is None:
        return 404, {"_index": store.name, "_id": doc_id, "found": False}
    if req is not None and "version" in req.params:  # a GET that expects a version
        wanted = req.write_options().version
        if wanted != row.version:
            raise version_conflict(
                store.name,
                doc_id,
                f"current version [{row.version}] is different than the one provided [{wanted}]",
                store.uuid,
            )
    body: dict[str, Any] = {
        "_index": store.name,
        "_id": doc_id,
        "_version": row.version,
        "_seq_no": row.seq_no,
        "_primary_term": 1,
    }
    routing = store.sources.routing(doc_id)
    if routing is not None:
        body["_routing"] = routing
    body["found"] = True
    wanted = HitFields(store.mapping, {}, req.params) if req is not None else None
    if wanted is not None and wanted.active and row.source is not None:
        body["fields"] = wanted.of(row.source)
    if wanted is not None and not wanted.source_wanted:
        return 200, body
    if source_filter.enabled and row.source is not None and store.mapping.source_enabled:
        body["_source"] = source_filter.apply(json.loads(row.source))
    return 200, body


def get_doc(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.one(index)
    routing = engine.routing_through(index, store, req.params.get("routing"))
    return _get_body(store, doc_id, SourceFilter.from_params(req.params), req, routing)


def get_source(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.one(index)
    routing = engine.routing_through(index, store, req.params.get("routing"))
    status, body = _get_body(store, doc_id, SourceFilter.from_params(req.params), req, routing)
    if status != 200:
        raise SearchError(
            404, "resource_not_found_exception", f"Document not found [{index}]/[{doc_id}]"
        )
    if not store.mapping.source_enabled:
        raise SearchError(
            404,
            "resource_not_found_exception",
            f"Source not available [{index}]/[{doc_id}]",
        )
    return 200, body.get("_source", {})


def mget(engine: Engine, req: Request, index: str | None) -> Response:
    body = req.json(required=True)
    specs: list[dict[str, Any]]
    if "docs" in body:
        specs = [d if isinstance(d, dict) else {"_id": d} for d in body["docs"]]
    elif "ids" in body:
        specs = [{"_id": i} for i in body["ids"]]
    else:
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: no documents to get;"
        )
    default_filter = SourceFilter.from_params(req.params)
    docs = []
    for spec in specs:
        name = spec.get("_index", index)
        doc_id = str(spec.get("_id"))
        if name is None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index is missing for doc 0;",
            )
        try:
            store = engine.one(str(name))
        except SearchError as err:
            docs.append({"_index": name, "_id": doc_id, "error": err.body()["error"]})
            continue
        source_filter = SourceFilter.parse(spec["_source"]) if "_source" in spec else default_filter
        try:
            asked = None if spec.get("routing") is None else str(spec["routing"])
            routing = engine.routing_through(str(name), store, asked)
        except SearchError as err:
            docs.append({"_index": name, "_id": doc_id, "error": err.body()["error"]})
            continue
        docs.append(_get_body(store, doc_id, source_filter, None, routing)[1])
    return 200, {"docs": docs}


def bulk(engine: Engine, req: Request, index: str | None) -> Response:
    if not req.body.strip():
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: no requests added;"
        )
    return 200, run_bulk(
        engine, req.body, index, req.refresh_requested(), req.flag("require_alias")
    )


def delete_by_query(engine: Engine, req: Request, index: str) -> Response:
    return run_by_query(engine, req, index, "delete")


def update_by_query(engine: Engine, req: Request, index: str) -> Response:
    return run_by_query(engine, req, index, "update")
