"""GetRecords output → the exact record shape the Lambda event source mapping delivers.

boto3 parses the wire format (timestamps become datetimes, binary becomes bytes); the
Lambda event carries the JSON form (epoch seconds, base64), plus ``eventSourceARN`` and
``awsRegion``. See the "DynamoDB Streams event" example in the AWS Lambda developer guide.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, set):
        return [_json_value(v) for v in sorted(value)]
    return value


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    ddb = raw["dynamodb"]
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        created = created.timestamp()
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": _json_value(ddb["Keys"]),
        "SequenceNumber": ddb["SequenceNumber"],
        "SizeBytes": ddb.get("SizeBytes", 0),
        "StreamViewType": ddb.get("StreamViewType", "NEW_AND_OLD_IMAGES"),
    }
    for image in ("NewImage", "OldImage"):
        if image in ddb:
            body[image] = _json_value(ddb[image])
    record: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion") or region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:  # TTL deletes: {"type": "Service", "principalId": "dynamodb..."}
        record["userIdentity"] = raw["userIdentity"]
    return record


def event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
