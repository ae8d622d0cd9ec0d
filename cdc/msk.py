"""The event an AWS Lambda receives from an Amazon MSK event source mapping.

Shape (AWS Lambda developer guide, "Using Lambda with Amazon MSK")::

    {"eventSource": "aws:kafka", "eventSourceArn": "...", "bootstrapServers": "...",
     "records": {"<topic>-<partition>": [{"topic", "partition", "offset", "timestamp",
                 "timestampType", "key": base64, "value": base64,
                 "headers": [{"<name>": [byte, ...]}]}]}}

The local consumer builds exactly this from the records it polls, so the handler cannot
tell where it runs. A null key or value (a Kafka tombstone) is left out of its record.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

EVENT_SOURCE = "aws:kafka"


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int  # milliseconds since the epoch
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)
    timestamp_type: str = "CREATE_TIME"


def msk_event(
    records: Sequence[KafkaRecord], *, source_arn: str = "", bootstrap: str = ""
) -> dict[str, Any]:
    """The MSK event for ``records``, grouped by topic-partition, in the order given."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        entry: dict[str, Any] = {
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp": r.timestamp,
            "timestampType": r.timestamp_type,
            "headers": [{name: list(value)} for name, value in r.headers],
        }
        if r.key is not None:
            entry["key"] = base64.b64encode(r.key).decode("ascii")
        if r.value is not None:
            entry["value"] = base64.b64encode(r.value).decode("ascii")
        grouped.setdefault(f"{r.topic}-{r.partition}", []).append(entry)
    return {
        "eventSource": EVENT_SOURCE,
        "eventSourceArn": source_arn,
        "bootstrapServers": bootstrap,
        "records": grouped,
    }


def records_of(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every record of an MSK event, each partition's records in offset order."""
    if event.get("eventSource") != EVENT_SOURCE:
        raise ValueError(f"not an MSK event (eventSource {event.get('eventSource')!r})")
    for records in event.get("records", {}).values():
        yield from sorted(records, key=lambda r: int(r["offset"]))


def json_value(record: dict[str, Any]) -> Any:
    """The record's value as JSON (None for a tombstone)."""
    raw = record.get("value")
    if not raw:
        return None
    return json.loads(base64.b64decode(raw))


def where(record: dict[str, Any]) -> str:
    """``topic-partition@offset``: how logs and errors name a record."""
    return f"{record.get('topic')}-{record.get('partition')}@{record.get('offset')}"
