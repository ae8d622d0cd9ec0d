"""The aggregation kinds tantivy computes: translation to tantivy's request, and the
reshaping of its answer into OpenSearch's.

A native bucket whose children include query-driven kinds (``filter``, ``top_hits``, …)
gets those children computed per bucket, with the bucket's query (a term, a range)
added to the search's query.
"""

from __future__ import annotations

import functools
from typing import Any

import tantivy

from emulation.search.dates import parse_date_math
from emulation.search.documents import coerce, date_bound, date_text, format_date
from emulation.search.errors import SearchError, bad_request, parsing, unsupported
from emulation.search.field_types import STORED_ONLY
from emulation.search.mapping import INTEGER_TYPES, FieldSpec

METRICS = frozenset({"min", "max", "value_count", "avg", "sum", "stats", "cardinality"})
BUCKETS = frozenset({"terms", "histogram", "date_histogram", "range", "date_range"})
_TERMS_KEYS = frozenset({"field", "size", "order", "min_doc_count", "missing", "shard_size"})
_HISTOGRAM_KEYS = frozenset(
    {"field", "interval", "fixed_interval", "calendar_interval", "offset", "min_doc_count"}
    | {"keyed"}
)
_FIXED_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_CALENDAR = {
    "minute": "1m",
    "1m": "1m",
    "hour": "1h",
    "1h": "1h",
    "day": "1d",
    "1d": "1d",
    "week": "7d",
    "1w": "7d",
}
_MONDAY_OFFSET_MS = 4 * 86_400_000  # 1970-01-01 was a Thursday; weeks start on Monday
Q = tantivy.Query


def _interval_ms(conf: dict[str, Any]) -> tuple[int, int]:
    """(interval, offset) in ms of a date_histogram; calendar months/years are refused."""
    offset = 0
    if "calendar_interval" in conf:
        text = str(conf["calendar_interval"])
        if text not in _CALENDAR:
            raise unsupported(f"date_histogram calendar_interval [{text}]")
        if _CALENDAR[text] == "7d":
            offset = _MONDAY_OFFSET_MS
        text = _CALENDAR[text]
    else:
        text = str(conf.get("fixed_interval", conf.get("interval", "")))
    for unit in ("ms", "s", "m", "h", "d"):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * _FIXED_MS[unit], offset
    raise bad_request(f"failed to parse date_histogram interval [{text}]")


def _range_key(value: Any, is_date: bool, spec: FieldSpec | None) -> str:
    if value is None:
        return "*"
    if is_date:
        return date_text(spec, value) if spec is not None else format_date(value)
    return str(float(value))


