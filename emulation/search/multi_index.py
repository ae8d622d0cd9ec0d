"""``_search`` over several indices (comma lists, wildcards, aliases, ``_all``).

Each index is searched for its best ``from + size`` hits, as each shard is in OpenSearch,
and the pages are merged by the request's sort (score, or the sort values) with ties
broken by index order, then cut to ``from``/``size``. Totals add up. Aggregations over
several indices merge the per-index results for the bucket and metric kinds whose
merge is exact; the others answer 400.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from emulation.search.aggregations_merge import merge_aggregations
from emulation.search.index_store import IndexStore
from emulation.search.raw_json import RawFragments
from emulation.search.search import SearchRun, SortKey, compare_values
from emulation.search.source_filter import SourceFilter


def empty_response(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """What OpenSearch answers for a search that resolved to no index."""
    hits: dict[str, Any] = {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}
    if str(params.get("track_total_hits", body.get("track_total_hits", ""))).lower() == "false":
        del hits["total"]
    return {
        "took": 0,
        "timed_out": False,
        "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
        "hits": hits,
    }


def search_many(
    stores: list[IndexStore], body: dict[str, Any], params: dict[str, str]
) -> tuple[dict[str, Any], RawFragments]:
    """The merged response (hit sources as placeholders of the returned fragments)."""
    started = time.perf_counter()
    runs = [SearchRun(s, body, params) for s in stores]
    frm, size = runs[0].window()
    keys = runs[0].sort_keys()
    rows: list[tuple[Any, ...]] = []
    total = 0
    max_score: float | None = None
    track = True
    for order, run in enumerate(runs):
        page, n, best, track = run.collect(0, frm + size)
        total += n
        if best is not None:
            max_score = best if max_score is None else max(max_score, best)
        rows.extend((run, order, pos, row) for pos, row in enumerate(page))
    rows.sort(key=functools.cmp_to_key(functools.partial(_compare, keys)))
    source_filter = SourceFilter.from_params(params, body.get("_source"))
    parts = [r[0].encode_hits([r[3]], track, source_filter)[1:-1] for r in rows[frm : frm + size]]
    fragments = RawFragments()
    hits_obj: dict[str, Any] = {}
    total_obj = runs[0].hits_total(total)
    if total_obj is not None:
        hits_obj["total"] = total_obj
    hits_obj["max_score"] = max_score if track else None
    hits_obj["hits"] = fragments.add(b"[" + b",".join(parts) + b"]")
    n = len(stores)
    response: dict[str, Any] = {
        "took": 0,
        "timed_out": False,
        "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
        "hits": hits_obj,
    }
    per_index = [run.aggregations() for run in runs]
    if per_index[0] is not None:
        aggs = body.get("aggs", body.get("aggregations"))
        response["aggregations"] = merge_aggregations(aggs, [a for a in per_index if a])
    response["took"] = int((time.perf_counter() - started) * 1000)
    return response, fragments


def _compare(keys: list[SortKey], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    # row = (run, index order, position in that index's page, (id, raw, score, sort))
    if keys and not (len(keys) == 1 and keys[0].field == "_score" and keys[0].descending):
        found = compare_values(keys, a[3][3], b[3][3])
        if found:
            return found
    elif a[3][2] != b[3][2]:
        return -1 if a[3][2] > b[3][2] else 1
    return -1 if (a[1], a[2]) < (b[1], b[2]) else 1
