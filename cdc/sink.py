"""Apply item operations to the DynamoDB read model: idempotent, and never older over newer.

Every item the sink writes carries the version of the change that wrote it
(``spec.version_attribute``, see ``cdc.transform``). A write happens only where the stored
version is lower (a conditional write), so a replayed or late change is a no-op.

Deletes leave a *delete marker*: an item at the same key with the partition key prefixed
(``_deleted#RESTAURANT#1``), holding only the version. A put first reads the marker and
skips if the delete is newer, so a change older than the delete (a replay after a crash,
a redelivery) cannot bring the row back; a newer insert (the row re-created) passes.
Markers live outside every key the read model's access patterns query and carry no GSI
attributes, so readers never see them; they cost one small item per deleted row (chosen
over a marker in place, which every reader would have to filter).

Writes go out as ``TransactWriteItems`` of up to 100 conditional writes: one request per
100 changes instead of one per change (the boto3 client's CPU per request was the
ceiling). A cancelled transaction writes nothing and names, per write, the conditions that
failed; those writes are stale and dropped, the rest sent again, so each item ends as one
conditional PutItem/DeleteItem would leave it. In AWS a transactional write costs twice
the write capacity of a PutItem (docs/cdc.md weighs it).

Why the marker check and the write may be two requests: all writes of one item come from
one row, hence one Kafka partition, which the MSK event source mapping and the local
consumer both process in order, one batch at a time. Within a batch the sink keeps only
the newest operation per item and writes different items concurrently. (A zombie consumer
on the same partition during a rebalance could slip an older put between check and write
until that row's next change; a ``ConditionCheck`` on the marker in the same transaction
would close that window at the price of a second write per put.)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from cdc.transform import ItemOp, SinkSpec

log = logging.getLogger(__name__)

WRITERS = 8  # concurrent transactions (different items; each item's ops stay in order)
TRANSACT_MAX = 100  # TransactWriteItems' limit of actions per request
TRANSACT_BYTES = 3_500_000  # under its 4 MB request limit (JSON of the actions, with margin)
MAX_CONFLICT_RETRIES = 5  # TransactionConflict: another transaction holds one of the items
MARKER_READ_BATCH = 100  # BatchGetItem's limit
_CONDITION = "attribute_not_exists(#v) OR #v < :v"


@dataclass
class ApplyResult:
    written: int = 0
    stale: int = 0  # changes older than (or equal to) what the table holds: skipped


@dataclass(frozen=True)
class _Action:
    """One write of a transaction: the op it belongs to (its id) and the item it touches."""

    op: int
    item: tuple[tuple[str, str], ...]
    request: dict[str, Any]


def _ident(key: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(key.items()))


def _chunks(actions: list[_Action]) -> list[list[_Action]]:
    """Transactions of at most ``TRANSACT_MAX`` actions and ``TRANSACT_BYTES``, each item once.

    An operation's actions stay together (a delete's marker and item in one transaction).
    """
    out: list[list[_Action]] = []
    chunk: list[_Action] = []
    items: set[tuple[tuple[str, str], ...]] = set()
    size = 0
    i = 0
    while i < len(actions):
        j = i + 1
        while j < len(actions) and actions[j].op == actions[i].op:
            j += 1
        group = actions[i:j]
        grown = size + sum(len(json.dumps(a.request)) for a in group)
        if chunk and (len(chunk) + len(group) > TRANSACT_MAX or grown > TRANSACT_BYTES
                      or any(a.item in items for a in group)):  # fmt: skip
            out.append(chunk)
            chunk, items, size = [], set(), 0
            grown = sum(len(json.dumps(a.request)) for a in group)
        chunk.extend(group)
        items.update(a.item for a in group)
        size = grown
        i = j
    if chunk:
        out.append(chunk)
    return out


def compact(ops: Iterable[ItemOp]) -> list[ItemOp]:
    """The newest operation per item key (older ones would be overwritten anyway)."""
    newest: dict[tuple[tuple[str, str], ...], ItemOp] = {}
    for op in ops:
        seen = newest.get(op.identity)
        if seen is None or op.version >= seen.version:
            newest[op.identity] = op
    return list(newest.values())


class ReadModelSink:
    """Writes item operations into one table through a boto3 DynamoDB client."""

    def __init__(self, client: Any, table: str, spec: SinkSpec) -> None:
        self.client, self.table, self.spec = client, table, spec
        self._ser = TypeSerializer()
        self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="cdc-sink")

    def apply(self, ops: Iterable[ItemOp]) -> ApplyResult:
        todo = compact(ops)
        deleted = self._marker_versions([op for op in todo if op.kind == "put"])
        result = ApplyResult()
        actions: list[_Action] = []
        for op in todo:
            if op.kind == "put" and deleted.get(op.identity, "") >= op.version:
                result.stale += 1  # deleted by a newer change
                continue
            actions.extend(self._actions(op))
        failed: set[int] = set()
        for stale in self._pool.map(self._transact, _chunks(actions)):
            failed |= stale
        ops_with_actions = {a.op for a in actions}
        result.stale += len(failed)
        result.written += len(ops_with_actions - failed)
        return result

    def _actions(self, op: ItemOp) -> list[_Action]:
        """The conditional writes of one operation (a delete: its marker, then the item)."""
        v = self.spec.version_attribute
        cond = {"ConditionExpression": _CONDITION, "ExpressionAttributeNames": {"#v": v},
                "ExpressionAttributeValues": {":v": {"S": op.version}}}  # fmt: skip
        if op.kind == "put":
            item = {**op.item, v: op.version}
            return [
                _Action(
                    id(op),
                    _ident(op.key),
                    {"Put": {"TableName": self.table, "Item": self._ddb(item), **cond}},
                )
            ]
        marker = self._marker_key(op.key)
        return [
            _Action(id(op), _ident(marker), {"Put": {
                "TableName": self.table, "Item": self._ddb({**marker, v: op.version}), **cond}}),
            _Action(id(op), _ident(op.key),
                    {"Delete": {"TableName": self.table, "Key": self._ddb(op.key), **cond}}),
        ]  # fmt: skip

    def _transact(self, actions: list[_Action]) -> set[int]:
        """Write ``actions`` in one transaction; the ops (ids) whose conditions failed (stale).

        A cancelled transaction writes nothing; its ``CancellationReasons`` (one per action,
        in order) say which conditions failed. Those actions are dropped and the rest sent
        again, until the transaction commits. A conflict with another transaction on the
        same item is retried with backoff; anything else propagates (the batch is retried).
        """
        from botocore.exceptions import ClientError

        stale: set[int] = set()
        conflicts = 0
        while actions:
            try:
                self.client.transact_write_items(TransactItems=[a.request for a in actions])
                return stale
            except ClientError as exc:
                err = exc.response.get("Error", {})
                if err.get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
            if len(codes) != len(actions):
                raise RuntimeError(f"transaction cancelled without one reason per item: {codes}")
            failed = {i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"}
            other = {c for c in codes if c not in ("None", "ConditionalCheckFailed")}
            if other - {"TransactionConflict"}:
                raise RuntimeError(f"transaction cancelled: {', '.join(sorted(other))}")
            if not failed:  # only conflicts: the same actions again, after a pause
                conflicts += 1
                if conflicts > MAX_CONFLICT_RETRIES:
                    raise RuntimeError(f"transaction conflicts persist after {conflicts} tries")
                time.sleep(0.01 * 2**conflicts)
                continue
            stale |= {actions[i].op for i in failed}
            actions = [a for i, a in enumerate(actions) if i not in failed]
        return stale

    def _marker_versions(self, puts: list[ItemOp]) -> dict[tuple[tuple[str, str], ...], str]:
        """Versions of the delete markers at the keys about to be put (consistent reads)."""
        out: dict[tuple[tuple[str, str], ...], str] = {}
        by_marker = {tuple(sorted(self._marker_key(op.key).items())): op for op in puts}
        keys = list(by_marker)
        v = self.spec.version_attribute
        for start in range(0, len(keys), MARKER_READ_BATCH):
            chunk = [dict(k) for k in keys[start : start + MARKER_READ_BATCH]]
            request: dict[str, Any] = {self.table: {
                "Keys": [self._ddb(k) for k in chunk], "ConsistentRead": True,
                "ProjectionExpression": "#h, #r, #v" if len(chunk[0]) > 1 else "#h, #v",
                "ExpressionAttributeNames": self._names(chunk[0])}}  # fmt: skip
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(self.table, []):
                    marker = tuple(sorted((a, raw[a]["S"]) for a in chunk[0]))
                    op = by_marker.get(marker)
                    if op is not None and v in raw:
                        out[op.identity] = raw[v]["S"]
                request = resp.get("UnprocessedKeys") or {}
        return out

    def _names(self, key: dict[str, str]) -> dict[str, str]:
        names = {"#v": self.spec.version_attribute, "#h": self.spec.hash_key}
        others = [a for a in key if a != self.spec.hash_key]
        if others:
            names["#r"] = others[0]
        return names

    def _marker_key(self, key: dict[str, str]) -> dict[str, str]:
        h = self.spec.hash_key
        return {**key, h: self.spec.deleted_prefix + key[h]}

    def _ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in item.items()}
