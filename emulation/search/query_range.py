"""``range`` queries (numbers, dates with date math, keywords) as a mixin of the
query builder, and ``range_between`` for aggregation buckets (``[lo, hi)``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import tantivy

from emulation.search.dates import parse_date_math
from emulation.search.documents import coerce, date_bound
from emulation.search.errors import SearchError, parsing, unsupported
from emulation.search.field_types import STORED_ONLY, parse_nanos
from emulation.search.mapping import FLOAT_TYPES, INTEGER_TYPES, FieldSpec

Q = tantivy.Query


class RangeQueries:
    schema: tantivy.Schema
    searcher: tantivy.Searcher

    def field(self, path: str) -> FieldSpec | None:
        raise NotImplementedError

    def range_between(self, spec: FieldSpec, lo: Any, hi: Any) -> tantivy.Query:
        """Documents whose value is in ``[lo, hi)`` (an aggregation bucket's query)."""
        if spec.type in INTEGER_TYPES or spec.type in ("date", "date_nanos", "unsigned_long"):
            lo = None if lo is None else math.ceil(lo)
            hi = None if hi is None else math.ceil(hi)
        return self._range(spec, lo, True, hi, False)

    def _q_range(self, body: Any) -> tantivy.Query:
        from emulation.search.query_dsl import _single_field

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
            conv = functools.partial(date_bound, spec)
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
