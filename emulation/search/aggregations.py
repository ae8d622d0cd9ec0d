"""Aggregations: OpenSearch's ``aggs`` run by tantivy's (Elasticsearch-compatible)
aggregation engine where it has the kind, and by sub-queries where it has not.

Native (one tantivy request per level): ``terms``, ``histogram``, ``date_histogram``
(fixed-length intervals), ``range``, ``date_range``, ``min``, ``max``, ``sum``, ``avg``,
``value_count``, ``stats``, ``cardinality`` (HyperLogLog, exact for small sets as
OpenSearch's HyperLogLog++ is). Query-driven (``aggregations_query``): ``filter``,
``filters``, ``missing``, ``top_hits``, ``global``; under a native bucket they run once
per bucket with the bucket's own query. Results are reshaped to OpenSearch's output
(integer counts, ``key_as_string`` for dates and booleans, range keys like ``"*-3.0"``).
"""

from __future__ import annotations

from typing import Any

from emulation.search import aggregations_native as native
from emulation.search.aggregations_query import QUERY_KINDS, QueryAggs
from emulation.search.errors import parsing, unsupported

NATIVE_KINDS = native.METRICS | native.BUCKETS
KNOWN_UNSUPPORTED = frozenset(
    {
        "ip_range",
        "nested",
        "reverse_nested",
        "composite",
        "significant_terms",
        "significant_text",
        "rare_terms",
        "multi_terms",
        "sampler",
        "diversified_sampler",
        "adjacency_matrix",
        "auto_date_histogram",
        "variable_width_histogram",
        "geo_distance",
        "geohash_grid",
        "geotile_grid",
        "geo_bounds",
        "geo_centroid",
        "percentiles",
        "percentile_ranks",
        "extended_stats",
        "matrix_stats",
        "median_absolute_deviation",
        "scripted_metric",
        "weighted_avg",
        "avg_bucket",
        "max_bucket",
        "min_bucket",
        "sum_bucket",
        "stats_bucket",
        "bucket_script",
        "bucket_selector",
        "bucket_sort",
        "cumulative_sum",
        "derivative",
        "moving_avg",
        "moving_fn",
        "serial_diff",
    }
)


def kind_of(name: str, body: Any) -> str:
    if not isinstance(body, dict):
        raise parsing(f"Expected [START_OBJECT] under [{name}]")
    kinds = [k for k in body if k not in ("aggs", "aggregations", "meta")]
    if len(kinds) != 1:
        raise parsing(f"Expected exactly one aggregation type in [{name}]")
    kind = kinds[0]
    if kind in NATIVE_KINDS or kind in QUERY_KINDS:
        return kind
    if kind in KNOWN_UNSUPPORTED:
        raise unsupported(f"aggregation [{kind}]")
    raise parsing(f"Unknown aggregation type [{kind}] did you mean [terms]?")


def children(body: dict[str, Any]) -> dict[str, Any]:
    sub = body.get("aggs", body.get("aggregations")) or {}
    if not isinstance(sub, dict):
        raise parsing("Expected [START_OBJECT] under [aggregations]")
    return sub


class Aggregator:
    """Runs the ``aggs`` of one search (``run`` is its :class:`SearchRun`)."""

    def __init__(self, run: Any) -> None:
        self.run_ = run
        self.mapping = run.store.mapping
        self.native = native.NativeAggs(self)
        self.queries = QueryAggs(self)

    def run(self, query: Any, aggs: Any) -> dict[str, Any]:
        if not isinstance(aggs, dict):
            raise parsing("Expected [START_OBJECT] under [aggregations]")
        kinds = {name: kind_of(name, body) for name, body in aggs.items()}
        tantivy_aggs = {n: b for n, b in aggs.items() if kinds[n] in NATIVE_KINDS}
        shaped = self.native.run(query, tantivy_aggs) if tantivy_aggs else {}
        out: dict[str, Any] = {}
        for name, body in aggs.items():
            if kinds[name] in QUERY_KINDS:
                out[name] = self.queries.run(kinds[name], body, query)
            else:
                out[name] = shaped[name]
            if "meta" in body:
                out[name] = {"meta": body["meta"], **out[name]}
        return out
