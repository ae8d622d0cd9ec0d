"""The per-index SQLite store: document sources, versions and tombstones.

It is the engine's durable record. A write is acknowledged only after its SQLite
transaction commits; tantivy (the searchable view) is rebuilt from it when needed and
replays every row whose ``seq_no`` is newer than the last tantivy commit on start-up,
so a crash between the two never loses an acknowledged write.

Within one transaction (one request) rows are cached and writes buffered: ``_bulk``
prefetches every row it will touch with one statement, and the buffered writes go to
SQLite with one ``executemany`` before any other read and at commit — per-document
statements were a third of the bulk cost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    doc_id: str
    version: int
    seq_no: int
    deleted: bool
    source: bytes | None


class SourceStore:
    def __init__(self, path: Path) -> None:
        # The server serialises access with its own lock; threads only hand over calls.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
            " seq_no INTEGER NOT NULL, deleted INTEGER NOT NULL, source BLOB)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS docs_seq ON docs(seq_no)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
        # Custom routing values, only for documents written with one (rare: a side table).
        self._db.execute("CREATE TABLE IF NOT EXISTS routing (id TEXT PRIMARY KEY, value TEXT)")
        self.has_routing = self._db.execute("SELECT 1 FROM routing LIMIT 1").fetchone() is not None
        self._in_tx = False
        # doc id -> its row as of this transaction (None: no row); valid until it ends.
        self._rows: dict[str, Row | None] = {}
        self._pending: dict[str, tuple[str, int, int, int, bytes | None]] = {}

    # -- transactions ------------------------------------------------------------------
    def begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        self.flush()
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False
        self._rows.clear()

    def rollback(self) -> None:
        self._pending.clear()
        self._rows.clear()
        if self._in_tx:
            self._db.execute("ROLLBACK")
            self._in_tx = False

    def flush(self) -> None:
        """Write the buffered rows (inside the open transaction)."""
        if self._pending:
            self._db.executemany(
                "INSERT OR REPLACE INTO docs (id, version, seq_no, deleted, source)"
                " VALUES (?, ?, ?, ?, ?)",
                list(self._pending.values()),
            )
            self._pending.clear()

    # -- reads ---------------------------------------------------------------------------
    def prefetch(self, doc_ids: list[str]) -> None:
        """Load the rows of ``doc_ids`` with one statement (cached for this transaction)."""
        wanted = [d for d in dict.fromkeys(doc_ids) if d not in self._rows]
        if not wanted:
            return
        self.begin()  # the cache is only valid inside one transaction
        found = self._db.execute(
            "SELECT id, version, seq_no, deleted, source FROM docs"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        )
        rows = self._rows
        for doc_id in wanted:
            rows[doc_id] = None
        for r in found:
            rows[r[0]] = Row(r[0], r[1], r[2], bool(r[3]), r[4])

    def get(self, doc_id: str) -> Row | None:
        if doc_id in self._rows:
            return self._rows[doc_id]
        cur = self._db.execute(
            "SELECT version, seq_no, deleted, source FROM docs WHERE id = ?", (doc_id,)
        )
        found = cur.fetchone()
        if found is None:
            return None
        return Row(doc_id, found[0], found[1], bool(found[2]), found[3])

    def max_seq_no(self) -> int:
        self.flush()
        value = self._db.execute("SELECT MAX(seq_no) FROM docs").fetchone()[0]
        return -1 if value is None else int(value)

    def count_live(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT COUNT(*) FROM docs WHERE deleted = 0").fetchone()[0])

    def rows_after(self, seq_no: int) -> Iterator[Row]:
        self.flush()
        cur = self._db.execute(
            "SELECT id, version, seq_no, deleted, source FROM docs WHERE seq_no > ?"
            " ORDER BY seq_no",
            (seq_no,),
        )
        for r in cur:
            yield Row(r[0], r[1], r[2], bool(r[3]), r[4])

    def live_rows(self) -> Iterator[Row]:
        self.flush()
        cur = self._db.execute(
            "SELECT id, version, seq_no, source FROM docs WHERE deleted = 0 ORDER BY seq_no"
        )
        for r in cur:
            yield Row(r[0], r[1], r[2], False, r[3])

    def meta(self, key: str, default: int) -> int:
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if found is None else int(found[0])

    # -- writes ----------------------------------------------------------------------
    def put(self, doc_id: str, version: int, seq_no: int, source: bytes) -> None:
        """Buffer a live row; the caller has begun a transaction."""
        self._pending[doc_id] = (doc_id, version, seq_no, 0, source)
        self._rows[doc_id] = Row(doc_id, version, seq_no, False, source)

    def tombstone(self, doc_id: str, version: int, seq_no: int) -> None:
        self._pending[doc_id] = (doc_id, version, seq_no, 1, None)
        self._rows[doc_id] = Row(doc_id, version, seq_no, True, None)

    def routing(self, doc_id: str) -> str | None:
        if not self.has_routing:
            return None
        found = self._db.execute("SELECT value FROM routing WHERE id = ?", (doc_id,)).fetchone()
        return None if found is None else str(found[0])

    def set_routing(self, doc_id: str, value: str | None) -> None:
        """Record (or clear) a document's routing; the caller has begun a transaction."""
        if value is None:
            if self.has_routing:
                self._db.execute("DELETE FROM routing WHERE id = ?", (doc_id,))
            return
        self._db.execute(
            "INSERT OR REPLACE INTO routing (id, value) VALUES (?, ?)", (doc_id, value)
        )
        self.has_routing = True

    def set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.commit()
        self._db.close()
