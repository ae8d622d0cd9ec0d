"""Events recorded from the real pipeline (Debezium 3.7 on Kafka 4.3, bellyfed's link, by
tests/support/cdc_pipeline.py) replayed through the handler into a DynamoDB server: the
read model ends as the tables ended (recorded next to them, by the declared transform)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cdc.handler import handle
from cdc.msk import KafkaRecord, msk_event
from cdc.sink import ReadModelSink

from .conftest import scan

RECORDED = Path(__file__).parent / "recorded"
TOPIC = "bellyfed-local-bellyfed.cdc"


def _records() -> list[KafkaRecord]:
    out = []
    for line in (RECORDED / "bellyfed-debezium-3.7.jsonl").read_text().splitlines():
        r = json.loads(line)
        out.append(KafkaRecord(
            TOPIC, r["partition"], r["offset"], 0, r["key"] and r["key"].encode(),
            None if r["value"] is None else r["value"].encode()))  # fmt: skip
    return out


def _expected() -> dict[tuple[str, str], dict[str, Any]]:
    rows = json.loads((RECORDED / "bellyfed-debezium-3.7.expected.json").read_text())
    return {(k[0], k[1]): v for k, v in rows}


def _visible(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {k: {a: v for a, v in item.items() if a != "_version"}
            for k, item in scan(client, table).items()
            if not k[0].startswith("_deleted#")}  # fmt: skip


def test_recording_covers_every_kind_of_record() -> None:
    values = [json.loads(r.value) if r.value else None for r in _records()]
    ops = {(v.get("op"), v["source"]["table"]) for v in values if v and "op" in v}
    assert {("c", "restaurants"), ("u", "restaurants"), ("d", "restaurants"),
            ("c", "menu_items"), ("u", "menu_items"), ("d", "menu_items"),
            ("c", "reviews"), ("u", "reviews")} <= ops  # fmt: skip
    assert None in values  # tombstones
    assert any(v and "op" not in v for v in values)  # heartbeats


def test_replay_reaches_the_recorded_end_state(sink: ReadModelSink, dynamodb: Any,
                                              table: str) -> None:  # fmt: skip
    records = _records()
    handle(msk_event(records), sink)
    assert _visible(dynamodb, table) == _expected()
    # redelivered whole, and one partition again on its own: nothing changes
    handle(msk_event(records), sink)
    handle(msk_event([r for r in records if r.partition == 4]), sink)
    assert _visible(dynamodb, table) == _expected()


def test_one_record_at_a_time_reaches_the_same_state(sink: ReadModelSink, dynamodb: Any,
                                                     table: str) -> None:  # fmt: skip
    for record in _records():
        handle(msk_event([record]), sink)
    assert _visible(dynamodb, table) == _expected()
