"""SQLite storage: tables' metadata, items, per-index key rows, stream records, TTL rows.

Layout (every key column is a BLOB whose byte order is DynamoDB's order, see
``values.key_bytes``; ``ph`` is a 32-bit hash of the partition key, the order Scan and
parallel-scan segments follow, as DynamoDB's hash partitioning does):

- ``items(tid, ph, hk, rk, item)``: the table itself, one row per item, JSON text;
- ``idx(iid, ph, hk, rk, tph, thk, trk)``: one row per item present in a GSI/LSI,
  pointing at the item's table key, so an index query is a B-tree range of ``idx`` plus
  one primary-key lookup per item returned: O(log n + k);
- ``records(seq, sid, ts, rec)``: stream records, ``seq`` is the sequence number;
- ``ttl(tid, exp, ph, hk, rk)``: items of TTL-enabled tables by expiry time, so the
  sweeper reads only what has expired.

Every request is one SQLite transaction that writes the item, its index rows, its
stream record and the table's counters together: WAL mode with ``synchronous=NORMAL``
makes a commit durable against the process dying (kill -9, OOM) before the client gets
the answer; only an OS crash or power loss can lose the last commits (see docs).
"""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulation.dynamodb import values as V

SCHEMA = """
CREATE TABLE IF NOT EXISTS tables(name TEXT PRIMARY KEY, tid INTEGER UNIQUE, meta TEXT);
CREATE TABLE IF NOT EXISTS stats(id TEXT PRIMARY KEY, count INTEGER, bytes INTEGER);
CREATE TABLE IF NOT EXISTS items(tid INTEGER, ph INTEGER, hk BLOB, rk BLOB, item TEXT,
  size INTEGER, PRIMARY KEY(tid, ph, hk, rk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx(iid INTEGER, ph INTEGER, hk BLOB, rk BLOB, tph INTEGER,
  thk BLOB, trk BLOB, PRIMARY KEY(iid, ph, hk, rk, thk, trk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams(sid INTEGER PRIMARY KEY, tname TEXT, arn TEXT UNIQUE,
  meta TEXT);
CREATE TABLE IF NOT EXISTS records(seq INTEGER PRIMARY KEY, sid INTEGER,
  ts REAL, rec TEXT);
CREATE INDEX IF NOT EXISTS records_by_stream ON records(sid, seq);
CREATE TABLE IF NOT EXISTS ttl(tid INTEGER, exp INTEGER, ph INTEGER, hk BLOB, rk BLOB,
  PRIMARY KEY(tid, exp, ph, hk, rk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, digest TEXT, ts REAL, answer TEXT);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER);
"""


log = logging.getLogger(__name__)
SEQ_ID = "~sequence"
_MANY = 100  # keys per get_many statement (SQLite allows 32766 parameters)
_GET_MANY: dict[int, str] = {}


def partition_hash(hk: bytes) -> int:
    return zlib.crc32(hk)


@dataclass
class IndexInfo:
    name: str
    iid: int
    local: bool
    hash: str
    range: str | None
    hash_type: str
    range_type: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: tuple[str, ...] = ()

    def entry(self, item: dict[str, Any]) -> tuple[int, bytes, bytes] | None:
        """(ph, hk, rk) of ``item`` in this index, or None when the item is not in it."""
        h = item.get(self.hash)
        if h is None or self.hash_type not in h:
            return None
        hk = V.key_bytes(h)
        if self.range is None:
            return partition_hash(hk), hk, b""
        r = item.get(self.range)
        if r is None or self.range_type not in r:  # type checked before writing
            return None
        return partition_hash(hk), hk, V.key_bytes(r)


