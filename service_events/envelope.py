"""The event envelope: what every event on a topic looks like, whoever produced it.

``{"id", "type", "time", "producer", "schema_version", "key", "data"}``: ``id`` is unique
per event (consumers dedupe by it), ``type`` the declared event name (``order.created``,
``RESTAURANT_VIEWED``), ``time`` ISO-8601 UTC, ``producer`` ``system.service``,
``schema_version`` the version of ``data``'s shape, ``key`` the entity the event is about
(also the Kafka key: one entity's events stay in one partition, in order).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FIELDS = ("id", "type", "time", "producer", "schema_version", "key", "data")


class EnvelopeError(ValueError):
    """Bytes on a topic that are not an envelope (what is wrong, and where)."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Envelope:
    type: str
    producer: str
    key: str
    data: dict[str, Any]
    schema_version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=_now)

    def to_bytes(self) -> bytes:
        body = {name: getattr(self, name) for name in FIELDS}
        return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None, where: str = "record") -> Envelope:
        if raw is None:
            raise EnvelopeError(f"{where}: empty value (a tombstone), not an event")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise EnvelopeError(f"{where}: not JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise EnvelopeError(f"{where}: an event is a JSON object, got {type(body).__name__}")
        missing = [f for f in FIELDS if f not in body]
        if missing:
            raise EnvelopeError(f"{where}: envelope lacks {', '.join(missing)}")
        checks = {"id": str, "type": str, "time": str, "producer": str, "key": str,
                  "data": dict}  # fmt: skip
        for name, kind in checks.items():
            if not isinstance(body[name], kind):
                raise EnvelopeError(f"{where}: {name} must be a {kind.__name__}")
        version = body["schema_version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise EnvelopeError(f"{where}: schema_version must be a positive integer")
        return cls(type=body["type"], producer=body["producer"], key=body["key"],
                   data=body["data"], schema_version=version, id=body["id"],
                   time=body["time"])  # fmt: skip
