"""Aggregation kinds computed with sub-queries: ``filter``, ``filters``, ``missing``,
``global`` and ``top_hits``.

Each runs the search's query combined with its own (a filter, "field is absent", all
documents) and then its children on that narrower query, so any child kind works under
them. ``top_hits`` is a small search of its own (``size``, ``from``, ``sort``,
``_source``) whose hits are encoded like a search's.
"""

from __future__ import annotations

import json
from typing import Any

import tantivy

from emulation.search.errors import parsing, unsupported

QUERY_KINDS = frozenset({"filter", "filters", "missing", "global", "top_hits"})
_TOP_HITS_KEYS = frozenset(
    {"size", "from", "sort", "_source", "track_scores", "version", "seq_no_primary_term"}
)
Q = tantivy.Query


def _and(a: Any, b: Any) -> Any:
    filtered = Q.const_score_query(b, 0.0)
    return Q.boolean_query([(tantivy.Occur.Must, a), (tantivy.Occur.Must, filtered)])


class QueryAggs:
    def __init__(self, parent: Any) -> None:
        self.parent = parent
        self.run_ = parent.run_

    def count(self, query: Any) -> int:
        return int(self.run_.searcher.search(query, 1, count=True).count)

    def _bucket(self, query: Any, body: dict[str, Any]) -> dict[str, Any]:
        from emulation.search.aggregations import children

        out: dict[str, Any] = {"doc_count": self.count(query)}
        sub = children(body)
        if sub:
            out.update(self.parent.run(query, sub))
        return out

    def run(self, kind: str, body: dict[str, Any], query: Any) -> dict[str, Any]:
        conf = body[kind]
        builder = self.run_.builder
        if kind == "filter":
            return self._bucket(_and(query, builder.build(conf)), body)
        if kind == "global":
            return self._bucket(Q.all_query(), body)
        if kind == "missing":
            if not isinstance(conf, dict) or "field" not in conf:
                raise parsing("[missing] aggregation requires a [field]")
            exists = builder.build({"exists": {"field": conf["field"]}})
            absent = Q.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, exists)])
            return self._bucket(absent, body)
        if kind == "filters":
            return self._filters(conf, body, query)
        return self._top_hits(conf, body, query)

    def _filters(self, conf: Any, body: dict[str, Any], query: Any) -> dict[str, Any]:
        if not isinstance(conf, dict) or "filters" not in conf:
            raise parsing("[filters] aggregation requires [filters]")
        extra = set(conf) - {"filters", "other_bucket", "other_bucket_key"}
        if extra:
            raise unsupported(f"filters aggregation option [{sorted(extra)[0]}]")
        filters = conf["filters"]
        builder = self.run_.builder
        named = isinstance(filters, dict)
        items = list(filters.items()) if named else list(enumerate(filters))
        buckets = [(key, self._bucket(_and(query, builder.build(f)), body)) for key, f in items]
        other_key = conf.get("other_bucket_key")
        if conf.get("other_bucket") or other_key:
            rest = Q.boolean_query(
                [(tantivy.Occur.Must, query)]
                + [(tantivy.Occur.MustNot, builder.build(f)) for _, f in items]
            )
            buckets.append((other_key or "_other_", self._bucket(rest, body)))
        if named:
            return {"buckets": dict(buckets)}
        return {"buckets": [b for _, b in buckets]}

    def _top_hits(self, conf: Any, body: dict[str, Any], query: Any) -> dict[str, Any]:
        from emulation.search.aggregations import children
        from emulation.search.search import SearchRun
        from emulation.search.source_filter import SourceFilter

        if children(body):
            raise parsing("Aggregator [top_hits] cannot accept sub-aggregations")
        conf = conf or {}
        extra = set(conf) - _TOP_HITS_KEYS
        if extra:
            raise unsupported(f"top_hits option [{sorted(extra)[0]}]")
        parent = self.run_
        sub_body = {k: v for k, v in conf.items() if k in ("sort", "track_scores", "_source")}
        sub_body.update({"size": int(conf.get("size", 3)), "from": int(conf.get("from", 0))})
        run = SearchRun(parent.store, sub_body, {}, parent.searcher)
        run.query = lambda: query  # type: ignore[method-assign]
        page, total, max_score, track = run.collect(sub_body["from"], sub_body["size"])
        source_filter = SourceFilter.from_params({}, conf.get("_source"))
        hits = json.loads(run.encode_hits(page, track, source_filter))
        return {
            "hits": {
                "total": {"value": total, "relation": "eq"},
                "max_score": max_score if track else None,
                "hits": hits,
            }
        }
