"""The query DSL: OpenSearch ``query`` JSON translated into tantivy queries.

Anything outside the supported subset is refused with a 400 naming it; an unknown
query name is a ``parsing_exception`` as in OpenSearch. Queries on unmapped fields
match nothing, as they do in OpenSearch.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import tantivy

from emulation.search.documents import coerce
from emulation.search.errors import SearchError, parsing, unsupported
from emulation.search.field_types import STORED_ONLY
from emulation.search.full_text import FullText, min_should_match, regex_escape
from emulation.search.mapping import FieldSpec, Mapping
from emulation.search.query_range import RangeQueries

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


# Metadata fields every document has (``exists`` on them matches everything).
_EVERY_DOC_HAS = frozenset({"_id", "_index", "_seq_no", "_version", "_primary_term"})


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


class QueryBuilder(RangeQueries):
    def __init__(self, mapping: Mapping, schema: tantivy.Schema, searcher: tantivy.Searcher):
        self.mapping = mapping
        self.schema = schema
        self.searcher = searcher
        self.full_text = FullText(self)
        self.max_regex_length = 1000  # the index's index.max_regex_length (set by the search)

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
        name = str(body["field"])
        boost = float(body.get("boost", 1.0))
        if name in _EVERY_DOC_HAS:
            return Q.const_score_query(Q.all_query(), boost)
        if name == "_source":
            raise SearchError(
                400,
                "query_shard_exception",
                "failed to create query: the [_source] field is not searchable",
                index_uuid="_na_",
            )
        query = Q.term_query(self.schema, "_field_names", name)
        return Q.const_score_query(query, boost)

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
        def checked(pattern: str) -> str:
            if len(pattern) > self.max_regex_length:
                raise SearchError(
                    400,
                    "illegal_argument_exception",
                    f"The length of regex [{len(pattern)}] used in the Regexp Query request has "
                    f"exceeded the allowed maximum of [{self.max_regex_length}]. This maximum "
                    "can be set by changing the [index.max_regex_length] index level setting.",
                )
            return pattern

        return self._pattern("regexp", body, checked)

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
