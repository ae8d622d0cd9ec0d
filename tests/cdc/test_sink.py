"""The sink against a DynamoDB server: idempotent, never older over newer, deletes stick.

Runs against moto's server (the embedded runtime's DynamoDB engine today), with the
read-model table created from the topology.
"""

from __future__ import annotations

import json
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


def test_deletes_and_puts_over_several_transactions(
    sink: ReadModelSink, dynamodb: Any, table: str
) -> None:
    """A delete is two writes (marker, item): 70 deletes + 30 puts need two transactions; a
    replayed delete older than a re-creation fails both its conditions and holds back none."""
    apply(sink, *[create(1000 + i, R[i]) for i in range(100)])
    apply(sink, delete(3000, R[0]), create(3001, R[0], name="back"))
    batch = [delete(4000 + i, R[i]) for i in range(1, 71)]
    batch += [update(4100 + i, R[i], name="new") for i in range(71, 100)]
    written, stale = apply(sink, *batch, delete(3000, R[0]))  # the replay: stale
    assert (written, stale) == (99, 1)
    items = visible(dynamodb, table)
    assert set(items) == {(f"RESTAURANT#{R[i]}", "PROFILE") for i in [0, *range(71, 100)]}
    assert items[(f"RESTAURANT#{R[0]}", "PROFILE")]["name"] == "back"
    assert all(items[(f"RESTAURANT#{R[i]}", "PROFILE")]["name"] == "new" for i in range(71, 100))
    # the deleted rows cannot come back through an older update
    assert apply(sink, update(3500, R[5], name="late")) == (0, 1)
    assert (f"RESTAURANT#{R[5]}", "PROFILE") not in visible(dynamodb, table)


class ConflictOnce:
    """A client whose first transaction is cancelled by a conflict on its first item (as
    DynamoDB does while another transaction holds that item); everything else passes."""

    def __init__(self, client: Any) -> None:
        self.client, self.conflicts = client, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        if self.conflicts == 0:
            self.conflicts += 1
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (
                len(kwargs["TransactItems"]) - 1
            )
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                 "CancellationReasons": reasons}, "TransactWriteItems")  # fmt: skip
        return self.client.transact_write_items(**kwargs)


def test_transaction_conflict_is_retried(spec: SinkSpec, dynamodb: Any, table: str) -> None:
    client = ConflictOnce(dynamodb)
    sink = ReadModelSink(client, table, spec)
    assert apply(sink, *[create(1000 + i, R[i]) for i in range(5)]) == (5, 0)
    assert client.conflicts == 1
    assert len(visible(dynamodb, table)) == 5


def test_transactions_respect_the_request_limits() -> None:
    """At most 100 writes and under 4 MB per transaction, each item once, a delete's two
    writes together."""
    from cdc.sink import TRANSACT_BYTES, TRANSACT_MAX, _Action, _chunks

    big = "x" * 300_000
    acts = [_Action(i // 2, (("PK", f"k{i}"),), {"Put": {"Item": {"b": big}}}) for i in range(30)]
    acts += [_Action(100 + i, (("PK", f"s{i}"),), {"Put": {}}) for i in range(250)]
    acts.append(_Action(999, (("PK", "s0"),), {"Put": {}}))  # the same item again
    chunks = _chunks(acts)
    assert [a for c in chunks for a in c] == acts

    for c in chunks:
        assert len(c) <= TRANSACT_MAX
        assert sum(len(json.dumps(a.request)) for a in c) <= TRANSACT_BYTES
        assert len({a.item for a in c}) == len(c)
    where = {(a.op, n) for n, c in enumerate(chunks) for a in c}
    assert len(where) == len({a.op for a in acts})  # an op's writes in one transaction
    # 300 KB writes: 10 (5 ops of 2) to a transaction; then at most 100 writes each
    assert [len(c) for c in chunks] == [10, 10, 100, 100, 61]
