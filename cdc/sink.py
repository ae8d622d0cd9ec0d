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

Why the marker check and the write may be two requests: all writes of one item come from
one row, hence one Kafka partition, which the MSK event source mapping and the local
consumer both process in order, one batch at a time. Within a batch the sink keeps only
the newest operation per item and writes different items concurrently. (A zombie consumer
on the same partition during a rebalance could slip an older put between check and write
until that row's next change; ``TransactWriteItems`` would close that window but costs
twice the write capacity, and moto copies every table per transaction.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from cdc.transform import ItemOp, SinkSpec

log = logging.getLogger(__name__)

WRITERS = 16  # concurrent item writes (different items; each item's ops stay in order)
MARKER_READ_BATCH = 100  # BatchGetItem's limit
_CONDITION = "attribute_not_exists(#v) OR #v < :v"


@dataclass
class ApplyResult:
    written: int = 0
    stale: int = 0  # changes older than (or equal to) what the table holds: skipped


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
        for written in self._pool.map(lambda op: self._one(op, deleted), todo):
            if written:
                result.written += 1
            else:
                result.stale += 1
        return result

    def _one(self, op: ItemOp, deleted: dict[tuple[tuple[str, str], ...], str]) -> bool:
        """Apply one operation; False if it was stale. Errors propagate (batch retried)."""
        if op.kind == "put":
            if deleted.get(op.identity, "") >= op.version:
                return False  # deleted by a newer change
            item = {**op.item, self.spec.version_attribute: op.version}
            return self._guarded("put_item", Item=self._ddb(item), version=op.version)
        marker = {**self._marker_key(op.key), self.spec.version_attribute: op.version}
        newer_delete = not self._guarded("put_item", Item=self._ddb(marker), version=op.version)
        gone = self._guarded("delete_item", Key=self._ddb(op.key), version=op.version)
        return gone and not newer_delete

    def _guarded(self, call: str, *, version: str, **kwargs: Any) -> bool:
        """One conditional write (only over an older version); False if the condition failed."""
        from botocore.exceptions import ClientError

        try:
            getattr(self.client, call)(
                TableName=self.table, ConditionExpression=_CONDITION,
                ExpressionAttributeNames={"#v": self.spec.version_attribute},
                ExpressionAttributeValues={":v": {"S": version}}, **kwargs)  # fmt: skip
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

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
