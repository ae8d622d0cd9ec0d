"""The JSON wire API: ``X-Amz-Target`` → operation, body → answer bytes and status.

DynamoDB (``DynamoDB_20120810.*``) and DynamoDB Streams (``DynamoDBStreams_20120810.*``)
share the port; an operation this engine does not implement answers 400
``UnknownOperationException`` naming it, never a silently different result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from emulation.dynamodb import (
    batch_api,
    items_api,
    reads_api,
    streams_api,
    table_settings_api,
    tables_api,
)
from emulation.dynamodb import values as V
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.errors import DynamoError, envelope

log = logging.getLogger(__name__)
Handler = Callable[[Engine, dict[str, Any]], "dict[str, Any] | bytes"]


def _describe_endpoints(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": [{"Address": f"dynamodb.{engine.region}.amazonaws.com",
                           "CachePeriodInMinutes": 1440}]}  # fmt: skip


def _describe_limits(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    return {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}  # fmt: skip


DYNAMODB: dict[str, Handler] = {
    "CreateTable": tables_api.create_table,
    "DescribeTable": tables_api.describe_table,
    "ListTables": tables_api.list_tables,
    "DeleteTable": tables_api.delete_table,
    "UpdateTable": tables_api.update_table,
    "UpdateTimeToLive": table_settings_api.update_ttl,
    "DescribeTimeToLive": table_settings_api.describe_ttl,
    "DescribeContinuousBackups": table_settings_api.describe_backups,
    "UpdateContinuousBackups": table_settings_api.update_backups,
    "TagResource": table_settings_api.tag_resource,
    "UntagResource": table_settings_api.untag_resource,
    "ListTagsOfResource": table_settings_api.list_tags,
    "PutItem": items_api.put_item,
    "GetItem": items_api.get_item,
    "UpdateItem": items_api.update_item,
    "DeleteItem": items_api.delete_item,
    "Query": reads_api.query,
    "Scan": reads_api.scan,
    "BatchGetItem": batch_api.batch_get_item,
    "BatchWriteItem": batch_api.batch_write_item,
    "TransactWriteItems": batch_api.transact_write_items,
    "TransactGetItems": batch_api.transact_get_items,
    "DescribeEndpoints": _describe_endpoints,
    "DescribeLimits": _describe_limits,
}
STREAMS: dict[str, Handler] = {
    "ListStreams": streams_api.list_streams,
    "DescribeStream": streams_api.describe_stream,
    "GetShardIterator": streams_api.get_shard_iterator,
    "GetRecords": streams_api.get_records,
}
# the single-item writes report a bad AttributeValue inside the validator's envelope
ENVELOPED = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
SERVICES = {"DynamoDB_20120810": DYNAMODB, "DynamoDBStreams_20120810": STREAMS}


def _error(err: DynamoError) -> tuple[int, bytes]:
    return err.status, json.dumps(err.body()).encode()


def _coral(kind: str, message: str) -> tuple[int, bytes]:
    return 400, json.dumps({"__type": f"com.amazon.coral.service#{kind}",
                            "message": message}).encode()  # fmt: skip


def handle(engine: Engine, target: str, body: bytes) -> tuple[int, bytes]:
    """Answer one request: (HTTP status, JSON body)."""
    service, _, operation = target.partition(".")
    ops = SERVICES.get(service)
    if ops is None or operation not in ops:
        return _coral("UnknownOperationException",
                      f"Operation {target or '(no X-Amz-Target)'} is not implemented by the "
                      "polystore DynamoDB engine")  # fmt: skip
    try:
        req = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return _coral("SerializationException", "Start of structure or map found where not "
                      "expected; the body is not JSON")  # fmt: skip
    if not isinstance(req, dict):
        return _coral("SerializationException", "Start of structure or map expected")
    try:
        if operation in ENVELOPED:
            with envelope():
                out = ops[operation](engine, req)
        else:
            out = ops[operation](engine, req)
    except DynamoError as err:
        return _error(err)
    except (AttributeError, TypeError, KeyError, IndexError) as err:
        # a member of the wrong JSON type deep in the request (boto3 never sends one)
        log.warning("malformed %s request: %r", operation, err, exc_info=True)
        return _coral("SerializationException", f"A request member has the wrong type ({err})")
    except Exception:
        log.exception("%s failed", operation)
        return 500, json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                                "message": "Internal server error"}).encode()  # fmt: skip
    if isinstance(out, bytes):
        return 200, out
    return 200, V.compact_json(out).encode()
