"""The query DSL: OpenSearch ``query`` JSON translated into tantivy queries.

Anything outside the supported subset is refused with a 400 naming it; an unknown
query name is a ``parsing_exception`` as in OpenSearch. Queries on unmapped fields
match nothing, as they do in OpenSearch.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

import tantivy

from emulation.search.dates import parse_date_math
from emulation.search.documents import coerce
from emulation.search.errors import SearchError, parsing, unsupported
from emulation.search.field_types import STORED_ONLY, parse_nanos
from emulation.search.full_text import FullText, min_should_match, regex_escape
from emulation.search.mapping import FLOAT_TYPES, INTEGER_TYPES, FieldSpec, Mapping

Q = tantivy.Query
Occur = tantivy.Occur
# Real OpenSearch queries this engine does not implement: refused by name.
KNOWN_UNSUPPORTED = frozenset(
    {
        "query_string",
        "simple_query_string",
        "function_score",
        "script_score",
        "script",
        "nested",
        "has_child",
        "has_parent",
        "parent_id",
        "geo_distance",
        "geo_bounding_box",
        "geo_polygon",
        "geo_shape",
        "shape",
        "more_like_this",
        "span_term",
        "span_near",
        "span_first",
        "span_or",
        "span_not",
        "span_containing",
        "span_within",
        "span_multi",
        "field_masking_span",
        "intervals",
        "terms_set",
        "distance_feature",
        "percolate",
        "rank_feature",
        "wrapper",
        "knn",
        "neural",
        "combined_fields",
        "pinned",
        "boosting",
        "hybrid",
    }
)
_BOOL_KEYS = frozenset(
    {
        "must",
        "should",
        "filter",
        "must_not",
        "minimum_should_match",
        "boost",
        "_name",
        "adjust_pure_negative",
    }
)


def _single_field(kind: str, body: Any) -> tuple[str, Any]:
    if not isinstance(body, dict):
        raise parsing(f"[{kind}] query malformed, no start_object after query name")
    fields = [k for k in body if k not in ("boost", "_name")]
    if len(fields) != 1:
        raise parsing(
            f"[{kind}] query doesn't support multiple fields, found "
            f"[{fields[0] if fields else ''}] and [{fields[-1] if fields else ''}]"
        )
    return fields[0], body[fields[0]]


def _value(kind: str, body: Any, key: str = "value") -> tuple[Any, float]:
    if isinstance(body, dict):
        if key not in body:
            raise parsing(f"[{kind}] query requires [{key}]")
        if body.get("case_insensitive"):
            raise unsupported(f"[{kind}] with case_insensitive")
        return body[key], float(body.get("boost", 1.0))
    return body, 1.0


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else Q.boost_query(query, boost)


class QueryBuilder:
    def __init__(self, mapping: Mapping, schema: tantivy.Schema, searcher: tantivy.Searcher):
        self.mapping = mapping
        self.schema = schema
        self.searcher = searcher
        self.full_text = FullText(self)

    def field(self, path: str) -> FieldSpec | None:
        return self.mapping.field(path)

    def expand_fields(self, fields: list[str]) -> list[tuple[FieldSpec, float]]:
        """``["name^3", "desc*"]`` -> mapped specs with boosts (wildcards expanded)."""
        out: list[tuple[FieldSpec, float]] = []
        for entry in fields:
            name, _, boost = str(entry).partition("^")
            weight = float(boost) if boost else 1.0
            if "*" in name:
                for path, spec in self.mapping.fields.items():
                    if fnmatch.fnmatchcase(path, name) and (spec.is_text or name != "*"):
                        out.append((spec, weight))
            elif (spec := self.field(name)) is not None:
                out.append((spec, weight))
        return out

    # -- entry point -----------------------------------------------------------------------
    def build(self, dsl: Any) -> tantivy.Query:
        if not isinstance(dsl, dict) or len(dsl) != 1:
            raise parsing(
                "[_na] query malformed, must start with start_object"
                if not isinstance(dsl, dict)
                else "[bool] malformed query, expected a single query name"
            )
        kind, body = next(iter(dsl.items()))
        handler = getattr(self, f"_q_{kind}", None)
        if handler is None:
            if kind in KNOWN_UNSUPPORTED:
                raise unsupported(f"query [{kind}]")
            raise parsing(f"unknown query [{kind}]")
        query: tantivy.Query = handler(body)
        return query

    # -- compound ----------------------------------------------------------------------
    def _q_match_all(self, body: Any) -> tantivy.Query:
        boost = float((body or {}).get("boost", 1.0))
        return Q.all_query() if boost == 1.0 else Q.const_score_query(Q.all_query(), boost)

    def _q_match_none(self, body: Any) -> tantivy.Query:
        return Q.empty_query()

    def _clauses(self, value: Any) -> list[tantivy.Query]:
        items = value if isinstance(value, list) else [value]
        return [self.build(item) for item in items]

    def _q_bool(self, body: Any) -> tantivy.Query:
        if not isinstance(body, dict):
            raise parsing("[bool] query malformed")
        extra = set(body) - _BOOL_KEYS
        if extra:
            raise parsing(f"[bool] query does not support [{sorted(extra)[0]}]")
        must = self._clauses(body.get("must", []))
        filters = self._clauses(body.get("filter", []))
        should = self._clauses(body.get("should", []))
        must_not = self._clauses(body.get("must_not", []))
        subs: list[tuple[tantivy.Occur, tantivy.Query]] = [(Occur.Must, q) for q in must]
        subs += [(Occur.Must, Q.const_score_query(q, 0.0)) for q in filters]
        subs += [(Occur.Should, q) for q in should]
        subs += [(Occur.MustNot, q) for q in must_not]
        if not subs:
            return _boosted(Q.all_query(), float(body.get("boost", 1.0)))
        if not (must or filters or should):
            subs.append((Occur.Must, Q.const_score_query(Q.all_query(), 0.0)))
        msm: int | None = None
        if "minimum_should_match" in body and should:
            msm = min_should_match(body["minimum_should_match"], len(should))
        query = Q.boolean_query(subs, msm if msm else None)
        return _boosted(query, float(body.get("boost", 1.0)))

    def _q_constant_score(self, body: Any) -> tantivy.Query:
        if not isinstance(body, dict) or "filter" not in body:
            raise parsing("[constant_score] requires a 'filter' element")
        return Q.const_score_query(self.build(body["filter"]), float(body.get("boost", 1.0)))

    def _q_dis_max(self, body: Any) -> tantivy.Query:
        queries = self._clauses((body or {}).get("queries", []))
        if not queries:
            raise parsing("[dis_max] requires 'queries' field with at least one clause")
        query = Q.disjunction_max_query(queries, float(body.get("tie_breaker", 0.0)))
        return _boosted(query, float(body.get("boost", 1.0)))

    # -- full text ---------------------------------------------------------------------
    def _q_match(self, body: Any) -> tantivy.Query:
        return self.full_text.match(*_single_field("match", body))

    def _q_match_bool_prefix(self, body: Any) -> tantivy.Query:
        field, value = _single_field("match_bool_prefix", body)
        return self.full_text.match(field, value, "match_bool_prefix")

    def _q_match_phrase(self, body: Any) -> tantivy.Query:
        return self.full_text.phrase(*_single_field("match_phrase", body))

    def _q_match_phrase_prefix(self, body: Any) -> tantivy.Query:
        field, value = _single_field("match_phrase_prefix", body)
        return self.full_text.phrase(field, value, prefix=True)

    def _q_multi_match(self, body: Any) -> tantivy.Query:
        if not isinstance(body, dict):
            raise parsing("[multi_match] query malformed")
        return self.full_text.multi_match(body)

    # -- term level ----------------------------------------------------------------------
    def exact(self, spec: FieldSpec, value: Any, lenient: bool = False) -> tantivy.Query:
        """The term query for one value of a field, coerced to the field's type."""
        if isinstance(value, dict | list):
            raise parsing(f"[term] query does not support array or object for [{spec.path}]")
        if spec.type in STORED_ONLY:
            raise unsupported(f"term-level queries on a [{spec.type}] field [{spec.path}]")
        if spec.type == "ip" and "/" in str(value):
            raise unsupported(f"CIDR notation in an ip term query [{value}]")
        try:
            typed = coerce(spec, value)
        except (ValueError, TypeError, OverflowError):
            if lenient:
                return Q.empty_query()
            raise SearchError(
                400,
                "query_shard_exception",
                f'failed to create query: For input string: "{value}"',
                index_uuid="_na_",
            ) from None
        if spec.type == "keyword" and spec.index_analyzer is not None:
            typed = "".join(spec.index_analyzer.analyze(typed))
        return Q.term_query(self.schema, spec.internal, typed)

    def _q_term(self, body: Any) -> tantivy.Query:
        field, raw = _single_field("term", body)
        value, boost = _value("term", raw)
        spec = self.field(field)
        if field == "_id":
            return _boosted(Q.term_query(self.schema, "_id", str(value)), boost)
        if spec is None:
            return Q.empty_query()
        return _boosted(self.exact(spec, value), boost)

    def _q_terms(self, body: Any) -> tantivy.Query:
        if not isinstance(body, dict):
            raise parsing("[terms] query malformed")
        boost = float(body.get("boost", 1.0))
        fields = [k for k in body if k not in ("boost", "_name")]
        if len(fields) != 1:
            raise parsing("[terms] query does not support multiple fields")
        values = body[fields[0]]
        if isinstance(values, dict):
            raise unsupported("terms lookup")
        if not isinstance(values, list):
            raise parsing("[terms] query does not support [" + fields[0] + "]")
        if fields[0] == "_id":
            return self._q_ids({"values": values, "boost": boost})
        spec = self.field(fields[0])
        if spec is None or not values:
            return Q.empty_query()
        subs = [(Occur.Should, self.exact(spec, v)) for v in values]
        return Q.const_score_query(Q.boolean_query(subs), boost)

    def _q_ids(self, body: Any) -> tantivy.Query:
        values = [str(v) for v in (body or {}).get("values", [])]
        if not values:
            return Q.empty_query()
        query = Q.term_set_query(self.schema, "_id", values)
        return Q.const_score_query(query, float(body.get("boost", 1.0)))

    def _q_exists(self, body: Any) -> tantivy.Query:
        if not isinstance(body, dict) or "field" not in body:
            raise parsing("[exists] must be provided with a [field]")
        query = Q.term_query(self.schema, "_field_names", str(body["field"]))
        return Q.const_score_query(query, float(body.get("boost", 1.0)))

    def _pattern(self, kind: str, body: Any, regex_of: Any) -> tantivy.Query:
        field, raw = _single_field(kind, body)
        key = (
            "wildcard"
            if kind == "wildcard" and isinstance(raw, dict) and "wildcard" in raw
            else "value"
        )
        value, boost = _value(kind, raw, key)
        spec = self.field(field)
        if spec is None:
            return Q.empty_query()
        if spec.type not in ("keyword", "text"):
            raise SearchError(
                400,
                "query_shard_exception",
                f"Can only use {kind} queries on keyword and text fields - not on"
                f" [{field}] which is of type [{spec.type}]",
                index_uuid="_na_",
            )
        query = Q.regex_query(self.schema, spec.internal, regex_of(str(value)))
        return Q.const_score_query(query, boost)

    def _q_prefix(self, body: Any) -> tantivy.Query:
        return self._pattern("prefix", body, lambda v: regex_escape(v) + ".*")

    def _q_wildcard(self, body: Any) -> tantivy.Query:
        def convert(pattern: str) -> str:
            return "".join(
                ".*" if c == "*" else "." if c == "?" else regex_escape(c) for c in pattern
            )

        return self._pattern("wildcard", body, convert)

    def _q_regexp(self, body: Any) -> tantivy.Query:
        return self._pattern("regexp", body, lambda v: v)

    def _q_fuzzy(self, body: Any) -> tantivy.Query:
        field, raw = _single_field("fuzzy", body)
        opts = raw if isinstance(raw, dict) else {"value": raw}
        spec = self.field(field)
        if spec is None:
            return Q.empty_query()
        opts = {"fuzziness": "AUTO", **opts, "query": opts.get("value")}
        token = str(opts["query"])
        query = self.full_text._term(spec, token, opts)
        return _boosted(query, float(opts.get("boost", 1.0)))

    def _q_range(self, body: Any) -> tantivy.Query:
        field, raw = _single_field("range", body)
        if not isinstance(raw, dict):
            raise parsing(f"[range] query malformed, no start_object after query name {field}")
        known = {
            "gte",
            "gt",
            "lte",
            "lt",
            "from",
            "to",
            "include_lower",
            "include_upper",
            "boost",
            "format",
            "time_zone",
            "relation",
        }
        extra = set(raw) - known
        if extra:
            raise parsing(f"[range] query does not support [{sorted(extra)[0]}]")
        spec = self.field(field)
        if spec is None:
            return Q.empty_query()
        lower, inc_lower = raw.get("gte", raw.get("gt", raw.get("from"))), "gt" not in raw
        upper, inc_upper = raw.get("lte", raw.get("lt", raw.get("to"))), "lt" not in raw
        if "from" in raw and "gte" not in raw and "gt" not in raw:
            inc_lower = bool(raw.get("include_lower", True))
        if "to" in raw and "lte" not in raw and "lt" not in raw:
            inc_upper = bool(raw.get("include_upper", True))
        boost = float(raw.get("boost", 1.0))
        if lower is None and upper is None:
            return Q.const_score_query(Q.term_query(self.schema, "_field_names", spec.path), boost)
        query = self._range(spec, lower, inc_lower, upper, inc_upper)
        return Q.const_score_query(query, boost)

    def _range(
        self, spec: FieldSpec, lo: Any, inc_lo: bool, hi: Any, inc_hi: bool
    ) -> tantivy.Query:
        if spec.type in ("keyword", "text"):
            terms = [
                t
                for t, _ in self.searcher.terms_with_prefix(spec.internal, "")
                if (lo is None or (t >= str(lo) if inc_lo else t > str(lo)))
                and (hi is None or (t <= str(hi) if inc_hi else t < str(hi)))
            ]
            if not terms:
                return Q.empty_query()
            return Q.term_set_query(self.schema, spec.internal, terms)
        if spec.type in ("boolean", "ip", *STORED_ONLY):
            raise unsupported(f"range on a [{spec.type}] field")
        conv: Any = lambda v: coerce(spec, v)  # noqa: E731
        if spec.type == "date":
            conv = parse_date_math
        elif spec.type == "date_nanos":
            conv = nanos_math
        try:
            lo_v = None if lo is None else conv(lo)
            hi_v = None if hi is None else conv(hi)
        except (ValueError, TypeError):
            raise SearchError(
                400,
                "query_shard_exception",
                f"failed to parse range bounds [{lo}, {hi}] for field [{spec.path}]",
                index_uuid="_na_",
            ) from None
        if spec.type == "unsigned_long":
            kind = tantivy.FieldType.Unsigned
        elif spec.type in INTEGER_TYPES or spec.type in ("date", "date_nanos"):
            # Integers: a fractional bound narrows to the integers it admits.
            if lo is not None and spec.type not in ("date", "date_nanos"):
                lo_v = _int_bound(float(lo), inc_lo, lower=True)
                inc_lo = True
            if hi is not None and spec.type not in ("date", "date_nanos"):
                hi_v = _int_bound(float(hi), inc_hi, lower=False)
                inc_hi = True
            kind = tantivy.FieldType.Integer
        else:
            assert spec.type in FLOAT_TYPES
            kind = tantivy.FieldType.Float
        return Q.range_query(self.schema, spec.internal, kind, lo_v, hi_v, inc_lo, inc_hi)


def nanos_math(value: Any) -> int:
    """A ``date_nanos`` bound: date math in millis, plain dates to the nanosecond."""
    if isinstance(value, str) and (value.startswith("now") or "||" in value):
        return parse_date_math(value) * 1_000_000
    return parse_nanos(value)


def _int_bound(value: float, inclusive: bool, lower: bool) -> int:
    if lower:
        return math.ceil(value) if inclusive else math.floor(value) + 1
    return math.floor(value) if inclusive else math.ceil(value) - 1
