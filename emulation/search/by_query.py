"""``_delete_by_query`` and ``_update_by_query``: a query over the last refreshed view,
then one write per match guarded by the ``_seq_no`` the view saw.

As in OpenSearch, a document changed since that refresh is a version conflict: with
``conflicts=abort`` (the default) the request stops at the first one and answers 409
with what it did so far; with ``conflicts=proceed`` it is counted and skipped.
``_update_by_query`` without a script re-indexes each document as it is (its version
moves on, so a changed mapping applies to it); scripts answer 400.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import tantivy

from emulation.search.engine import Engine
from emulation.search.errors import SearchError, bad_request, unsupported
from emulation.search.request import Request
from emulation.search.search import SearchRun
from emulation.search.versioning import WriteOptions

_BODY_KEYS = frozenset({"query", "max_docs", "conflicts", "size", "script", "slice", "sort"})


def run_by_query(engine: Engine, req: Request, index: str, action: str) -> tuple[int, Any]:
    started = time.perf_counter()
    body = req.json(required=action == "delete")
    if action == "delete" and "query" not in body:
        raise SearchError(
            400, "action_request_validation_exception", "Validation Failed: 1: query is missing;"
        )
    extra = sorted(set(body) - _BODY_KEYS)
    if extra:
        raise SearchError(
            400, "parsing_exception", f"[{action}_by_query] unknown field [{extra[0]}]"
        )
    for key in ("script", "slice", "sort"):
        if key in body:
            raise unsupported(f"[{key}] in _{action}_by_query")
    if str(req.params.get("wait_for_completion", "true")).lower() == "false":
        raise unsupported("wait_for_completion=false (tasks) in _by_query requests")
    if req.params.get("slices", "1") not in ("1", "auto"):
        raise unsupported("[slices] in _by_query requests")
    conflicts = str(req.params.get("conflicts", body.get("conflicts", "abort")))
    if conflicts not in ("abort", "proceed"):
        raise bad_request(f'conflicts may only be "proceed" or "abort" but was [{conflicts}]')
    limit = body.get(
        "max_docs", req.params.get("max_docs", body.get("size", req.params.get("size")))
    )
    max_docs = int(limit) if limit is not None else 2**62
    if max_docs <= 0:
        raise bad_request(f"[max_docs] parameter cannot be negative, found [{max_docs}]")
    scroll_size = int(req.params.get("scroll_size", 1000))
    query = body.get("query", {"match_all": {}})
    counts = {"total": 0, "done": 0, "noops": 0, "version_conflicts": 0}
    failures: list[dict[str, Any]] = []
    stores = engine.resolve(index)
    query = engine.filtered(index, stores, {"query": query})["query"]
    for store in stores:
        run = SearchRun(store, {"query": query}, {})
        searcher = run.searcher  # the last refreshed view
        found = searcher.search(
            run.query(),
            max(1, searcher.num_docs),
            order_by_field="_seq_no",
            order=tantivy.Order.Asc,
        )
        for seq_no, address in found.hits:
            if counts["done"] >= max_docs or (failures and conflicts == "abort"):
                break
            doc_id = searcher.doc(address).get_first("_id")
            counts["total"] += 1
            row = store.get_row(doc_id)
            if row is None or row.seq_no != int(seq_no):
                counts["version_conflicts"] += 1
                if conflicts == "abort":
                    failures.append(_conflict(store.name, store.uuid, doc_id, int(seq_no), row))
                continue
            opts = WriteOptions(if_seq_no=int(seq_no), if_primary_term=1)
            if action == "delete":
                store.delete_doc(doc_id, opts)
            else:
                assert row.source is not None
                store.index_doc(doc_id, row.source, json.loads(row.source), opts)
            counts["done"] += 1
        store.sources.commit()
        if req.refresh_requested():
            store.refresh()
    result = {
        "took": int((time.perf_counter() - started) * 1000),
        "timed_out": False,
        "total": counts["total"],
        ("deleted" if action == "delete" else "updated"): counts["done"],
        "batches": math.ceil(counts["total"] / scroll_size) if counts["total"] else 0,
        "version_conflicts": counts["version_conflicts"],
        "noops": counts["noops"],
        "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0,
        "requests_per_second": -1.0,
        "throttled_until_millis": 0,
        "failures": failures,
    }
    if action == "update":
        result["deleted"] = 0
    return (409 if failures else 200), result


def _conflict(index: str, uuid: str, doc_id: str, seq_no: int, row: Any) -> dict[str, Any]:
    current = (
        "but no document was found"
        if row is None
        else f". current document has seqNo [{row.seq_no}] and primary term [1]"
    )
    cause = {
        "type": "version_conflict_engine_exception",
        "reason": f"[{doc_id}]: version conflict, required seqNo [{seq_no}], primary term [1]"
        + (" " if row is None else "")
        + current,
        "index_uuid": uuid,
        "shard": "0",
        "index": index,
    }
    return {"index": index, "id": doc_id, "cause": cause, "status": 409}
