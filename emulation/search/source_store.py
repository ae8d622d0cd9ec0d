"""The per-index SQLite store: document sources, versions and tombstones.

It is the engine's durable record. A write is acknowledged only after its SQLite
transaction commits; tantivy (the searchable view) is rebuilt from it when needed and
replays every row whose ``seq_no`` is newer than the last tantivy commit on start-up,
so a crash between the two never loses an acknowledged write.
"""

from __future__ import annotations

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
        self._in_tx = False

    # -- transactions ------------------------------------------------------------------
    def begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False

    def rollback(self) -> None:
        if self._in_tx:
            self._db.execute("ROLLBACK")
            self._in_tx = False

    # -- reads ---------------------------------------------------------------------------
    def get(self, doc_id: str) -> Row | None:
        cur = self._db.execute(
            "SELECT version, seq_no, deleted, source FROM docs WHERE id = ?", (doc_id,)
        )
        found = cur.fetchone()
        if found is None:
            return None
        return Row(doc_id, found[0], found[1], bool(found[2]), found[3])

    def max_seq_no(self) -> int:
        value = self._db.execute("SELECT MAX(seq_no) FROM docs").fetchone()[0]
        return -1 if value is None else int(value)

    def count_live(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM docs WHERE deleted = 0").fetchone()[0])

    def rows_after(self, seq_no: int) -> Iterator[Row]:
        cur = self._db.execute(
            "SELECT id, version, seq_no, deleted, source FROM docs WHERE seq_no > ?"
            " ORDER BY seq_no",
            (seq_no,),
        )
        for r in cur:
            yield Row(r[0], r[1], r[2], bool(r[3]), r[4])

    def live_rows(self) -> Iterator[Row]:
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
        self._db.execute(
            "INSERT OR REPLACE INTO docs (id, version, seq_no, deleted, source)"
            " VALUES (?, ?, ?, 0, ?)",
            (doc_id, version, seq_no, source),
        )

    def tombstone(self, doc_id: str, version: int, seq_no: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO docs (id, version, seq_no, deleted, source)"
            " VALUES (?, ?, ?, 1, NULL)",
            (doc_id, version, seq_no),
        )

    def set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.commit()
        self._db.close()
