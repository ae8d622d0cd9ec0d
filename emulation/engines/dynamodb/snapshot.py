"""Save every DynamoDB table (definition + items) to a JSON file, and load it back.

moto keeps everything in memory, so the embedded DynamoDB would forget all items at
``down``. The server process writes a snapshot when it stops (and periodically while
there were writes) and restores it before it accepts requests. Stream records are
not kept: after a restart a table's stream starts empty, as if its 24-hour retention
had passed. Binary values are stored base64-encoded.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

_READ_TARGETS = frozenset({
    "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable",
    "ListTables", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource",
    "DescribeStream", "GetRecords", "GetShardIterator", "ListStreams", "DescribeLimits",
    "DescribeEndpoints",
})  # fmt: skip


def is_write(target: str) -> bool:
    """Whether an ``X-Amz-Target`` operation (``DynamoDB_20120810.PutItem``) may change data."""
    op = target.rsplit(".", 1)[-1]
    return bool(op) and op not in _READ_TARGETS


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _create_args(desc: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments that rebuild the table ``desc`` (a DescribeTable result)."""
    billing = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    args: dict[str, Any] = {
        "TableName": desc["TableName"],
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "BillingMode": billing,
    }

    def throughput(d: dict[str, Any]) -> dict[str, int]:
        pt = d.get("ProvisionedThroughput", {})
        return {
            "ReadCapacityUnits": max(1, int(pt.get("ReadCapacityUnits") or 1)),
            "WriteCapacityUnits": max(1, int(pt.get("WriteCapacityUnits") or 1)),
        }

    if billing == "PROVISIONED":
        args["ProvisionedThroughput"] = throughput(desc)
    if desc.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {
                "IndexName": g["IndexName"],
                "KeySchema": g["KeySchema"],
                "Projection": g["Projection"],
                **({"ProvisionedThroughput": throughput(g)} if billing == "PROVISIONED" else {}),
            }
            for g in desc["GlobalSecondaryIndexes"]
        ]
    if desc.get("LocalSecondaryIndexes"):
        args["LocalSecondaryIndexes"] = [
            {"IndexName": ix["IndexName"], "KeySchema": ix["KeySchema"],
             "Projection": ix["Projection"]}
            for ix in desc["LocalSecondaryIndexes"]
        ]  # fmt: skip
    return args


def take(client: Any) -> dict[str, Any]:
    """Every table of the endpoint ``client`` talks to, with its items."""
    tables = []
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            desc = client.describe_table(TableName=name)["Table"]
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            backups = client.describe_continuous_backups(TableName=name)
            pitr = (
                backups["ContinuousBackupsDescription"]
                .get("PointInTimeRecoveryDescription", {})
                .get("PointInTimeRecoveryStatus")
                == "ENABLED"
            )
            items: list[dict[str, Any]] = []
            for scanned in client.get_paginator("scan").paginate(TableName=name):
                items.extend(scanned["Items"])
            tables.append({
                "create": _create_args(desc),
                "stream": desc.get("StreamSpecification"),
                "ttl": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED"
                else None,
                "pitr": pitr,
                "items": items,
            })  # fmt: skip
    return {"tables": tables}


def write(path: Path, snapshot: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write leaves the previous snapshot intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_encode(snapshot)))
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = _decode(json.loads(path.read_text()))
    return data


def restore(client: Any, snapshot: dict[str, Any]) -> int:
    """Recreate every table and its items; return the number of items written.

    The stream is switched on only after the items are back, so a restore does not
    replay the whole table as INSERT records to stream consumers.
    """
    count = 0
    for table in snapshot.get("tables", []):
        args = table["create"]
        name = args["TableName"]
        client.create_table(**args)
        items = table["items"]
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]
            pending: dict[str, Any] = {name: batch}
            while pending:
                pending = (
                    client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                )
        count += len(items)
        if table.get("stream") and table["stream"].get("StreamEnabled"):
            client.update_table(TableName=name, StreamSpecification=table["stream"])
        if table.get("ttl"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table["ttl"]},
            )
        if table.get("pitr"):
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
    return count
