"""The sink against a DynamoDB server: idempotent, never older over newer, deletes stick.

Runs against moto's server (the embedded runtime's DynamoDB engine today), with the
read-model table created from the topology.
"""

from __future__ import annotations

import random
from typing import Any

from cdc.sink import MARKER_READ_BATCH, ReadModelSink
from cdc.transform import SinkSpec, operations

from . import debezium as dbz
from .conftest import scan

R = [f"00000000-0000-4000-8000-{i:012d}" for i in range(200)]


def apply(sink: ReadModelSink, *events: dict[str, Any]) -> tuple[int, int]:
    result = sink.apply(op for e in events for op in operations(sink.spec, e))
    return result.written, result.stale


def create(lsn: int, rid: str = R[0], **over: Any) -> dict[str, Any]:
    return dbz.change("restaurants", "c", lsn, after=dbz.restaurant(rid, **over))


def update(lsn: int, rid: str = R[0], **over: Any) -> dict[str, Any]:
    return dbz.change("restaurants", "u", lsn, after=dbz.restaurant(rid, **over))


def delete(lsn: int, rid: str = R[0]) -> dict[str, Any]:
    return dbz.change("restaurants", "d", lsn, before=dbz.restaurant(rid))


def visible(dynamodb: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Items a reader of the read model sees (delete markers excluded by their key)."""
    return {k: v for k, v in scan(dynamodb, table).items() if not k[0].startswith("_deleted#")}


def test_insert_then_replay_is_a_no_op(sink: ReadModelSink, dynamodb: Any, table: str) -> None:
    assert apply(sink, create(100)) == (1, 0)
    assert apply(sink, create(100)) == (0, 1)  # the same change again: stale, not rewritten
    [item] = visible(dynamodb, table).values()
    assert item["name"] == "Ramen Ya" and item["_version"] == f"1{100:016x}"


def test_older_update_never_overwrites_a_newer_one(
    sink: ReadModelSink, dynamodb: Any, table: str
) -> None:
    apply(sink, update(300, name="newer"))
    assert apply(sink, update(200, name="older")) == (0, 1)
    [item] = visible(dynamodb, table).values()
    assert item["name"] == "newer"


def test_older_update_after_a_delete_does_not_resurrect(
    sink: ReadModelSink, dynamodb: Any, table: str
) -> None:
    apply(sink, create(100), delete(300))
    assert visible(dynamodb, table) == {}
    assert apply(sink, update(200, name="late")) == (0, 1)
    assert visible(dynamodb, table) == {}
    # a row re-created later (higher LSN) does come back
    apply(sink, create(400, name="again"))
    [item] = visible(dynamodb, table).values()
    assert item["name"] == "again"


def test_delete_marker_is_invisible_to_the_declared_reads(
    sink: ReadModelSink, dynamodb: Any, table: str
) -> None:
    apply(sink, create(100, R[0]), create(101, R[1]), delete(102, R[0]))
    pk = {":pk": {"S": f"RESTAURANT#{R[0]}"}}
    got = dynamodb.query(TableName=table, KeyConditionExpression="PK = :pk",
                         ExpressionAttributeValues=pk)  # fmt: skip
    assert got["Items"] == []
    gsi = dynamodb.query(TableName=table, IndexName="CityCuisineIndex",
                         KeyConditionExpression="GSI1PK = :c",
                         ExpressionAttributeValues={":c": {"S": "CITY#Portland"}})  # fmt: skip
    assert [i["restaurant_id"]["S"] for i in gsi["Items"]] == [R[1]]


def test_batch_larger_than_one_marker_read(sink: ReadModelSink, dynamodb: Any, table: str) -> None:
    n = MARKER_READ_BATCH + 37
    events = [create(1000 + i, R[i]) for i in range(n)]
    # a stale change in the middle of a batch holds back nothing else
    apply(sink, update(5000, R[3], name="newest"))
    written, stale = apply(sink, *events)
    assert (written, stale) == (n - 1, 1)
    items = visible(dynamodb, table)
    assert len(items) == n
    assert items[(f"RESTAURANT#{R[3]}", "PROFILE")]["name"] == "newest"


def test_any_delivery_order_with_replays_converges_to_the_last_change(
    spec: SinkSpec, dynamodb: Any, table: str
) -> None:
    """Redelivery after a crash replays a suffix; retries duplicate; the end state is the
    last committed change of every row, and no read ever sees an older one over a newer."""
    rng = random.Random(11)
    sink = ReadModelSink(dynamodb, table, spec)
    history: list[dict[str, Any]] = []
    last: dict[str, tuple[int, str | None]] = {}
    lsn = 1000
    for step in range(120):
        rid = R[rng.randrange(6)]
        lsn += rng.randrange(1, 40)
        if rid in last and last[rid][1] is not None and rng.random() < 0.3:
            history.append(delete(lsn, rid))
            last[rid] = (lsn, None)
        else:
            name = f"v{step}"
            history.append((update if rid in last else create)(lsn, rid, name=name))
            last[rid] = (lsn, name)
    delivered = list(history)
    for _ in range(40):  # replays of random suffixes, and random duplicates
        start = rng.randrange(len(history))
        at = rng.randrange(len(delivered))
        delivered[at:at] = history[start : start + 5]
    seen: dict[str, int] = {}
    for i in range(0, len(delivered), 17):
        apply(sink, *delivered[i : i + 17])
        for (pk, _), item in visible(dynamodb, table).items():
            v = int(item["_version"][1:], 16)
            assert v >= seen.get(pk, 0), f"{pk}: version went back from {seen[pk]} to {v}"
            seen[pk] = v
    final = {pk[len("RESTAURANT#") :]: item["name"]
             for (pk, _), item in visible(dynamodb, table).items()}  # fmt: skip
    assert final == {rid: name for rid, (_, name) in last.items() if name is not None}
