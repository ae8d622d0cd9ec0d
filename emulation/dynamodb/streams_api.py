"""DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords.

Each stream (one per enabling of a table's stream) has one shard that stays open while
the stream is enabled; its records are rows of the ``records`` table written in the
same transaction as the change, kept 24 hours. A shard iterator is an opaque token
naming the stream and the position after which it reads; it expires after 15 minutes.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from emulation.dynamodb.engine import Engine
from emulation.dynamodb.errors import DynamoError, constraint, missing, validation
from emulation.dynamodb.storage import TableInfo, sequence_text

RETENTION_S = 24 * 3600
ITERATOR_TTL_S = 15 * 60
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def create_stream(engine: Engine, t: TableInfo, arn: str, label: str, view: str) -> int:
    sid = engine.store.next_id("stream")
    now = time.time()
    meta = {"label": label, "view": view, "created": now, "disabled": None,
            "key_schema": t.desc["KeySchema"], "start": engine.store.last_seq + 1, "end": None,
            "shard": f"shardId-{int(now * 1000):020d}-{sid:08x}"}  # fmt: skip
    engine.store.db.execute("INSERT INTO streams VALUES (?, ?, ?, ?)",
                            (sid, t.name, arn, json.dumps(meta)))  # fmt: skip
    return sid


def disable_stream(engine: Engine, sid: int) -> None:
    db = engine.store.db
    row = db.execute("SELECT meta FROM streams WHERE sid = ?", (sid,)).fetchone()
    if row is None:
        return
    meta = json.loads(row[0])
    top = db.execute("SELECT max(seq) FROM records WHERE sid = ?", (sid,)).fetchone()[0]
    meta["disabled"] = time.time()
    meta["end"] = top if top is not None else max(meta["start"] - 1, 0)
    db.execute("UPDATE streams SET meta = ? WHERE sid = ?", (json.dumps(meta), sid))


def _streams(engine: Engine) -> list[tuple[int, str, str, dict[str, Any]]]:
    rows = engine.store.db.execute("SELECT sid, tname, arn, meta FROM streams ORDER BY sid")
    out = []
    horizon = time.time() - RETENTION_S
    for sid, tname, arn, meta in rows:
        m = json.loads(meta)
        if m["disabled"] is None or m["disabled"] >= horizon:
            out.append((sid, tname, arn, m))
    return out


def _stream(engine: Engine, arn: Any) -> tuple[int, str, str, dict[str, Any]]:
    if not isinstance(arn, str):
        raise missing("streamArn")
    if len(arn) < 37 or len(arn) > 1024:
        raise constraint(
            arn,
            "streamArn",
            "Member must have length greater than or equal to 37"
            if len(arn) < 37
            else "Member must have length less than or equal to 1024",
        )
    for s in _streams(engine):
        if s[2] == arn:
            return s
    raise DynamoError("ResourceNotFoundException",
                      f"Requested resource not found: Stream: {arn} not found")  # fmt: skip


def list_streams(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("Limit", 100)
    if not isinstance(limit, int) or limit < 1:
        raise constraint(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > 100:
        raise constraint(limit, "limit", "Member must have value less than or equal to 100")
    table = req.get("TableName")
    if table is not None:
        if not isinstance(table, str) or not 3 <= len(table) <= 255:
            raise constraint(table, "tableName", "Member must have length greater than or equal "
                             "to 3")  # fmt: skip
        if table not in engine.store.tables and not any(s[1] == table for s in _streams(engine)):
            raise DynamoError(
                "ResourceNotFoundException",
                f"Requested resource not found: Table: {table} not found",
            )
    streams = [s for s in _streams(engine) if table is None or s[1] == table]
    start = req.get("ExclusiveStartStreamArn")
    if start is not None:
        arns = [s[2] for s in streams]
        if start not in arns:
            raise validation(f"Invalid ExclusiveStartStreamArn: {start}")
        streams = streams[arns.index(start) + 1 :]
    page = streams[:limit]
    out: dict[str, Any] = {
        "Streams": [
            {"StreamArn": s[2], "TableName": s[1], "StreamLabel": s[3]["label"]} for s in page
        ]
    }
    if len(streams) > limit:
        out["LastEvaluatedStreamArn"] = page[-1][2]
    return out


def _shard(engine: Engine, sid: int, m: dict[str, Any]) -> dict[str, Any]:
    db = engine.store.db
    first = db.execute("SELECT min(seq) FROM records WHERE sid = ?", (sid,)).fetchone()[0]
    rng: dict[str, str] = {"StartingSequenceNumber": sequence_text(first or m["start"])}
    if m["end"] is not None:
        rng["EndingSequenceNumber"] = sequence_text(max(m["end"], first or m["start"]))
    return {"ShardId": m["shard"], "SequenceNumberRange": rng}


def describe_stream(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    sid, tname, arn, m = _stream(engine, req.get("StreamArn"))
    limit = req.get("Limit", 100)
    if not isinstance(limit, int) or limit < 1:
        raise constraint(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > 100:
        raise constraint(limit, "limit", "Member must have value less than or equal to 100")
    shards = [_shard(engine, sid, m)]
    start = req.get("ExclusiveStartShardId")
    if start is not None:
        if not isinstance(start, str) or len(start) < 28:
            raise constraint(
                start,
                "exclusiveStartShardId",
                "Member must have length greater than or equal to 28",
            )
        ids = [s["ShardId"] for s in shards]
        shards = shards[ids.index(start) + 1 :] if start in ids else []
    flt = req.get("ShardFilter")
    if flt is not None:
        if flt.get("Type") != "CHILD_SHARDS":
            raise constraint(
                flt.get("Type"),
                "shardFilter.type",
                "Member must satisfy enum value set: [CHILD_SHARDS]",
            )
        if not flt.get("ShardId"):
            raise validation("ShardFilter of type CHILD_SHARDS requires a ShardId")
        # one shard per stream: no shard has a parent, so no shard is anyone's child
        shards = [s for s in shards if s.get("ParentShardId") == flt["ShardId"]]
    desc: dict[str, Any] = {
        "StreamArn": arn, "StreamLabel": m["label"],
        "StreamStatus": "DISABLED" if m["disabled"] else "ENABLED",
        "StreamViewType": m["view"], "CreationRequestDateTime": m["created"],
        "TableName": tname, "KeySchema": m["key_schema"], "Shards": shards[:limit],
    }  # fmt: skip
    if len(shards) > limit:
        desc["LastEvaluatedShardId"] = shards[limit - 1]["ShardId"]
    return {"StreamDescription": desc}


def _encode(sid: int, arn: str, shard: str, pos: int) -> str:
    raw = json.dumps([sid, pos, time.time(), shard, arn]).encode()
    return arn + "|" + base64.urlsafe_b64encode(raw).decode()


def _decode(token: Any) -> tuple[int, int, float, str, str]:
    if not isinstance(token, str):
        raise missing("shardIterator")
    if not 1 <= len(token) <= 2048:
        raise constraint("...", "shardIterator", "Member must have length less than or equal "
                         "to 2048")  # fmt: skip
    try:
        sid, pos, issued, shard, arn = json.loads(base64.urlsafe_b64decode(token.split("|")[-1]))
        return int(sid), int(pos), float(issued), str(shard), str(arn)
    except (ValueError, TypeError, binascii.Error):
        raise validation("Invalid ShardIterator") from None


def get_shard_iterator(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    sid, _, arn, m = _stream(engine, req.get("StreamArn"))
    shard = req.get("ShardId")
    if shard is None:
        raise missing("shardId")
    kind = req.get("ShardIteratorType")
    if kind not in ITERATOR_TYPES:
        if kind is None:
            raise missing("shardIteratorType")
        raise constraint(
            kind,
            "shardIteratorType",
            "Member must satisfy enum value set: "
            "[AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
        )
    if shard != m["shard"]:
        raise DynamoError(
            "ResourceNotFoundException",
            f"Requested resource not found: Shard does not exist: {shard}",
        )
    db = engine.store.db
    seq_text = req.get("SequenceNumber")
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if seq_text is None:
            raise validation(f"Must specify a SequenceNumber for ShardIteratorType {kind}")
        try:
            seq = int(seq_text)
        except (TypeError, ValueError):
            raise validation(f"Invalid SequenceNumber: {seq_text}") from None
        top = m["end"] if m["end"] is not None else engine.store.last_seq
        if seq < m["start"] or seq > max(top, m["start"]):
            raise validation(f"Invalid SequenceNumber {seq_text} for shard {shard}: it is not "
                             "in the shard's sequence number range")  # fmt: skip
        first = db.execute("SELECT min(seq) FROM records WHERE sid = ?", (sid,)).fetchone()[0]
        if first is not None and seq < first and seq >= m["start"]:
            trimmed = db.execute("SELECT 1 FROM records WHERE sid = ? AND seq < ? LIMIT 1",
                                 (sid, seq)).fetchone()  # fmt: skip
            if trimmed is None and first > m["start"]:
                raise DynamoError(
                    "TrimmedDataAccessException",
                    "The requested sequence number is beyond the trim horizon",
                )
        pos = seq - 1 if kind == "AT_SEQUENCE_NUMBER" else seq
    elif seq_text is not None:
        raise validation(f"SequenceNumber must not be specified for ShardIteratorType {kind}")
    elif kind == "TRIM_HORIZON":
        pos = m["start"] - 1
    else:
        top = db.execute("SELECT max(seq) FROM records WHERE sid = ?", (sid,)).fetchone()[0]
        pos = top if top is not None else m["start"] - 1
    return {"ShardIterator": _encode(sid, arn, shard, pos)}


def get_records(engine: Engine, req: dict[str, Any]) -> bytes:
    sid, pos, issued, shard, arn = _decode(req.get("ShardIterator"))
    now = time.time()
    if now - issued > ITERATOR_TTL_S:
        raise DynamoError("ExpiredIteratorException",
                          f"Iterator expired. The iterator was created at time {issued} while "
                          f"right now it is {now} which is further in the future than the "
                          "tolerated delay of 900000 milliseconds.")  # fmt: skip
    limit = req.get("Limit", 1000)
    if not isinstance(limit, int) or limit < 1:
        raise constraint(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > 1000:
        raise constraint(limit, "limit", "Member must have value less than or equal to 1000")
    db = engine.store.db
    meta_row = db.execute("SELECT meta FROM streams WHERE sid = ?", (sid,)).fetchone()
    if meta_row is None:
        raise DynamoError(
            "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
        )
    m = json.loads(meta_row[0])
    rows = db.execute("SELECT seq, rec FROM records WHERE sid = ? AND seq > ? ORDER BY seq "
                      "LIMIT ?", (sid, pos, limit)).fetchall()  # fmt: skip
    last = rows[-1][0] if rows else pos
    parts = [b'{"Records":[', b",".join(r[1].encode() for r in rows), b"]"]
    closed = m["end"] is not None and last >= m["end"]
    if not closed:
        parts.append(b',"NextShardIterator":' + json.dumps(_encode(sid, arn, shard, last)).encode())
    parts.append(b"}")
    return b"".join(parts)


def trim(engine: Engine, now: float) -> None:
    """Drop records older than 24 h and streams disabled more than 24 h ago."""
    db = engine.store.db
    horizon = now - RETENTION_S
    # records are appended in time order: the first young one bounds what has expired
    row = db.execute("SELECT seq FROM records WHERE ts >= ? ORDER BY seq LIMIT 1",
                     (horizon,)).fetchone()  # fmt: skip
    if row is not None:
        db.execute("DELETE FROM records WHERE seq < ?", (row[0],))
    else:
        db.execute("DELETE FROM records WHERE ts < ?", (horizon,))
    for sid, meta in db.execute("SELECT sid, meta FROM streams").fetchall():
        m = json.loads(meta)
        if m["disabled"] is not None and m["disabled"] < now - RETENTION_S:
            db.execute("DELETE FROM streams WHERE sid = ?", (sid,))
