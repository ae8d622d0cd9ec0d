"""Full-text queries: ``match``, ``multi_match``, ``match_phrase``, ``match_phrase_prefix``,
``match_bool_prefix`` — analysed with the field's search analyzer, then built from
tantivy term, fuzzy and phrase queries.

tantivy scores fuzzy matches with a constant, so a fuzzy clause is paired with the exact
term (scored by BM25): an exact hit always outranks a typo hit on the same word.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import tantivy

from emulation.search.errors import SearchError, parsing, unsupported

if TYPE_CHECKING:
    from emulation.search.query_dsl import QueryBuilder

from emulation.search.mapping import FieldSpec

Q = tantivy.Query
Occur = tantivy.Occur
_AUTO = re.compile(r"^AUTO(?::(\d+),(\d+))?$", re.IGNORECASE)
_MATCH_KEYS = frozenset(
    {
        "query",
        "operator",
        "fuzziness",
        "prefix_length",
        "max_expansions",
        "boost",
        "minimum_should_match",
        "analyzer",
        "zero_terms_query",
        "lenient",
        "fuzzy_transpositions",
        "auto_generate_synonyms_phrase_query",
        "fuzzy_rewrite",
        "slop",
    }
)


def edit_distance(fuzziness: Any, token: str) -> int:
    """OpenSearch's ``fuzziness`` for one term: 0, 1, 2 or ``AUTO[:low,high]``."""
    if fuzziness is None:
        return 0
    text = str(fuzziness)
    auto = _AUTO.match(text)
    if auto:
        low, high = int(auto.group(1) or 3), int(auto.group(2) or 6)
        n = len(token)
        return 0 if n < low else 1 if n < high else 2
    try:
        value = float(text)
    except ValueError:
        raise parsing(f"failed to parse fuzziness [{text}]") from None
    return min(2, int(value))


def min_should_match(spec: Any, clauses: int) -> int:
    """``minimum_should_match`` as a clause count (ints, negatives, percentages)."""
    text = str(spec).strip()
    if "<" in text or " " in text:
        raise unsupported(f"minimum_should_match combination [{text}]")
    try:
        if text.endswith("%"):
            pct = float(text[:-1])
            count = int(clauses * pct / 100) if pct >= 0 else clauses - int(clauses * -pct / 100)
        else:
            value = int(text)
            count = value if value >= 0 else clauses + value
    except ValueError:
        raise parsing(f"failed to parse minimum_should_match [{text}]") from None
    return max(0, min(clauses, count))


def _options(field: str, body: Any, kind: str) -> dict[str, Any]:
    if isinstance(body, dict):
        extra = set(body) - _MATCH_KEYS
        if extra:
            raise parsing(f"[{kind}] query does not support [{sorted(extra)[0]}]")
        if "query" not in body:
            raise parsing(f"[{kind}] requires query value")
        return body
    return {"query": body}


