"""Debezium PostgreSQL change events as the connector writes them (JSON, schemas off).

The envelope and the ``source`` block follow Debezium 2.x/3.x's PostgreSQL connector
(``before``, ``after``, ``source`` with ``lsn``/``txId``/``sequence``/``snapshot``, ``op``,
``ts_ms``); values as ``cdc.connector`` configures them (numeric as strings, timestamptz
as ISO-8601). The end-to-end tests (``test_cdc_pipeline.py``) run the real connector.
"""

from __future__ import annotations

import json
from typing import Any

from cdc.msk import KafkaRecord

SERVER = "bellyfed_local_bellyfed_cdc"


def change(
    table: str,
    op: str,
    lsn: int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    tx: int = 1000,
) -> dict[str, Any]:
    return {
        "before": before,
        "after": after,
        "source": {
            "version": "3.0.0.Final",
            "connector": "postgresql",
            "name": SERVER,
            "ts_ms": 1767225600000,
            "snapshot": "true" if op == "r" else "false",
            "db": "bellyfed",
            "sequence": json.dumps([str(lsn - 8), str(lsn)]),
            "schema": "public",
            "table": table,
            "txId": tx,
            "lsn": lsn,
            "xmin": None,
        },
        "transaction": None,
        "op": op,
        "ts_ms": 1767225600123,
    }


def record(
    event: dict[str, Any] | None,
    key: dict[str, Any],
    offset: int,
    partition: int = 0,
    topic: str = "bellyfed-local-bellyfed.cdc",
) -> KafkaRecord:
    """A Kafka record carrying ``event`` (None: a tombstone) under the row key."""
    return KafkaRecord(
        topic=topic, partition=partition, offset=offset, timestamp=1767225600200,
        key=json.dumps(key).encode(),
        value=None if event is None else json.dumps(event).encode(),
    )  # fmt: skip


def restaurant(rid: str, **over: Any) -> dict[str, Any]:
    row = {
        "restaurant_id": rid, "name": "Ramen Ya", "slug": f"ramen-ya-{rid[:8]}",
        "description": None, "cuisine": "japanese", "city": "Portland",
        "address_line1": "1 Main St", "address_line2": None, "region": "OR",
        "postal_code": "97201", "country_code": "US", "latitude": "45.512300",
        "longitude": "-122.658700", "phone": None, "website_url": None, "price_range": 2,
        "avg_rating": "4.50", "review_count": 3, "is_active": True,
        "created_at": "2026-01-01T10:00:00.123456Z", "updated_at": "2026-01-02T11:00:00Z",
    }  # fmt: skip
    row.update(over)
    return row


def menu_item(iid: str, rid: str, **over: Any) -> dict[str, Any]:
    row = {
        "item_id": iid, "restaurant_id": rid, "name": "Tonkotsu", "description": None,
        "section": "Mains", "price": "14.50", "currency": "USD",
        "dietary_tags": ["spicy"], "is_available": True, "position": 1,
        "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-01T10:00:00Z",
    }  # fmt: skip
    row.update(over)
    return row


def review(rev: str, rid: str, uid: str, **over: Any) -> dict[str, Any]:
    row = {
        "review_id": rev, "restaurant_id": rid, "user_id": uid, "rating": 5,
        "title": "Great", "body": "Rich broth.", "visited_on": 20454,
        "created_at": "2026-01-03T19:30:00.5Z", "updated_at": "2026-01-03T19:30:00.5Z",
    }  # fmt: skip
    row.update(over)
    return row


def heartbeat(offset: int) -> KafkaRecord:
    return KafkaRecord(
        topic="bellyfed-local-bellyfed.cdc", partition=0, offset=offset, timestamp=1,
        key=json.dumps({"serverName": SERVER}).encode(),
        value=json.dumps({"ts_ms": 1767225600999}).encode(),
    )  # fmt: skip