@dataclass
class TableInfo:
    """A table's description (what DescribeTable returns, minus computed parts)."""

    name: str
    tid: int
    desc: dict[str, Any]
    hash: str = ""
    range: str | None = None
    hash_type: str = "S"
    range_type: str | None = None
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    ttl_attr: str | None = None
    stream_sid: int | None = None
    stream_view: str | None = None

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        d = self.desc
        types = {a["AttributeName"]: a["AttributeType"] for a in d["AttributeDefinitions"]}
        for k in d["KeySchema"]:
            if k["KeyType"] == "HASH":
                self.hash, self.hash_type = k["AttributeName"], types[k["AttributeName"]]
            else:
                self.range, self.range_type = k["AttributeName"], types[k["AttributeName"]]
        self.indexes = {}
        for local, group in ((False, "GlobalSecondaryIndexes"), (True, "LocalSecondaryIndexes")):
            for ix in d.get(group, []):
                h = next(k["AttributeName"] for k in ix["KeySchema"] if k["KeyType"] == "HASH")
                r = next((k["AttributeName"] for k in ix["KeySchema"]
                          if k["KeyType"] == "RANGE"), None)  # fmt: skip
                self.indexes[ix["IndexName"]] = IndexInfo(
                    ix["IndexName"], ix["_iid"], local, h, r, types[h],
                    types[r] if r else None, ix["Projection"]["ProjectionType"],
                    tuple(ix["Projection"].get("NonKeyAttributes", ())),
                )  # fmt: skip
        ttl = d.get("_ttl", {})
        self.ttl_attr = ttl.get("AttributeName") if ttl.get("status") == "ENABLED" else None
        spec = d.get("StreamSpecification") or {}
        self.stream_view = spec.get("StreamViewType") if spec.get("StreamEnabled") else None
        self.stream_sid = d.get("_sid") if self.stream_view else None

    def clone(self) -> TableInfo:
        """A copy to change: the live one stays as it was if the change fails."""
        return TableInfo(self.name, self.tid, copy.deepcopy(self.desc))

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash,) if self.range is None else (self.hash, self.range)

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.key_names}

    def locate(self, key: dict[str, Any]) -> tuple[int, bytes, bytes]:
        hk = V.key_bytes(key[self.hash])
        rk = V.key_bytes(key[self.range]) if self.range else b""
        return partition_hash(hk), hk, rk


