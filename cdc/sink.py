"""Apply item operations to the DynamoDB read model: idempotent, and never older over newer.

Every item the sink writes carries the version of the change that wrote it
(``spec.version_attribute``, see ``cdc.transform``). A write happens only where the stored
version is lower, so a replayed or late change is a no-op.

Deletes leave a *delete marker*: an item at the same key with the partition key prefixed
(``_deleted#RESTAURANT#1``), holding only the version. An upsert checks the marker in the
same transaction, so a change older than the delete (a replay after a crash, a redelivery)
cannot bring the row back; a newer insert (the row re-created) passes. Markers live
outside every key the read model's access patterns query and carry no GSI attributes,
so readers never see them; they cost one small item per deleted row (chosen over a
marker in place, which every reader would have to filter).

Operations go in ``TransactWriteItems`` calls of up to 50 keys (two actions each: the item
and its marker). A cancelled transaction says, per action, why: a failed condition means
that change is stale (dropped), a conflict means retry; the rest is retried.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from cdc.transform import ItemOp, SinkSpec

log = logging.getLogger(__name__)

KEYS_PER_TRANSACTION = 50  # 100 actions: DynamoDB's limit per TransactWriteItems
MAX_ATTEMPTS = 8
_CONDITION = "attribute_not_exists(#v) OR #v < :v"


@dataclass
class ApplyResult:
    written: int = 0
    stale: int = 0  # changes older than (or equal to) what the table holds: skipped


def compact(ops: Iterable[ItemOp]) -> list[ItemOp]:
    """The newest operation per item key (older ones would be overwritten anyway).

    Also required: one transaction may not touch an item twice.
    """
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

    def apply(self, ops: Iterable[ItemOp]) -> ApplyResult:
        result = ApplyResult()
        todo = compact(ops)
        for start in range(0, len(todo), KEYS_PER_TRANSACTION):
            self._transact(todo[start : start + KEYS_PER_TRANSACTION], result)
        return result

    # -- one transaction, retried until every op is written or known stale ------------
    def _transact(self, ops: list[ItemOp], result: ApplyResult) -> None:
        from botocore.exceptions import ClientError

        attempt = 0
        while ops:
            try:
                self.client.transact_write_items(TransactItems=self._actions(ops))
                result.written += len(ops)
                return
            except ClientError as exc:
                err = exc.response.get("Error", {})
                if err.get("Code") not in (
                    "TransactionCanceledException",
                    "TransactionInProgressException",
                    "ThrottlingException",
                    "ProvisionedThroughputExceededException",
                ):
                    raise
                reasons = _reasons(exc.response)
                keep: list[ItemOp] = []
                for i, op in enumerate(ops):
                    if "ConditionalCheckFailed" in reasons[2 * i : 2 * i + 2]:
                        result.stale += 1
                    else:
                        keep.append(op)
                stale_only = len(keep) < len(ops) and set(reasons) <= {
                    "None",
                    "ConditionalCheckFailed",
                }
                ops = keep
                if stale_only:
                    continue  # the rest was only held back by the stale ones: go again now
                attempt += 1
                if attempt >= MAX_ATTEMPTS:
                    raise
                time.sleep(min(2.0, 0.02 * 2**attempt) * (0.5 + random.random()))

    def _actions(self, ops: list[ItemOp]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        names = {"#v": self.spec.version_attribute}
        for op in ops:
            values = {":v": {"S": op.version}}
            guard = {"ConditionExpression": _CONDITION, "ExpressionAttributeNames": names,
                     "ExpressionAttributeValues": values, "TableName": self.table}  # fmt: skip
            marker = self._marker_key(op.key)
            if op.kind == "put":
                item = {**op.item, self.spec.version_attribute: op.version}
                out.append({"ConditionCheck": {"Key": self._ddb(marker), **guard}})
                out.append({"Put": {"Item": self._ddb(item), **guard}})
            else:
                stub = {**marker, self.spec.version_attribute: op.version}
                out.append({"Put": {"Item": self._ddb(stub), **guard}})
                out.append({"Delete": {"Key": self._ddb(op.key), **guard}})
        return out

    def _marker_key(self, key: dict[str, str]) -> dict[str, str]:
        h = self.spec.hash_key
        return {**key, h: self.spec.deleted_prefix + key[h]}

    def _ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in item.items()}


def _reasons(response: dict[str, Any]) -> list[str]:
    """Per-action cancellation codes: the structured list, else the list in the message
    (``... reasons [ConditionalCheckFailed, None]``, what the wire protocol always has)."""
    structured = response.get("CancellationReasons")
    if structured:
        return [str(r.get("Code")) for r in structured]
    message = str(response.get("Error", {}).get("Message", ""))
    if message.endswith("]") and "[" in message:
        return [part.strip() for part in message[message.rindex("[") + 1 : -1].split(",")]
    return []
