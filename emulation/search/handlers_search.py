"""Handlers for the search APIs: ``_search`` (over any index expression, with ``scroll``
or a point in time), ``_search/scroll``, ``_msearch``, ``_count`` and points in time.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulation.search.cursors import PointInTime, Scroll, keep_alive
from emulation.search.engine import Engine
from emulation.search.errors import SearchError, bad_request, unsupported
from emulation.search.index_store import IndexStore
from emulation.search.multi_index import collect_many, empty_response, encode_rows, search_many
from emulation.search.raw_json import RawFragments
from emulation.search.request import Request
from emulation.search.search import SearchRun

Response = tuple[int, Any]


def _as_int(params: dict[str, str]) -> bool:
    return str(params.get("rest_total_hits_as_int", "false")).lower() in ("", "true")


def search(engine: Engine, req: Request, index: str | None) -> Response:
    body = dict(req.json())
    if "q" in req.params:
        raise bad_request(
            "the [q] URI search parameter is not supported by the polystore "
            "embedded search engine; send a query DSL body"
        )
    params = dict(req.params)
    searchers: list[Any] | None = None
    pit_id: str | None = None
    if "pit" in body:
        if index is not None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [indices] cannot be used with point in time. Do not "
                "specify any index with point in time.;",
            )
        pit_conf = body.pop("pit")
        if not isinstance(pit_conf, dict) or "id" not in pit_conf:
            raise SearchError(400, "parsing_exception", "[pit] requires an [id]")
        pit_id = str(pit_conf["id"])
        renew = (
            keep_alive(pit_conf["keep_alive"], "keep_alive") if "keep_alive" in pit_conf else None
        )
        pit = engine.cursors.pit(pit_id, renew)
        stores = [s for s, _ in pit.snapshots]
        searchers = [searcher for _, searcher in pit.snapshots]
    else:
        stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
        body = engine.filtered(index or "_all", stores, body)
    if "scroll" in params:
        if pit_id is not None:
            raise bad_request("using [point in time] is not allowed in a scroll context")
        response, fragments = start_scroll(engine, stores, body, params)
    else:
        response, fragments = search_stores(stores, body, params, searchers)
    if pit_id is not None:
        response = {"pit_id": pit_id, **response}
    return 200, fragments.encode(response)


def search_stores(
    stores: list[IndexStore],
    body: dict[str, Any],
    params: dict[str, str],
    searchers: list[Any] | None = None,
) -> tuple[dict[str, Any], RawFragments]:
    """One search over the resolved stores (the response and its raw source fragments)."""
    if params.get("routing") is not None and any(s.shards > 1 for s in stores):
        raise unsupported("[routing] on a search of an index with several shards")
    as_int = _as_int(params)
    tracked_value = str(params.get("track_total_hits", body.get("track_total_hits", ""))).strip()
    if tracked_value.lstrip("-").isdigit() and int(tracked_value) < -1:
        raise bad_request(
            f"[track_total_hits] parameter must be positive or equals to -1, got {tracked_value}"
        )
    if as_int:
        tracked = params.get("track_total_hits", body.get("track_total_hits", True))
        if str(tracked).lower() not in ("true", "false", "-1"):
            raise bad_request(
                "[rest_total_hits_as_int] cannot be used if the tracking of total hits is not "
                f"accurate, got {tracked}"
            )
        if str(tracked).lower() != "false":
            params = {**params, "track_total_hits": "true"}
    if not stores:
        response, fragments = empty_response(body, params), RawFragments()
    elif len(stores) == 1 and searchers is None:
        run = SearchRun(stores[0], body, params)
        response, fragments = run.response(), run.fragments
    else:
        response, fragments = search_many(stores, body, params, searchers)
    if as_int:  # without tracking, OpenSearch reports -1
        total = response["hits"].get("total")
        response["hits"]["total"] = -1 if total is None else total["value"]
    return response, fragments


# -- scroll ----------------------------------------------------------------------------------
def start_scroll(
    engine: Engine, stores: list[IndexStore], body: dict[str, Any], params: dict[str, str]
) -> tuple[dict[str, Any], RawFragments]:
    seconds = keep_alive(params.pop("scroll"))
    merged = {**body, **{k: v for k, v in params.items() if k in ("size", "from")}}
    size = int(merged.get("size", 10))
    if size == 0:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: [size] cannot be [0] in a scroll context;",
        )
    if str(params.get("request_cache", "false")).lower() == "true":
        raise bad_request("[request_cache] cannot be used in a scroll context")
    if int(merged.get("from", 0)) > 0:
        raise bad_request("using [from] is not allowed in a scroll context")
    if "search_after" in body:
        raise bad_request("[search_after] cannot be used in a scroll context")
    if not stores:
        response = empty_response(body, params)
        hits: list[bytes] = []
        total: dict[str, Any] | None = response["hits"].get("total")
        max_score = None
        aggs = None
    else:
        runs = [SearchRun(s, {**body, "size": size}, {**params, "size": str(size)}) for s in stores]
        window = runs[0].store.settings.max_result_window
        if size > window:
            raise bad_request(
                f"Batch size is too large, size must be less than or equal to: [{window}] but was "
                f"[{size}]. Scroll batch sizes cost as much memory as result windows so they "
                "are controlled by the [index.max_result_window] index level setting."
            )
        everything = max(1, sum(r.searcher.num_docs for r in runs))
        rows, count, max_score, track = collect_many(runs, 0, everything)
        hits = encode_rows(rows, track)
        total = runs[0].hits_total(count)
        max_score = max_score if track else None
        per_index = [r.aggregations() for r in runs]
        aggs = per_index[0] if len(runs) == 1 else None
        if len(runs) > 1 and per_index[0] is not None:
            from emulation.search.aggregations_merge import merge_aggregations

            spec = body.get("aggs", body.get("aggregations"))
            aggs = merge_aggregations(spec, [a for a in per_index if a])
    scroll = Scroll(hits, size, total, max_score, seconds)
    scroll_id = engine.cursors.open_scroll(scroll)
    response, fragments = _scroll_page(scroll_id, scroll, params, len(stores))
    if aggs is not None:
        response["aggregations"] = aggs
    return response, fragments


def _scroll_page(
    scroll_id: str, scroll: Scroll, params: dict[str, str], n_shards: int
) -> tuple[dict[str, Any], RawFragments]:
    fragments = RawFragments()
    hits_obj: dict[str, Any] = {}
    if scroll.total is not None:
        hits_obj["total"] = scroll.total["value"] if _as_int(params) else scroll.total
    hits_obj["max_score"] = scroll.max_score
    hits_obj["hits"] = fragments.add(b"[" + b",".join(scroll.next_page()) + b"]")
    return {
        "_scroll_id": scroll_id,
        "took": 0,
        "timed_out": False,
        "_shards": {"total": n_shards, "successful": n_shards, "skipped": 0, "failed": 0},
        "hits": hits_obj,
    }, fragments


def scroll(engine: Engine, req: Request, path_id: str | None = None) -> Response:
    body = req.json()
    scroll_id = body.get("scroll_id", req.params.get("scroll_id", path_id))
    if not scroll_id:
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: scrollId is missing;"
        )
    renew_value = body.get("scroll", req.params.get("scroll"))
    renew = keep_alive(renew_value) if renew_value is not None else None
    found = engine.cursors.scroll(str(scroll_id), renew)
    response, fragments = _scroll_page(str(scroll_id), found, req.params, 1)
    return 200, fragments.encode(response)


def clear_scroll(engine: Engine, req: Request, path_id: str | None = None) -> Response:
    body = req.json()
    ids = body.get("scroll_id", path_id.split(",") if path_id else [])
    ids = [ids] if isinstance(ids, str) else list(ids)
    if not ids:
        ids = ["_all"]
    freed = engine.cursors.clear_scrolls([str(i) for i in ids])
    if freed == 0 and ids != ["_all"]:
        return 404, {"succeeded": True, "num_freed": 0}
    return 200, {"succeeded": True, "num_freed": freed}


# -- points in time ----------------------------------------------------------------------------
def create_pit(engine: Engine, req: Request, index: str) -> Response:
    if "keep_alive" not in req.params:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: keep alive not specified;",
        )
    seconds = keep_alive(req.params["keep_alive"], "keep_alive")
    stores = engine.resolve(index)
    if engine.filtered(index, stores, {}) != {}:
        raise unsupported("a point in time over a filtered alias")
    pit = PointInTime([(s, s.searcher()) for s in stores], seconds)
    pit_id = engine.cursors.open_pit(pit)
    n = len(stores)
    return 200, {
        "pit_id": pit_id,
        "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
        "creation_time": pit.created_ms,
    }


def delete_pit(engine: Engine, req: Request, which: str | None = None) -> Response:
    if which == "_all":
        ids = ["_all"]
    else:
        ids = req.json(required=True).get("pit_id", [])
        ids = [ids] if isinstance(ids, str) else [str(i) for i in ids]
    return 200, {"pits": engine.cursors.close_pits(ids)}


# -- msearch and count ---------------------------------------------------------------------------
def msearch(engine: Engine, req: Request, index: str | None) -> Response:
    started = time.perf_counter()
    lines = [ln for ln in req.body.split(b"\n") if ln.strip()]
    if len(lines) % 2:
        raise bad_request("The msearch request must be terminated by a newline [\n]")
    parts: list[bytes] = []
    as_int = _as_int(req.params)
    for i in range(1, len(lines), 2):  # request-level checks come before any search
        try:
            tracked = json.loads(lines[i]).get("track_total_hits", True)
        except (ValueError, AttributeError):
            continue
        if as_int and str(tracked).lower() not in ("true", "false", "-1"):
            raise bad_request(
                "[rest_total_hits_as_int] cannot be used if the tracking of total hits is not "
                f"accurate, got {tracked}"
            )
    for i in range(0, len(lines), 2):
        try:
            header, body = json.loads(lines[i]), json.loads(lines[i + 1])
        except ValueError as exc:
            raise SearchError(400, "json_parse_exception", f"[msearch] {exc}") from None
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise SearchError(400, "parsing_exception", "[msearch] expected JSON objects")
        target = header.get("index", index)
        if isinstance(target, list):
            target = ",".join(target)
        params = {k: str(v) for k, v in req.params.items() if k == "rest_total_hits_as_int"}
        unknown = set(header) - {"index", "search_type", "preference", "routing", "request_cache"}
        try:
            if unknown:
                raise bad_request(
                    f"key [{sorted(unknown)[0]}] is not supported in the metadata section"
                )
            stores = engine.resolve(
                target or "_all", must_exist=not header.get("ignore_unavailable")
            )
            body = engine.filtered(target or "_all", stores, body)
            response, fragments = search_stores(stores, body, params)
            encoded = fragments.encode({**response, "status": 200})
        except SearchError as err:
            encoded = json.dumps({**err.body(), "status": err.status}).encode()
        parts.append(encoded)
    took = int((time.perf_counter() - started) * 1000)
    return 200, b'{"took":%d,"responses":[' % took + b",".join(parts) + b"]}"


def count(engine: Engine, req: Request, index: str | None) -> Response:
    stores = engine.resolve(index or "_all", must_exist=not req.flag("ignore_unavailable"))
    body = req.json()
    extra = set(body) - {"query"}
    if extra:
        raise SearchError(
            400, "parsing_exception", f"request does not support [{sorted(extra)[0]}]"
        )
    body = engine.filtered(index or "_all", stores, body)
    total = sum(SearchRun(s, body, {}).count() for s in stores)
    return 200, {
        "count": total,
        "_shards": {"total": len(stores), "successful": len(stores), "skipped": 0, "failed": 0},
    }