class Store:
    """One SQLite database holding every table of the engine."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._checkpoints: tuple[threading.Event, threading.Thread] | None = None
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MB page cache, bounded
        self.db.execute("PRAGMA temp_store=MEMORY")
        # A checkpoint fsyncs the database file; at SQLite's default (every 1000 WAL pages)
        # it cost two thirds of a BatchWriteItem. The server checkpoints once a second
        # (``start_checkpoints``); this bound only matters if it cannot keep up.
        self.db.execute("PRAGMA wal_autocheckpoint=20000")
        self.db.execute("PRAGMA journal_size_limit=67108864")
        self.db.executescript(SCHEMA)
        self.tables: dict[str, TableInfo] = {}
        for name, tid, meta in self.db.execute("SELECT name, tid, meta FROM tables"):
            self.tables[name] = TableInfo(name, tid, json.loads(meta))
        self.stats: dict[str, list[int]] = {
            sid: [c, b] for sid, c, b in self.db.execute("SELECT id, count, bytes FROM stats")
        }
        self._dirty_stats: set[str] = set()
        self._idx_rows: list[tuple[Any, ...]] = []
        self._item_rows: list[tuple[Any, ...]] = []  # puts not yet sent to SQLite
        self._records: list[tuple[Any, ...]] = []
        self._in_tx = False
        # the highest sequence number ever used lives with the counters (their page is
        # written by every write anyway), so numbers keep growing once records are trimmed
        top = self.db.execute("SELECT max(seq) FROM records").fetchone()
        self.last_seq = max(self.stats.pop(SEQ_ID, [0, 0])[0], top[0] or 0)

    def close(self) -> None:
        if self._checkpoints is not None:
            stop, thread = self._checkpoints
            stop.set()
            thread.join()
            self._checkpoints = None
        self.db.close()

    # -- transactions
    @contextmanager
    def tx(self) -> Iterator[None]:
        """One atomic unit: everything inside commits together or not at all."""
        if self._in_tx:
            yield
            return
        self._in_tx = True
        saved = {k: list(v) for k, v in self.stats.items()}
        saved_seq = self.last_seq
        saved_tables = dict(self.tables)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.flush_items()
            # index rows and stream records written in this transaction, in two statements
            # (an item is written at most once per transaction, so nothing reads them back)
            if self._idx_rows:
                self.db.executemany("INSERT OR REPLACE INTO idx VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    self._idx_rows)  # fmt: skip
            if self._records:
                self.db.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", self._records)
            rows: list[Any] = []
            for sid in self._dirty_stats:
                rows += [sid, *self.stats[sid]]
            if self.last_seq != saved_seq:
                rows += [SEQ_ID, self.last_seq, 0]
            if rows:  # one statement: each execute costs more than the row
                marks = ", ".join(["(?, ?, ?)"] * (len(rows) // 3))
                self.db.execute(f"INSERT OR REPLACE INTO stats VALUES {marks}", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self.stats = saved
            self.last_seq = saved_seq
            self.tables = saved_tables
            raise
        finally:
            self._dirty_stats.clear()
            self._idx_rows.clear()
            self._item_rows.clear()
            self._records.clear()
            self._in_tx = False

    def flush_items(self) -> None:
        """Send the transaction's pending item puts to SQLite in one statement. Every read
        or delete of ``items`` runs after it (the methods below call it), so a put is never
        missed, nor reordered with a delete of the same key."""
        if self._item_rows:
            self.db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?)",
                                self._item_rows)  # fmt: skip
            self._item_rows.clear()

    def checkpoint(self) -> None:
        """Copy committed pages from the WAL into the database file, without blocking."""
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def start_checkpoints(self, every_s: float) -> None:
        """Checkpoint every ``every_s`` seconds from a thread with its own connection: the
        checkpoint's fsync (milliseconds) then never stalls a request. A PASSIVE checkpoint
        takes no writer lock; commits go on appending to the WAL meanwhile."""
        if self._checkpoints is not None:
            return
        stop = threading.Event()

        def run() -> None:
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            try:
                while not stop.wait(every_s):
                    try:
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error as err:  # e.g. busy: the next round catches up
                        log.warning("WAL checkpoint failed: %s", err)
            finally:
                db.close()

        thread = threading.Thread(target=run, name="dynamodb-checkpoint", daemon=True)
        thread.start()
        self._checkpoints = (stop, thread)

    def next_id(self, name: str) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row[0] if row else 0) + 1
        self.db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
        return value

    def bump(self, sid: str, count: int, size: int) -> None:
        s = self.stats.setdefault(sid, [0, 0])
        s[0] += count
        s[1] += size
        self._dirty_stats.add(sid)

    # -- tables
    def save_table(self, t: TableInfo) -> None:
        t.refresh()
        self.db.execute(
            "INSERT OR REPLACE INTO tables VALUES (?, ?, ?)", (t.name, t.tid, json.dumps(t.desc))
        )
        self.tables[t.name] = t

    def drop_table(self, t: TableInfo) -> None:
        self.flush_items()
        self.db.execute("DELETE FROM tables WHERE name = ?", (t.name,))
        self.db.execute("DELETE FROM items WHERE tid = ?", (t.tid,))
        self.db.execute("DELETE FROM ttl WHERE tid = ?", (t.tid,))
        for ix in t.indexes.values():
            self.drop_index_rows(ix)
        self.db.execute("DELETE FROM stats WHERE id = ? OR id LIKE ?", (str(t.tid), f"{t.tid}:%"))
        self.stats = {k: v for k, v in self.stats.items()
                      if k != str(t.tid) and not k.startswith(f"{t.tid}:")}  # fmt: skip
        del self.tables[t.name]

    def drop_index_rows(self, ix: IndexInfo) -> None:
        self.db.execute("DELETE FROM idx WHERE iid = ?", (ix.iid,))

    # -- items
    def get(self, t: TableInfo, loc: tuple[int, bytes, bytes]) -> str | None:
        if self._item_rows:
            self.flush_items()
        row = self.db.execute(
            "SELECT item FROM items WHERE tid = ? AND ph = ? AND hk = ? AND rk = ?",
            (t.tid, *loc),
        ).fetchone()
        return row[0] if row else None

    def get_sized(self, t: TableInfo, loc: tuple[int, bytes, bytes]) -> tuple[str, int] | None:
        """The item's JSON text and its DynamoDB size (kept so no write recomputes it)."""
        if self._item_rows:
            self.flush_items()
        row: tuple[str, int] | None = self.db.execute(
            "SELECT item, size FROM items WHERE tid = ? AND ph = ? AND hk = ? AND rk = ?",
            (t.tid, *loc),
        ).fetchone()
        return row

    def get_many(
        self, t: TableInfo, locs: list[tuple[int, bytes, bytes]]
    ) -> dict[tuple[int, bytes, bytes], tuple[str, int]]:
        """:meth:`get_sized` for many keys in one statement (a batch's old items)."""
        if self._item_rows:
            self.flush_items()
        found: dict[tuple[int, bytes, bytes], tuple[str, int]] = {}
        for start in range(0, len(locs), _MANY):
            part = locs[start : start + _MANY]
            sql = _GET_MANY.get(len(part))
            if sql is None:
                sql = _GET_MANY[len(part)] = " UNION ALL ".join(
                    ["SELECT ph, hk, rk, item, size FROM items WHERE tid = ? AND ph = ? AND "
                     "hk = ? AND rk = ?"] * len(part))  # fmt: skip
            args: list[Any] = []
            for loc in part:
                args += (t.tid, *loc)
            for ph, hk, rk, text, size in self.db.execute(sql, args):
                found[(ph, hk, rk)] = (text, size)
        return found

    def write(
        self,
        t: TableInfo,
        loc: tuple[int, bytes, bytes],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        old_size: int,
        new_size: int,
        new_text: str | None,
    ) -> None:
        """Replace the item at ``loc`` (None = delete), keeping indexes, TTL and stats."""
        db = self.db
        if new is None:
            if self._item_rows:
                self.flush_items()
            db.execute(
                "DELETE FROM items WHERE tid = ? AND ph = ? AND hk = ? AND rk = ?", (t.tid, *loc)
            )
        elif self._in_tx:
            self._item_rows.append((t.tid, *loc, new_text, new_size))
        else:
            db.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?)",
                       (t.tid, *loc, new_text, new_size))  # fmt: skip
        self.bump(str(t.tid), (new is not None) - (old is not None), new_size - old_size)
        for ix in t.indexes.values():
            before = ix.entry(old) if old is not None else None
            after = ix.entry(new) if new is not None else None
            if before == after and before is not None:
                if old_size != new_size:
                    self.bump(f"{t.tid}:{ix.name}", 0, new_size - old_size)
                continue
            if before is not None:
                db.execute(
                    "DELETE FROM idx WHERE iid = ? AND ph = ? AND hk = ? AND rk = ? AND thk = ? "
                    "AND trk = ?", (ix.iid, *before, loc[1], loc[2]),
                )  # fmt: skip
                self.bump(f"{t.tid}:{ix.name}", -1, -old_size)
            if after is not None:
                self._idx_rows.append((ix.iid, *after, *loc))
                self.bump(f"{t.tid}:{ix.name}", 1, new_size)
        if t.ttl_attr is not None:
            a = ttl_of(old, t.ttl_attr) if old is not None else None
            b = ttl_of(new, t.ttl_attr) if new is not None else None
            if a != b:
                if a is not None:
                    db.execute("DELETE FROM ttl WHERE tid = ? AND exp = ? AND ph = ? AND hk = ? "
                               "AND rk = ?", (t.tid, a, *loc))  # fmt: skip
                if b is not None:
                    db.execute("INSERT OR REPLACE INTO ttl VALUES (?, ?, ?, ?, ?)",
                               (t.tid, b, *loc))  # fmt: skip

    def rebuild_ttl(self, t: TableInfo) -> None:
        self.flush_items()
        self.db.execute("DELETE FROM ttl WHERE tid = ?", (t.tid,))
        if t.ttl_attr is None:
            return
        rows = self.db.execute("SELECT ph, hk, rk, item FROM items WHERE tid = ?", (t.tid,))
        for ph, hk, rk, text in rows.fetchall():
            exp = ttl_of(json.loads(text), t.ttl_attr)
            if exp is not None:
                self.db.execute("INSERT OR REPLACE INTO ttl VALUES (?, ?, ?, ?, ?)",
                                (t.tid, exp, ph, hk, rk))  # fmt: skip

    def backfill_index(self, t: TableInfo, ix: IndexInfo) -> None:
        self.flush_items()
        rows = self.db.execute("SELECT ph, hk, rk, item FROM items WHERE tid = ?", (t.tid,))
        for ph, hk, rk, text in rows.fetchall():
            item = json.loads(text)
            entry = ix.entry(item)
            if entry is not None:
                self.db.execute("INSERT OR REPLACE INTO idx VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (ix.iid, *entry, ph, hk, rk))  # fmt: skip
                self.bump(f"{t.tid}:{ix.name}", 1, V.item_size(item))

    # -- streams
    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq

    def append_record(self, seq: int, sid: int, ts: float, text: str) -> None:
        self._records.append((seq, sid, ts, text))


def sequence_text(seq: int) -> str:
    """DynamoDB sequence numbers are decimal strings that grow; ours are zero-padded."""
    return f"{seq:021d}"


def ttl_of(item: dict[str, Any], attr: str) -> int | None:
    v = item.get(attr)
    if v is None or "N" not in v:
        return None
    try:
        return int(float(v["N"]))
    except (ValueError, OverflowError):
        return None