class NativeAggs:
    def __init__(self, parent: Any) -> None:
        self.parent = parent
        self.mapping = parent.mapping
        self.run_ = parent.run_

    # -- field checks ------------------------------------------------------------------------
    def field(self, kind: str, conf: Any) -> FieldSpec | None:
        if not isinstance(conf, dict) or "field" not in conf:
            if isinstance(conf, dict) and "script" in conf:
                raise unsupported(f"[{kind}] aggregation with script")
            raise SearchError(
                400,
                "illegal_argument_exception",
                "Required one of fields [field, script], but none were specified.",
            )
        spec = self.mapping.field(str(conf["field"]))
        if spec is not None and spec.is_text:
            raise SearchError(
                400,
                "illegal_argument_exception",
                "Text fields are not optimised for operations that require per-document field "
                "data like aggregations and sorting, so these operations are disabled by "
                "default. Please use a keyword field instead. Alternatively, set fielddata=true"
                f" on [{spec.path}] in order to load field data by uninverting the inverted "
                "index. Note that this can use significant memory.",
            )
        if spec is not None and spec.type in STORED_ONLY:
            raise unsupported(f"aggregations on a [{spec.type}] field [{spec.path}]")
        return spec

    # -- translation -------------------------------------------------------------------------
    def translate(self, aggs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        from emulation.search.aggregations import children, kind_of

        request: dict[str, Any] = {}
        plan: dict[str, Any] = {}
        for name, body in aggs.items():
            kind = kind_of(name, body)
            conf = body[kind]
            spec = self.field(kind, conf)
            sub = children(body)
            if sub and kind in METRICS:
                raise parsing(
                    f"Aggregator [{name}] of type [{kind}] cannot accept sub-aggregations"
                )
            native_sub = {n: b for n, b in sub.items() if kind_of(n, b) in METRICS | BUCKETS}
            sub_request, sub_plan = self.translate(native_sub) if native_sub else ({}, {})
            plan[name] = (kind, spec, conf, sub, sub_plan)
            if spec is None:
                continue
            tantivy_kind = kind[5:] if kind in ("date_histogram", "date_range") else kind
            entry: dict[str, Any] = {tantivy_kind: self._conf(name, kind, spec, conf, sub)}
            if sub_request:
                entry["aggs"] = sub_request
            request[name] = entry
        return request, plan

    def _conf(
        self, name: str, kind: str, spec: FieldSpec, conf: dict[str, Any], sub: dict
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"field": spec.internal}
        if kind == "terms":
            extra = set(conf) - _TERMS_KEYS
            if extra:
                raise unsupported(f"terms aggregation option [{sorted(extra)[0]}]")
            out.update({k: v for k, v in conf.items() if k in ("size", "min_doc_count", "missing")})
            out.setdefault("size", 10)
            if "order" in conf:
                out["order"] = conf["order"]
                native_names = self._native_names(sub)
                heads = [k.split(".")[0] for k in _order_keys(conf["order"])]
                if any(h in sub and h not in native_names for h in heads):
                    out.pop("order")
                    out["size"] = 65_535  # ordered in Python once the children are known
        elif kind in ("histogram", "date_histogram"):
            if kind == "histogram":
                if "interval" not in conf:
                    raise parsing("[interval] must be specified for histogram aggregation")
                out["interval"] = float(conf["interval"])
                if "offset" in conf:
                    out["offset"] = float(conf["offset"])
            else:
                interval, offset = _interval_ms(conf)
                out["interval"] = float(interval)
                if offset:
                    out["offset"] = float(offset)
            out["min_doc_count"] = int(conf.get("min_doc_count", 0))
            extra = set(conf) - _HISTOGRAM_KEYS
            if extra:
                raise unsupported(f"{kind} option [{sorted(extra)[0]}]")
        elif kind in ("range", "date_range"):
            extra = set(conf) - {"field", "ranges", "keyed", "missing"}
            if extra:
                raise unsupported(f"{kind} option [{sorted(extra)[0]}]")
            ranges = conf.get("ranges")
            if not isinstance(ranges, list) or not ranges:
                raise bad_request(f"No [ranges] specified for the [{kind}] aggregation")
            out["ranges"] = [self._range(kind, spec, r) for r in ranges]
        if kind in METRICS:
            allowed = {"field", "missing"} | (
                {"precision_threshold"} if kind == "cardinality" else set()
            )
            extra = set(conf) - allowed
            if extra:
                raise unsupported(f"{kind} option [{sorted(extra)[0]}]")
        if kind == "cardinality":
            threshold = conf.get("precision_threshold")
            if threshold is not None and int(threshold) < 0:
                raise bad_request(
                    "[precisionThreshold] must be greater than or equal to 0. "
                    f"Found [{threshold}] in [{name}]"
                )
            if "missing" in conf:
                out["missing"] = conf["missing"]
        elif kind in METRICS and "missing" in conf:
            out["missing"] = float(coerce(spec, conf["missing"]))
        return out

    @staticmethod
    def _native_names(sub: dict[str, Any]) -> set[str]:
        from emulation.search.aggregations import kind_of

        return {n for n, b in sub.items() if kind_of(n, b) in METRICS | BUCKETS}

    def _range(self, kind: str, spec: FieldSpec | None, r: Any) -> dict[str, Any]:
        if not isinstance(r, dict):
            raise parsing(f"[{kind}] ranges must be objects")
        is_date = kind == "date_range" or (spec is not None and spec.type == "date")
        conv: Any = float
        if is_date:
            conv = functools.partial(date_bound, spec) if spec is not None else parse_date_math
        out: dict[str, Any] = {}
        for bound in ("from", "to"):
            if r.get(bound) is not None:
                out[bound] = float(conv(r[bound]))
        lo, hi = (
            _range_key(out.get("from"), is_date, spec),
            _range_key(out.get("to"), is_date, spec),
        )
        out["key"] = r.get("key") or f"{lo}-{hi}"
        return out

    # -- running -----------------------------------------------------------------------------
    def run(self, query: Any, aggs: dict[str, Any]) -> dict[str, Any]:
        request, plan = self.translate(aggs)
        raw = self.run_.searcher.aggregate(query, request) if request else {}
        return self.shape(raw, plan, query)

    def shape(self, raw: dict[str, Any], plan: dict[str, Any], query: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (kind, spec, conf, sub, sub_plan) in plan.items():
            result = raw.get(name) if spec is not None else None
            if kind in METRICS:
                out[name] = self._metric(kind, result, spec, conf, query)
            else:
                out[name] = self._buckets(kind, result, spec, conf, sub, sub_plan, query)
        return out

    def _metric(self, kind: str, raw: Any, spec: FieldSpec | None, conf: Any, query: Any) -> Any:
        if spec is None and "missing" in conf:  # every document has the missing value
            n = int(self.run_.searcher.search(query, 1, count=True).count)
            value = conf["missing"]
            if kind == "cardinality":
                return {"value": 1 if n else 0}
            if kind == "value_count":
                return {"value": n}
            number = float(value) if n else None
            if kind == "sum":
                return {"value": float(value) * n}
            if kind == "stats":
                total = float(value) * n
                return {"count": n, "min": number, "max": number, "avg": number, "sum": total}
            return {"value": number}
        if kind in ("value_count", "cardinality"):
            return {"value": int((raw or {}).get("value") or 0)}
        if kind == "stats":
            stats = raw or {"count": 0, "min": None, "max": None, "avg": None, "sum": 0.0}
            return {**stats, "count": int(stats.get("count") or 0)}
        value = (raw or {}).get("value")
        if kind == "sum" and value is None:
            value = 0.0
        result: dict[str, Any] = {"value": value}
        if spec is not None and spec.type == "date" and value is not None:
            result["value_as_string"] = date_text(spec, value)
        return result

    def _buckets(
        self,
        kind: str,
        raw: Any,
        spec: FieldSpec | None,
        conf: dict[str, Any],
        sub: dict[str, Any],
        sub_plan: dict[str, Any],
        query: Any,
    ) -> Any:
        extra = {n: b for n, b in sub.items() if n not in sub_plan}
        buckets = []
        raw_buckets = (raw or {}).get("buckets", [])
        if kind in ("range", "date_range"):  # as requested: tantivy adds buckets for gaps
            found = {b["key"]: b for b in raw_buckets}
            raw_buckets = []
            for r in conf["ranges"]:
                wanted = self._range(kind, spec, r)
                raw_buckets.append({**wanted, "doc_count": 0, **found.get(wanted["key"], {})})
            raw_buckets.sort(  # OpenSearch orders ranges by (from, to)
                key=lambda b: (b.get("from", float("-inf")), b.get("to", float("inf")))
            )
            if "missing" in conf:
                self._count_missing(kind, spec, conf, sub, raw_buckets, query)
        for b in raw_buckets:
            bucket: dict[str, Any] = {"key": b["key"], "doc_count": int(b["doc_count"])}
            self._key(kind, spec, conf, b, bucket)
            bucket.update(self.shape(b, sub_plan, query))
            if extra:
                bucket_query = self._bucket_query(kind, spec, conf, bucket)
                both = Q.boolean_query(
                    [(tantivy.Occur.Must, query), (tantivy.Occur.Must, bucket_query)]
                )
                bucket.update(self.parent.run(both, extra))
            buckets.append(bucket)
        if kind == "terms":
            heads = [k.split(".")[0] for k in _order_keys(conf.get("order"))]
            if any(h in extra for h in heads):
                buckets = _sort_by_children(buckets, conf["order"])[: int(conf.get("size", 10))]
            return {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": int((raw or {}).get("sum_other_doc_count", 0)),
                "buckets": buckets,
            }
        if conf.get("keyed"):
            keyed = {}
            for b in buckets:
                name = b.pop("key") if kind.endswith("range") else b.get("key_as_string", b["key"])
                keyed[str(name)] = b
            return {"buckets": keyed}
        return {"buckets": buckets}

    def _count_missing(
        self, kind: str, spec: Any, conf: dict, sub: dict, buckets: list[dict], query: Any
    ) -> None:
        """Documents without the field count in the range holding ``missing``."""
        if sub:
            raise unsupported(f"[missing] on a [{kind}] aggregation with sub-aggregations")
        value = self._range(kind, spec, {"from": conf["missing"]})["from"]
        exists = self.run_.builder.build({"exists": {"field": conf["field"]}})
        absent = Q.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, exists)])
        n = int(self.run_.searcher.search(absent, 1, count=True).count)
        for b in buckets:
            if b.get("from", float("-inf")) <= value < b.get("to", float("inf")):
                b["doc_count"] = int(b["doc_count"]) + n

    def _key(self, kind: str, spec: Any, conf: dict, raw: dict, bucket: dict[str, Any]) -> None:
        if kind in ("range", "date_range"):
            is_date = kind == "date_range" or (spec is not None and spec.type == "date")
            for bound in ("from", "to"):
                if raw.get(bound) is not None:
                    bucket[bound] = float(raw[bound])
                    if is_date:
                        text = date_text(spec, raw[bound]) if spec else format_date(raw[bound])
                        bucket[f"{bound}_as_string"] = text
            bucket["doc_count"] = int(raw["doc_count"])
            ordered = {"key": bucket["key"]}
            ordered.update({k: v for k, v in bucket.items() if k != "key"})
            bucket.clear()
            bucket.update(ordered)
            return
        if spec is None:
            return
        if kind == "date_histogram" or spec.type == "date":
            bucket["key"] = int(raw["key"])
            bucket["key_as_string"] = date_text(spec, raw["key"])
            bucket["doc_count"] = bucket.pop("doc_count")  # after key_as_string, as OpenSearch
        elif spec.type == "boolean":
            bucket["key"] = 1 if raw["key"] in (1, True, "true") else 0
            bucket["key_as_string"] = "true" if bucket["key"] else "false"
            bucket["doc_count"] = bucket.pop("doc_count")
        elif kind == "histogram":  # histogram keys are doubles, whatever the field
            bucket["key"] = float(raw["key"])
        elif spec.type in INTEGER_TYPES or spec.type == "unsigned_long":
            bucket["key"] = int(raw["key"])

    def _bucket_query(self, kind: str, spec: Any, conf: dict, bucket: dict[str, Any]) -> Any:
        if kind == "terms":
            key = bucket["key"]
            if spec.type == "boolean":
                key = bool(key)
            return self.run_.builder.exact(spec, key)
        if kind in ("histogram", "date_histogram"):
            width = float(conf["interval"]) if kind == "histogram" else _interval_ms(conf)[0]
            lo, hi = bucket["key"], bucket["key"] + width
            return self.run_.builder.range_between(spec, lo, hi)
        return self.run_.builder.range_between(spec, bucket.get("from"), bucket.get("to"))


def _order_keys(order: Any) -> list[str]:
    if order is None:
        return []
    items = order if isinstance(order, list) else [order]
    return [str(k) for item in items if isinstance(item, dict) for k in item]


def _sort_by_children(buckets: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    items = order if isinstance(order, list) else [order]
    for item in reversed([i for i in items if isinstance(i, dict)]):
        for path, direction in reversed(list(item.items())):

            def value(bucket: dict[str, Any], path: str = path) -> Any:
                node: Any = bucket
                for part in path.replace(">", ".").split("."):
                    node = node.get(part) if isinstance(node, dict) else None
                return node if node is not None else float("-inf")

            buckets.sort(key=value, reverse=str(direction).lower() == "desc")
    return buckets
