"""``_search`` and ``_count`` over one index: paging, sorting, ``search_after``, hit
totals, ``_source`` filtering and aggregations around a translated query.

Relevance-sorted searches are collected by tantivy's top-k collector. Field sorts
(and ``search_after``) collect every match and order them in Python from the stored
sources, which is exact (arrays sort by min/max as OpenSearch does) but linear in the
number of matches — fine for an emulator, and documented.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any

import tantivy

from emulation.search.aggregations import Aggregator
from emulation.search.documents import coerce, flatten
from emulation.search.errors import SearchError, bad_request, parsing, unsupported
from emulation.search.index_store import IndexStore
from emulation.search.query_dsl import QueryBuilder
from emulation.search.raw_json import RawFragments, source_json
from emulation.search.source_filter import SourceFilter

Q = tantivy.Query
SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
BODY_KEYS = frozenset(
    {
        "query",
        "from",
        "size",
        "sort",
        "_source",
        "track_total_hits",
        "search_after",
        "aggs",
        "aggregations",
        "timeout",
        "track_scores",
        "post_filter",
        "min_score",
        "explain",
        "seq_no_primary_term",
        "version",
    }
)
_NOT_YET = frozenset(
    {
        "highlight",
        "suggest",
        "collapse",
        "rescore",
        "script_fields",
        "docvalue_fields",
        "stored_fields",
        "pit",
        "profile",
        "indices_boost",
        "knn",
        "ext",
        "slice",
        "runtime_mappings",
        "fields",
        "stats",
    }
)


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    missing_first: bool


def parse_sort(spec: Any) -> list[SortKey]:
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    keys: list[SortKey] = []
    for item in items:
        if isinstance(item, str):
            name, _, order = item.partition(":")
            keys.append(
                SortKey(name, (order or ("desc" if name == "_score" else "asc")) == "desc", False)
            )
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise parsing("[sort] malformed")
        name, conf = next(iter(item.items()))
        if isinstance(conf, str):
            conf = {"order": conf}
        if not isinstance(conf, dict):
            raise parsing(f"[sort] malformed value for [{name}]")
        extra = set(conf) - {"order", "missing", "unmapped_type", "mode", "numeric_type", "format"}
        if extra:
            raise unsupported(f"sort option [{sorted(extra)[0]}]")
        default = "desc" if name == "_score" else "asc"
        order = str(conf.get("order", default)).lower()
        if order not in ("asc", "desc"):
            raise parsing(f"[sort] unknown order [{order}]")
        missing = conf.get("missing", "_last")
        if missing not in ("_last", "_first"):
            raise unsupported("sort [missing] with a custom value")
        keys.append(SortKey(name, order == "desc", missing == "_first"))
    return keys


def _int_param(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise parsing(f"[{key}] failed to parse field") from None
    if out < 0 and not (key == "size" and out == -1):
        raise bad_request(f"[{key}] parameter cannot be negative")
    return out


class SearchRun:
    """One search request against one index."""

    def __init__(self, store: IndexStore, body: dict[str, Any], params: dict[str, str]):
        unknown = set(body) - BODY_KEYS
        for key in sorted(unknown):
            if key in _NOT_YET:
                raise unsupported(f"search option [{key}]")
            raise parsing(f"Unknown key for a START_OBJECT in [{key}].")
        self.store = store
        self.body = body
        self.params = params
        self.searcher = store.searcher()
        self.builder = QueryBuilder(store.mapping, store.schema, self.searcher)
        self.fragments = RawFragments()

    def query(self) -> tantivy.Query:
        return self.builder.build(self.body.get("query", {"match_all": {}}))

    def count(self) -> int:
        return int(self.searcher.search(self.query(), 1, count=True).count)

    def run(self) -> bytes:
        """The encoded ``_search`` response (stored sources spliced in verbatim)."""
        return self.fragments.encode(self.response())

    def window(self) -> tuple[int, int]:
        """``(from, size)`` of the request, checked against ``max_result_window``."""
        frm = _int_param({**self.body, **self.params}, "from", 0)
        size = _int_param({**self.body, **self.params}, "size", 10)
        if size == -1:
            size = 10
        if frm + size > self.store.settings.max_result_window:
            raise bad_request(
                f"Result window is too large, from + size must be less than or "
                f"equal to: [{self.store.settings.max_result_window}] but was "
                f"[{frm + size}]. See the scroll api for a more efficient way to request "
                f"large data sets. This limit can be set by changing the "
                f"[index.max_result_window] index level setting."
            )
        return frm, size

    def sort_keys(self) -> list[SortKey]:
        sort_spec = self.params.get("sort", self.body.get("sort"))
        if isinstance(sort_spec, str) and "," in sort_spec:
            sort_spec = sort_spec.split(",")
        return parse_sort(sort_spec)

    def collect(self, frm: int, size: int) -> tuple[list[Any], int, Any, bool]:
        """``(page, total, max_score, scores_tracked)``; page rows are
        ``(doc_id, raw_source, score, sort_values)``."""
        body = self.body
        query = self.query()
        hits_query = query
        if "post_filter" in body:
            post = self.builder.build(body["post_filter"])
            hits_query = Q.boolean_query(
                [(tantivy.Occur.Must, query), (tantivy.Occur.Must, Q.const_score_query(post, 0.0))]
            )
        keys = self.sort_keys()
        by_score = not keys or (len(keys) == 1 and keys[0].field == "_score" and keys[0].descending)
        search_after = body.get("search_after")
        if search_after is not None and not isinstance(search_after, list):
            raise parsing("[search_after] must be an array")
        if search_after is not None and frm > 0:
            raise bad_request(
                "Cannot use [from] parameter when using [search_after]; use [from]=0 or omit it"
            )
        min_score = body.get("min_score")
        if by_score and search_after is None and min_score is None:
            page, total, max_score = self._top_k(hits_query, frm, size)
            return page, total, max_score, True
        page, total, max_score = self._sorted(hits_query, keys, frm, size, search_after, min_score)
        return page, total, max_score, by_score or bool(body.get("track_scores"))

    def hits_total(self, total: int) -> dict[str, Any] | None:
        total_limit = self._total_limit()
        if total_limit is None:
            return None
        relation = "eq" if total <= total_limit else "gte"
        return {"value": min(total, total_limit), "relation": relation}

    def aggregations(self) -> dict[str, Any] | None:
        aggs = self.body.get("aggs", self.body.get("aggregations"))
        if not aggs:
            return None
        return Aggregator(self.store.mapping).run(self.searcher, self.query(), aggs)

    def response(self) -> dict[str, Any]:
        """The response as a dict; hit sources are placeholders until :meth:`run`."""
        started = time.perf_counter()
        frm, size = self.window()
        self._total_limit()  # a malformed value fails before any work
        page, total, max_score, track = self.collect(frm, size)
        source_filter = SourceFilter.from_params(self.params, self.body.get("_source"))
        hits = self.fragments.add(self.encode_hits(page, track, source_filter))
        response: dict[str, Any] = {"took": 0, "timed_out": False, "_shards": SHARDS}
        hits_obj: dict[str, Any] = {}
        total_obj = self.hits_total(total)
        if total_obj is not None:
            hits_obj["total"] = total_obj
        hits_obj["max_score"] = max_score if track else None
        hits_obj["hits"] = hits
        response["hits"] = hits_obj
        aggs = self.aggregations()
        if aggs is not None:
            response["aggregations"] = aggs
        response["took"] = int((time.perf_counter() - started) * 1000)
        return response

    def _total_limit(self) -> int | None:
        value = self.params.get("track_total_hits", self.body.get("track_total_hits", 10000))
        if value in (True, "true"):
            return 2**62
        if value in (False, "false"):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise parsing("[track_total_hits] must be a boolean or an integer") from None

    def _fetch(self, address: tantivy.DocAddress) -> tuple[str, bytes]:
        doc = self.searcher.doc(address)
        return doc.get_first("_id"), doc.get_first("_source")

    def _top_k(self, query: tantivy.Query, frm: int, size: int) -> tuple[list[Any], int, Any]:
        # tantivy's top-k collector refuses a limit of 0 (size=0 is a facets-only search).
        result = self.searcher.search(query, max(1, size), count=True, offset=frm)
        page = [(*self._fetch(addr), float(score), None) for score, addr in result.hits[:size]]
        max_score: float | None = None
        if frm == 0 and result.hits:
            max_score = float(result.hits[0][0])
        elif result.count:
            max_score = float(self.searcher.search(query, 1, count=False).hits[0][0])
        return page, int(result.count), max_score

    def _sorted(
        self,
        query: tantivy.Query,
        keys: list[Any],
        frm: int,
        size: int,
        search_after: list[Any] | None,
        min_score: Any,
    ) -> tuple[list[Any], int, Any]:
        if not keys:
            keys = [SortKey("_score", True, False)]
        for key in keys:
            spec = self.store.mapping.field(key.field)
            if spec is not None and spec.is_text:
                raise bad_request(
                    f"Text fields are not optimised for operations that require "
                    f"per-document field data like aggregations and sorting, so "
                    f"these operations are disabled by default. Please use a "
                    f"keyword field instead. Alternatively, set fielddata=true on "
                    f"[{key.field}] in order to load field data by uninverting "
                    f"the inverted index. Note that this can use significant "
                    f"memory."
                )
            if spec is None and key.field not in ("_score", "_doc", "_id"):
                raise SearchError(
                    400,
                    "query_shard_exception",
                    f"No mapping found for [{key.field}] in order to sort on",
                    index_uuid=self.store.uuid,
                    index=self.store.name,
                )
        n = max(1, self.searcher.num_docs)
        result = self.searcher.search(query, n, count=True)
        rows = []
        for score, addr in result.hits:
            if min_score is not None and score < float(min_score):
                continue
            doc_id, raw = self._fetch(addr)
            values = self._sort_values(
                keys, doc_id, raw, float(score), (addr.segment_ord, addr.doc)
            )
            rows.append((values, (addr.segment_ord, addr.doc), doc_id, raw, float(score)))
        total = len(rows) if min_score is not None else int(result.count)
        compare = functools.partial(_compare_rows, keys)
        rows.sort(key=functools.cmp_to_key(compare))
        if search_after is not None:
            if len(search_after) != len(keys):
                raise bad_request(
                    f"search_after has {len(search_after)} value(s) but sort has {len(keys)}."
                )
            after = [self._after_value(k, v) for k, v in zip(keys, search_after, strict=True)]
            rows = [r for r in rows if compare_values(keys, r[0], after) > 0]
        max_score = max((r[4] for r in rows), default=None)
        page = [(r[2], r[3], r[4], r[0]) for r in rows[frm : frm + size]]
        return page, total, max_score

    def _after_value(self, key: SortKey, value: Any) -> Any:
        spec = self.store.mapping.field(key.field)
        if spec is None or value is None:
            return value
        try:
            return coerce(spec, value)
        except (ValueError, TypeError):
            raise parsing(
                f"Failed to parse search_after value [{value}] for field [{key.field}]"
            ) from None

    def _sort_values(
        self, keys: list[SortKey], doc_id: str, raw: bytes, score: float, address: tuple[int, int]
    ) -> list[Any]:
        flat: dict[str, list[Any]] | None = None
        out: list[Any] = []
        for key in keys:
            if key.field == "_score":
                out.append(score)
            elif key.field == "_doc":
                out.append(address[0] * 2**32 + address[1])
            elif key.field == "_id":
                out.append(doc_id)
            else:
                if flat is None:
                    flat = flatten(json.loads(raw))
                spec = self.store.mapping.fields[key.field]
                values = []
                for v in flat.get(spec.source_path, []):
                    try:
                        values.append(coerce(spec, v))
                    except (ValueError, TypeError):
                        continue
                out.append((max(values) if key.descending else min(values)) if values else None)
        return out

    def encode_hits(self, page: list[Any], track: bool, source_filter: SourceFilter) -> bytes:
        """The ``hits.hits`` array, encoded around the stored source bytes."""
        index = json.dumps(self.store.name).encode()
        parts = []
        for doc_id, raw, score, sort_values in page:
            hit = b'{"_index":%s,"_id":%s,"_score":%s' % (
                index,
                json.dumps(doc_id).encode(),
                json.dumps(score if track else None).encode(),
            )
            if source_filter.is_identity:
                hit += b',"_source":' + source_json(raw)
            elif source_filter.enabled:
                filtered = source_filter.apply(json.loads(raw))
                hit += b',"_source":' + json.dumps(filtered, separators=(",", ":")).encode()
            if sort_values is not None:
                hit += b',"sort":' + json.dumps(sort_values, separators=(",", ":")).encode()
            parts.append(hit + b"}")
        return b"[" + b",".join(parts) + b"]"


def compare_values(keys: list[SortKey], a: list[Any], b: list[Any]) -> int:
    for key, x, y in zip(keys, a, b, strict=True):
        if x == y:
            continue
        if x is None or y is None:
            # Missing values go last (or first) whatever the direction.
            first_missing = -1 if key.missing_first else 1
            return first_missing if x is None else -first_missing
        result = -1 if x < y else 1
        return -result if key.descending else result
    return 0


def _compare_rows(keys: list[SortKey], a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    found = compare_values(keys, a[0], b[0])
    if found:
        return found
    return -1 if a[1] < b[1] else 1 if a[1] > b[1] else 0
