"""Handlers for document APIs: single-document CRUD, ``_mget``, ``_bulk``, ``_search``,
``_count`` and ``_delete_by_query``. Each returns ``(status, json body)``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulation.search.bulk import run_bulk
from emulation.search.engine import Engine
from emulation.search.errors import SearchError, bad_request
from emulation.search.index_store import IndexStore
from emulation.search.multi_index import empty_response, search_many
from emulation.search.raw_json import RawFragments
from emulation.search.request import Request
from emulation.search.search import SearchRun
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
    result = store.index_doc(doc_id, raw, source, opts)
    return _finish(store, req, result.status, result.body)


def delete_doc(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.write_target(index)
    result = store.delete_doc(doc_id, req.write_options())
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
    result = store.update_doc(doc_id, body, req.write_options())
    return _finish(store, req, result.status, result.body)


def _get_body(store: IndexStore, doc_id: str, source_filter: SourceFilter) -> Response:
    row = store.get_row(doc_id)
    if row is None:
        return 404, {"_index": store.name, "_id": doc_id, "found": False}
    body: dict[str, Any] = {
        "_index": store.name,
        "_id": doc_id,
        "_version": row.version,
        "_seq_no": row.seq_no,
        "_primary_term": 1,
        "found": True,
    }
    if source_filter.enabled and row.source is not None:
        body["_source"] = source_filter.apply(json.loads(row.source))
    return 200, body


def get_doc(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.one(index)
    return _get_body(store, doc_id, SourceFilter.from_params(req.params))


def get_source(engine: Engine, req: Request, index: str, doc_id: str) -> Response:
    store = engine.one(index)
    status, body = _get_body(store, doc_id, SourceFilter.from_params(req.params))
    if status != 200:
        raise SearchError(
            404, "resource_not_found_exception", f"Document not found [{index}]/[{doc_id}]"
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
        docs.append(_get_body(store, doc_id, source_filter)[1])
    return 200, {"docs": docs}


def bulk(engine: Engine, req: Request, index: str | None) -> Response:
    if not req.body.strip():
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: no requests added;"
        )
    return 200, run_bulk(
        engine, req.body, index, req.refresh_requested(), req.flag("require_alias")
    )


def search(engine: Engine, req: Request, index: str | None) -> Response:
    body = req.json()
    if "q" in req.params:
        raise bad_request(
            "the [q] URI search parameter is not supported by the polystore "
            "embedded search engine; send a query DSL body"
        )
    stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
    response, fragments = search_stores(stores, body, req.params)
    return 200, fragments.encode(response)


def search_stores(
    stores: list[IndexStore], body: dict[str, Any], params: dict[str, str]
) -> tuple[dict[str, Any], RawFragments]:
    """One search over the resolved stores (the response and its raw source fragments)."""
    as_int = str(params.get("rest_total_hits_as_int", "false")).lower() in ("", "true")
    if as_int:
        tracked = params.get("track_total_hits", body.get("track_total_hits", True))
        if str(tracked).lower() not in ("true", "false"):
            raise bad_request(
                "[rest_total_hits_as_int] cannot be used if the tracking of total hits is not "
                f"accurate, got {tracked}"
            )
        params = {**params, "track_total_hits": "true"}
    if not stores:
        response, fragments = empty_response(body, params), RawFragments()
    elif len(stores) == 1:
        run = SearchRun(stores[0], body, params)
        response, fragments = run.response(), run.fragments
    else:
        response, fragments = search_many(stores, body, params)
    if as_int and "total" in response["hits"]:
        response["hits"]["total"] = response["hits"]["total"]["value"]
    return response, fragments


def count(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index or "_all")
    body = req.json()
    extra = set(body) - {"query"}
    if extra:
        raise SearchError(
            400, "parsing_exception", f"request does not support [{sorted(extra)[0]}]"
        )
    total = sum(SearchRun(s, body, {}).count() for s in stores)
    return 200, {
        "count": total,
        "_shards": {"total": len(stores), "successful": len(stores), "skipped": 0, "failed": 0},
    }


def delete_by_query(engine: Engine, req: Request, index: str) -> Response:
    started = time.perf_counter()
    body = req.json(required=True)
    if "query" not in body:
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: query is missing;"
        )
    extra = set(body) - {"query", "max_docs"}
    if extra:
        raise bad_request(f"[delete_by_query] unsupported body key [{sorted(extra)[0]}]")
    max_docs = int(body.get("max_docs", req.params.get("max_docs", 2**31)))
    deleted = total = 0
    for store in engine.resolve(index):
        store.refresh()  # deletes what the query matches now, not at the last refresh
        run = SearchRun(store, {"query": body["query"]}, {})
        searcher = run.searcher
        hits = searcher.search(run.query(), max(1, searcher.num_docs), count=False).hits
        for _, address in hits[: max_docs - total]:
            doc_id = searcher.doc(address).get_first("_id")
            total += 1
            if store.delete_doc(doc_id, WriteOptions()).status == 200:
                deleted += 1
        store.sources.commit()
        if req.refresh_requested():
            store.refresh()
    return 200, {
        "took": int((time.perf_counter() - started) * 1000),
        "timed_out": False,
        "total": total,
        "deleted": deleted,
        "batches": 1 if total else 0,
        "version_conflicts": 0,
        "noops": 0,
        "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0,
        "requests_per_second": -1.0,
        "throttled_until_millis": 0,
        "failures": [],
    }
