"""Aggregations: OpenSearch's ``aggs`` run by tantivy's (Elasticsearch-compatible)
aggregation engine, with field paths mapped to tantivy fields and results reshaped to
OpenSearch's exact output (integer counts, ``key_as_string`` for dates and booleans).
"""

from __future__ import annotations

from typing import Any

import tantivy

from emulation.search.documents import format_date
from emulation.search.errors import SearchError, parsing, unsupported
from emulation.search.mapping import FieldSpec, Mapping

METRICS = frozenset({"min", "max", "value_count", "avg", "sum", "stats"})
_TERMS_KEYS = frozenset({"field", "size", "order", "min_doc_count", "missing", "shard_size"})


def _field(mapping: Mapping, kind: str, conf: Any) -> FieldSpec | None:
    if not isinstance(conf, dict) or "field" not in conf:
        if isinstance(conf, dict) and "script" in conf:
            raise unsupported(f"[{kind}] aggregation with script")
        raise SearchError(
            400,
            "illegal_argument_exception",
            "Required one of fields [field, script], but none were specified.",
        )
    spec = mapping.field(str(conf["field"]))
    if spec is not None and spec.is_text:
        raise SearchError(
            400,
            "illegal_argument_exception",
            "Text fields are not optimised for operations that require per-document field "
            "data like aggregations and sorting, so these operations are disabled by default. "
            f"Please use a keyword field instead. Alternatively, set fielddata=true on "
            f"[{spec.path}] in order to load field data by uninverting the inverted index. "
            "Note that this can use significant memory.",
        )
    return spec


class Aggregator:
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping

    def translate(self, aggs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(tantivy request, plan); unmapped-field aggs are answered without tantivy."""
        request: dict[str, Any] = {}
        plan: dict[str, Any] = {}
        if not isinstance(aggs, dict):
            raise parsing("Expected [START_OBJECT] under [aggregations]")
        for name, body in aggs.items():
            if not isinstance(body, dict):
                raise parsing(f"Expected [START_OBJECT] under [{name}]")
            kinds = [k for k in body if k not in ("aggs", "aggregations", "meta")]
            if len(kinds) != 1:
                raise parsing(f"Expected exactly one aggregation type in [{name}]")
            kind = kinds[0]
            conf = body[kind]
            if kind not in METRICS and kind != "terms":
                raise unsupported(f"aggregation [{kind}]")
            spec = _field(self.mapping, kind, conf)
            sub = body.get("aggs", body.get("aggregations"))
            if sub and kind != "terms":
                raise parsing(
                    f"Aggregator [{name}] of type [{kind}] cannot accept sub-aggregations"
                )
            sub_request, sub_plan = self.translate(sub) if sub else ({}, {})
            plan[name] = (kind, spec, sub_plan)
            if spec is None:
                continue
            out = {k: v for k, v in conf.items() if k != "shard_size"}
            out["field"] = spec.internal
            if kind == "terms":
                extra = set(conf) - _TERMS_KEYS
                if extra:
                    raise unsupported(f"terms aggregation option [{sorted(extra)[0]}]")
                out.setdefault("size", 10)
            elif kind == "value_count":
                out = {"field": spec.internal}
            entry: dict[str, Any] = {kind: out}
            if sub_request:
                entry["aggs"] = sub_request
            request[name] = entry
        return request, plan

    def run(
        self, searcher: tantivy.Searcher, query: tantivy.Query, aggs: dict[str, Any]
    ) -> dict[str, Any]:
        request, plan = self.translate(aggs)
        raw = searcher.aggregate(query, request) if request else {}
        return self._shape(raw, plan)

    def _shape(self, raw: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (kind, spec, sub_plan) in plan.items():
            result = raw.get(name) if spec is not None else None
            if kind == "terms":
                out[name] = self._terms(result, spec, sub_plan)
            else:
                out[name] = _metric(kind, result, spec)
        return out

    def _terms(
        self, raw: dict[str, Any] | None, spec: FieldSpec | None, sub_plan: dict[str, Any]
    ) -> dict[str, Any]:
        buckets = []
        for b in (raw or {}).get("buckets", []):
            bucket: dict[str, Any] = {"key": b["key"], "doc_count": int(b["doc_count"])}
            if spec is not None and spec.type == "date":
                bucket["key"] = int(b["key"])
                bucket["key_as_string"] = format_date(b["key"])
            elif spec is not None and spec.type == "boolean":
                bucket["key"] = 1 if b["key"] in (1, True, "true") else 0
                bucket["key_as_string"] = "true" if bucket["key"] else "false"
            elif spec is not None and spec.type in ("integer", "long", "short", "byte"):
                bucket["key"] = int(b["key"])
            bucket.update(self._shape(b, sub_plan))
            buckets.append(bucket)
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": int((raw or {}).get("sum_other_doc_count", 0)),
            "buckets": buckets,
        }


def _metric(kind: str, raw: dict[str, Any] | None, spec: FieldSpec | None) -> dict[str, Any]:
    if kind == "value_count":
        return {"value": int((raw or {}).get("value") or 0)}
    if kind == "stats":
        stats = raw or {"count": 0, "min": None, "max": None, "avg": None, "sum": 0.0}
        return {**stats, "count": int(stats.get("count") or 0)}
    value = (raw or {}).get("value")
    if kind == "sum" and value is None:
        value = 0.0
    out: dict[str, Any] = {"value": value}
    if spec is not None and spec.type == "date" and value is not None:
        out["value_as_string"] = format_date(value)
    return out
