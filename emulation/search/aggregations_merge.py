"""Merging the aggregation results of several indices (a search over several indices).

Only merges that are exact are done: bucket counts add up, ``min``/``max``/``sum``/
``value_count``/``stats`` combine. An average, a cardinality or top hits cannot be
combined from per-index results without more state, so they answer 400 when a search
spans several indices.
"""

from __future__ import annotations

from typing import Any

from emulation.search.errors import unsupported

_BUCKET_KINDS = frozenset(
    {"terms", "filter", "filters", "range", "date_range", "histogram", "date_histogram", "missing"}
)
_MERGEABLE = _BUCKET_KINDS | {"min", "max", "sum", "value_count", "stats"}


def _kind(body: dict[str, Any]) -> str:
    return next(k for k in body if k not in ("aggs", "aggregations", "meta"))


def merge_aggregations(aggs: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    if len(results) == 1:
        return results[0]
    out: dict[str, Any] = {}
    for name, body in aggs.items():
        kind = _kind(body)
        if kind not in _MERGEABLE:
            raise unsupported(f"aggregation [{kind}] over several indices")
        sub = body.get("aggs", body.get("aggregations")) or {}
        out[name] = _merge_one(kind, body[kind], sub, [r[name] for r in results])
    return out


def _merge_one(kind: str, conf: Any, sub: dict[str, Any], parts: list[dict[str, Any]]) -> Any:
    if kind in ("min", "max"):
        values = [p["value"] for p in parts if p.get("value") is not None]
        pick = min if kind == "min" else max
        merged = dict(parts[0])
        merged["value"] = pick(values) if values else None
        for p in parts:
            if p.get("value") == merged["value"] and "value_as_string" in p:
                merged["value_as_string"] = p["value_as_string"]
        return merged
    if kind in ("sum", "value_count"):
        return {"value": sum(p.get("value") or 0 for p in parts)}
    if kind == "stats":
        count = sum(p["count"] for p in parts)
        mins = [p["min"] for p in parts if p.get("min") is not None]
        maxs = [p["max"] for p in parts if p.get("max") is not None]
        total = sum(p.get("sum") or 0 for p in parts)
        return {
            "count": count,
            "min": min(mins) if mins else None,
            "max": max(maxs) if maxs else None,
            "avg": total / count if count else None,
            "sum": total,
        }
    if kind in ("filter", "missing"):
        merged = {"doc_count": sum(p["doc_count"] for p in parts)}
        merged.update(merge_aggregations(sub, [p for p in parts]) if sub else {})
        return merged
    return _merge_buckets(kind, conf, sub, parts)


def _merge_buckets(kind: str, conf: Any, sub: dict[str, Any], parts: list[dict[str, Any]]) -> Any:
    keyed = isinstance(parts[0].get("buckets"), dict)
    by_key: dict[Any, list[dict[str, Any]]] = {}
    order: list[Any] = []
    for part in parts:
        buckets = part.get("buckets", {})
        items = buckets.items() if keyed else ((b["key"], b) for b in buckets)
        for key, bucket in items:
            if key not in by_key:
                by_key[key] = []
                order.append(key)
            by_key[key].append(bucket)
    merged_buckets = []
    for key in order:
        group = by_key[key]
        bucket = {k: v for k, v in group[0].items() if k not in sub}
        bucket["doc_count"] = sum(b["doc_count"] for b in group)
        if sub:
            bucket.update(merge_aggregations(sub, group))
        merged_buckets.append((key, bucket))
    if kind == "terms":
        merged_buckets.sort(key=lambda kb: (-kb[1]["doc_count"], kb[0]))
        size = int((conf or {}).get("size", 10))
        merged_buckets = merged_buckets[:size]
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(p.get("sum_other_doc_count", 0) for p in parts),
            "buckets": [b for _, b in merged_buckets],
        }
    if kind in ("histogram", "date_histogram"):
        merged_buckets.sort(key=lambda kb: kb[0])
    if keyed:
        return {"buckets": dict(merged_buckets)}
    return {"buckets": [b for _, b in merged_buckets]}
