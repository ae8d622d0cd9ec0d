"""Build DynamoDB Streams Lambda records (the AWS event shape) for tests."""

from __future__ import annotations

from typing import Any

STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/tcgstore-local-Cards/stream/"
    "2026-01-01T00:00:00.000"
)


def av(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB AttributeValue."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    return {"S": str(value)}


def card(card_id: str, name: str = "Black Lotus", **extra: Any) -> dict[str, Any]:
    item = {"Id": card_id, "name": name, "description": "a card", "set": "alpha",
            "rarity": "rare", "type": "artifact", "number": 1, "price": "12.50",
            "foil": False, "released_at": "1993-08-05T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z"}  # fmt: skip
    item.update(extra)
    return item


def record(
    event_name: str,
    seq: int,
    keys: dict[str, Any],
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1767225600.0,
        "Keys": {k: av(v) for k, v in keys.items()},
        "SequenceNumber": str(seq),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = {k: av(v) for k, v in new.items()}
    if old is not None:
        body["OldImage"] = {k: av(v) for k, v in old.items()}
    return {"eventID": f"e{seq}", "eventName": event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": body,
            "eventSourceARN": STREAM_ARN}  # fmt: skip


def put(seq: int, item: dict[str, Any], insert: bool = False) -> dict[str, Any]:
    return record("INSERT" if insert else "MODIFY", seq, {"Id": item["Id"]}, new=item)


def remove(seq: int, card_id: str) -> dict[str, Any]:
    return record("REMOVE", seq, {"Id": card_id}, old=card(card_id))