class FullText:
    def __init__(self, builder: QueryBuilder) -> None:
        self.b = builder

    def _tokens(self, spec: FieldSpec, opts: dict[str, Any]) -> list[str]:
        text = opts["query"]
        if isinstance(text, dict | list):
            raise parsing("[match] unknown token [START_OBJECT] after [query]")
        text = "true" if text is True else "false" if text is False else str(text)
        if "analyzer" in opts:
            return self.b.mapping.registry.analyzer(opts["analyzer"]).analyze(text)
        if spec.search_analyzer is None:  # keyword: the whole value is the one term
            return [text]
        return spec.search_analyzer.analyze(text)

    def _boost(self, query: tantivy.Query, opts: dict[str, Any]) -> tantivy.Query:
        boost = float(opts.get("boost", 1.0))
        return query if boost == 1.0 else Q.boost_query(query, boost)

    def _term(self, spec: FieldSpec, token: str, opts: dict[str, Any]) -> tantivy.Query:
        exact = Q.term_query(self.b.schema, spec.internal, token)
        distance = edit_distance(opts.get("fuzziness"), token)
        if distance == 0:
            return exact
        transpose = bool(opts.get("fuzzy_transpositions", True))
        fuzzy: tantivy.Query = Q.fuzzy_term_query(
            self.b.schema, spec.internal, token, distance, transpose, False
        )
        prefix_len = int(opts.get("prefix_length", 0))
        if prefix_len > 0:  # approximation: the term must also share the exact prefix
            fuzzy = Q.boolean_query(
                [
                    (Occur.Must, fuzzy),
                    (
                        Occur.Must,
                        Q.regex_query(
                            self.b.schema, spec.internal, regex_escape(token[:prefix_len]) + ".*"
                        ),
                    ),
                ]
            )
        return Q.boolean_query([(Occur.Should, exact), (Occur.Should, fuzzy)])

    def match(self, field: str, body: Any, kind: str = "match") -> tantivy.Query:
        opts = _options(field, body, kind)
        spec = self.b.field(field)
        if spec is None:
            return Q.empty_query()
        if not spec.is_text and spec.type != "keyword":
            return self._boost(
                self.b.exact(spec, opts["query"], lenient=bool(opts.get("lenient", False))), opts
            )
        tokens = self._tokens(spec, opts)
        if not tokens:
            zero = str(opts.get("zero_terms_query", "none")).lower()
            return Q.all_query() if zero == "all" else Q.empty_query()
        clauses = [self._term(spec, t, opts) for t in tokens]
        if kind == "match_bool_prefix":
            last = Q.regex_query(self.b.schema, spec.internal, regex_escape(tokens[-1]) + ".*")
            clauses[-1] = last
        if len(clauses) == 1:
            return self._boost(clauses[0], opts)
        operator = str(opts.get("operator", "or")).lower()
        if operator == "and":
            query = Q.boolean_query([(Occur.Must, c) for c in clauses])
        elif operator == "or":
            msm = None
            if "minimum_should_match" in opts:
                msm = min_should_match(opts["minimum_should_match"], len(clauses)) or None
            query = Q.boolean_query([(Occur.Should, c) for c in clauses], msm)
        else:
            raise parsing(f"[{kind}] unknown operator [{operator}]")
        return self._boost(query, opts)

    def phrase(self, field: str, body: Any, prefix: bool = False) -> tantivy.Query:
        kind = "match_phrase_prefix" if prefix else "match_phrase"
        opts = _options(field, body, kind)
        spec = self.b.field(field)
        if spec is None:
            return Q.empty_query()
        if not spec.is_text and spec.type != "keyword":
            return self._boost(self.b.exact(spec, opts["query"]), opts)
        tokens = self._tokens(spec, opts)
        if not tokens:
            return Q.empty_query()
        schema, name = self.b.schema, spec.internal
        if prefix:
            if len(tokens) == 1 or spec.raw_tokens:
                query = Q.regex_query(schema, name, regex_escape(tokens[-1]) + ".*")
            else:
                query = Q.phrase_prefix_query(schema, name, tokens)
        elif len(tokens) == 1 or spec.raw_tokens:
            query = Q.term_query(schema, name, tokens[0])
        else:
            query = Q.phrase_query(schema, name, tokens, int(opts.get("slop", 0)))
        return self._boost(query, opts)

    def multi_match(self, body: dict[str, Any]) -> tantivy.Query:
        allowed = _MATCH_KEYS | {"fields", "type", "tie_breaker"}
        if str(body.get("type")) == "bool_prefix":
            for key in ("slop", "cutoff_frequency"):
                if key in body:
                    raise SearchError(
                        400,
                        "illegal_argument_exception",
                        f"[{key}] not allowed for type [bool_prefix]",
                    )
        extra = set(body) - allowed
        if extra:
            raise parsing(f"[multi_match] query does not support [{sorted(extra)[0]}]")
        if "query" not in body:
            raise parsing("No text specified for multi_match query")
        kind = str(body.get("type", "best_fields"))
        fields = self.b.expand_fields(body.get("fields") or ["*"])
        per_field = {
            k: v for k, v in body.items() if k not in ("fields", "type", "tie_breaker", "boost")
        }
        per_field.setdefault("lenient", True)
        subqueries: list[tantivy.Query] = []
        for spec, boost in fields:
            opts = dict(per_field, boost=boost)
            if kind in ("best_fields", "most_fields"):
                subqueries.append(self.match(spec.path, opts))
            elif kind in ("phrase", "phrase_prefix"):
                phrase_opts = {
                    k: v for k, v in opts.items() if k in ("query", "slop", "analyzer", "boost")
                }
                subqueries.append(self.phrase(spec.path, phrase_opts, kind == "phrase_prefix"))
            elif kind == "bool_prefix":
                subqueries.append(self.match(spec.path, opts, "match_bool_prefix"))
            else:
                raise unsupported(f"multi_match type [{kind}]")
        if not subqueries:
            return Q.empty_query()
        if kind == "most_fields":
            query = Q.boolean_query([(Occur.Should, q) for q in subqueries])
        else:
            tie = float(body.get("tie_breaker", 0.0))
            query = Q.disjunction_max_query(subqueries, tie)
        boost = float(body.get("boost", 1.0))
        return query if boost == 1.0 else Q.boost_query(query, boost)


_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)
