"""A link's durable local state: checkpoints per shard, the failure queue, its status.

One SQLite file per link (``STATE/sync/<system>.<link>.db``) in WAL mode with
``synchronous=FULL``: a checkpoint is on disk before the poller reads further, so a
kill -9 at any point replays at most the batch in flight (which versioning makes
harmless). Moving a record to the failure queue and checkpointing past it is one
transaction: a record is either still ahead of the checkpoint or in the queue, never
neither.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
  shard_id TEXT PRIMARY KEY,
  sequence_number TEXT,          -- last record applied (or queued); NULL: none yet
  finished INTEGER NOT NULL DEFAULT 0,  -- closed shard read to its end
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  shard_id TEXT NOT NULL,
  sequence_number TEXT NOT NULL,
  record TEXT NOT NULL,          -- the Lambda-shaped record, as the handler was given it
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  queued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS status (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def state_path(state_dir: Path, system: str, link: str) -> Path:
    return Path(state_dir) / "sync" / f"{system}.{link}.db"


class LinkState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- checkpoints ------------------------------------------------------------------
    def checkpoints(self) -> dict[str, tuple[str | None, bool]]:
        rows = self.db.execute("SELECT shard_id, sequence_number, finished FROM checkpoints")
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    def checkpoint(self, shard_id: str, sequence_number: str,
                   status: dict[str, Any] | None = None) -> None:  # fmt: skip
        with self._tx():
            self._checkpoint(shard_id, sequence_number)
            self._status(status or {})

    def finish(self, shard_id: str) -> None:
        with self._tx():
            self.db.execute(
                "INSERT INTO checkpoints (shard_id, finished, updated_at) VALUES (?, 1, ?) "
                "ON CONFLICT (shard_id) DO UPDATE SET finished = 1, "
                "updated_at = excluded.updated_at",
                (shard_id, time.time()),
            )

    def reset_checkpoints(self) -> None:
        """Forget every shard (the stream was replaced; its shards are not these)."""
        with self._tx():
            self.db.execute("DELETE FROM checkpoints")

    def _checkpoint(self, shard_id: str, sequence_number: str) -> None:
        self.db.execute(
            "INSERT INTO checkpoints (shard_id, sequence_number, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (shard_id) DO UPDATE SET sequence_number = excluded.sequence_number, "
            "updated_at = excluded.updated_at",
            (shard_id, sequence_number, time.time()),
        )

    # -- failure queue ----------------------------------------------------------------
    def dead_letter(self, shard_id: str, record: dict[str, Any], error: str,
                    attempts: int) -> None:  # fmt: skip
        """Queue ``record`` and checkpoint past it, atomically."""
        seq = record["dynamodb"]["SequenceNumber"]
        with self._tx():
            self.db.execute(
                "INSERT INTO failures (shard_id, sequence_number, record, error, attempts, "
                "queued_at) VALUES (?, ?, ?, ?, ?, ?)",
                (shard_id, seq, json.dumps(record), error, attempts, time.time()),
            )
            self._checkpoint(shard_id, seq)

    def failures(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, shard_id, sequence_number, record, error, attempts, queued_at "
            "FROM failures ORDER BY id"
        )
        return [
            {"id": r[0], "shard_id": r[1], "sequence_number": r[2], "record": json.loads(r[3]),
             "error": r[4], "attempts": r[5], "queued_at": r[6]}
            for r in rows
        ]  # fmt: skip

    def bump_failure(self, failure_id: int, error: str) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE failures SET attempts = attempts + 1, error = ? WHERE id = ?",
                (error, failure_id),
            )

    def remove_failures(self, ids: list[int]) -> None:
        with self._tx():
            self.db.executemany("DELETE FROM failures WHERE id = ?", [(i,) for i in ids])

    # -- status -----------------------------------------------------------------------
    def set_status(self, **values: Any) -> None:
        with self._tx():
            self._status(values)

    def _status(self, values: dict[str, Any]) -> None:
        self.db.executemany(
            "INSERT INTO status (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    def status(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM status")}

    def _tx(self) -> Any:
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
