"""Search contexts that outlive a request: scrolls and points in time.

A **scroll** is answered from a snapshot taken by its first request: every matching hit,
in the request's order, encoded once; each ``_search/scroll`` call hands out the next
``size`` of them. So later writes never show up in it, as in OpenSearch, and paging
costs nothing per call — at the price of holding the encoded hits in memory until the
scroll is cleared or its ``scroll`` keep-alive runs out.

A **point in time** keeps each index's tantivy searcher (an immutable snapshot of the
index's segments as of its creation); searches naming it run any query on those
snapshots.

Both expire after their keep-alive, renewed by each use; expired ones are swept on every
access. Ids are random and opaque, as OpenSearch's are to clients.
"""

from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import tantivy

from emulation.search.errors import SearchError, bad_request
from emulation.search.index_store import IndexStore

MAX_OPEN_SCROLLS = 500  # OpenSearch's search.max_open_scroll_context
MAX_KEEP_ALIVE_S = 24 * 3600.0  # OpenSearch's search.max_keep_alive
_DURATION = re.compile(r"^(\d+)(nanos|micros|ms|s|m|h|d)$")
_UNIT_S = {
    "nanos": 1e-9,
    "micros": 1e-6,
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


def keep_alive(value: Any, name: str = "scroll") -> float:
    """Seconds from an OpenSearch time value (``1m``, ``30s``)."""
    match = _DURATION.match(str(value).strip())
    if not match:
        raise SearchError(
            400,
            "parse_exception",
            f"failed to parse setting [{name}] with value [{value}] as a time value: unit is "
            "missing or unrecognized",
        )
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds > MAX_KEEP_ALIVE_S:
        raise bad_request(
            f"Keep alive for request ({value}) is too large. It must be less than (1d). This "
            "limit can be set by changing the [search.max_keep_alive] cluster level setting."
        )
    return seconds


def _new_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")


@dataclass
class Scroll:
    hits: list[bytes]  # every hit of the snapshot, encoded, in order
    size: int
    total: dict[str, Any] | None
    max_score: float | None
    keep_alive_s: float
    position: int = 0
    expires: float = 0.0

    def next_page(self) -> list[bytes]:
        page = self.hits[self.position : self.position + self.size]
        self.position += len(page)
        return page


@dataclass
class PointInTime:
    snapshots: list[tuple[IndexStore, tantivy.Searcher]]
    keep_alive_s: float
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    expires: float = 0.0


class Cursors:
    def __init__(self) -> None:
        self.scrolls: dict[str, Scroll] = {}
        self.pits: dict[str, PointInTime] = {}

    def _sweep(self) -> None:
        now = time.monotonic()
        for table in (self.scrolls, self.pits):
            for key in [k for k, v in table.items() if v.expires < now]:
                del table[key]

    # -- scrolls ---------------------------------------------------------------------------
    def open_scroll(self, scroll: Scroll) -> str:
        self._sweep()
        if len(self.scrolls) >= MAX_OPEN_SCROLLS:
            raise SearchError(
                429,
                "exception",
                f"Trying to create too many scroll contexts. Must be less than or equal to: "
                f"[{MAX_OPEN_SCROLLS}]. This limit can be set by changing the "
                "[search.max_open_scroll_context] setting.",
            )
        scroll.expires = time.monotonic() + scroll.keep_alive_s
        scroll_id = _new_id()
        self.scrolls[scroll_id] = scroll
        return scroll_id

    def scroll(self, scroll_id: str, renew: float | None) -> Scroll:
        self._sweep()
        found = self.scrolls.get(scroll_id)
        if found is None:
            raise SearchError(
                404,
                "search_context_missing_exception",
                f"No search context found for id [{scroll_id}]",
            )
        if renew is not None:
            found.keep_alive_s = renew
        found.expires = time.monotonic() + found.keep_alive_s
        return found

    def clear_scrolls(self, ids: list[str]) -> int:
        if ids == ["_all"]:
            freed = len(self.scrolls)
            self.scrolls.clear()
            return freed
        return sum(1 for i in ids if self.scrolls.pop(i, None) is not None)

    # -- points in time ----------------------------------------------------------------------
    def open_pit(self, pit: PointInTime) -> str:
        self._sweep()
        pit.expires = time.monotonic() + pit.keep_alive_s
        pit_id = _new_id()
        self.pits[pit_id] = pit
        return pit_id

    def pit(self, pit_id: str, renew: float | None) -> PointInTime:
        self._sweep()
        found = self.pits.get(pit_id)
        if found is None:
            raise SearchError(
                404,
                "search_context_missing_exception",
                f"No search context found for id [{pit_id}]",
            )
        if renew is not None:
            found.keep_alive_s = renew
        found.expires = time.monotonic() + found.keep_alive_s
        return found

    def close_pits(self, ids: list[str]) -> list[dict[str, Any]]:
        if ids == ["_all"]:
            ids = list(self.pits)
        return [{"pit_id": i, "successful": self.pits.pop(i, None) is not None} for i in ids]
