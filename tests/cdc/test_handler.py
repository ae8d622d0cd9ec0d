"""The Lambda handler on MSK events built from Kafka records, against a DynamoDB server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cdc import handler as handler_mod
from cdc.handler import PoisonRecords, handle
from cdc.msk import KafkaRecord, msk_event, records_of
from cdc.sink import ReadModelSink
from cdc.transform import SinkSpec

from . import debezium as dbz
from .conftest import scan

R1, R2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"


def test_msk_event_has_the_aws_shape() -> None:
    rec = KafkaRecord("t.cdc", 2, 15, 1545084650987, b'{"id":1}', b"hello",
                      headers=[("h", b"v")])  # fmt: skip
    event = msk_event([rec], source_arn="arn:aws:kafka:eu-west-1:1:cluster/c/u",
                      bootstrap="b-1:9098")  # fmt: skip
    assert event == {
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:eu-west-1:1:cluster/c/u",
        "bootstrapServers": "b-1:9098",
        "records": {"t.cdc-2": [{
            "topic": "t.cdc", "partition": 2, "offset": 15, "timestamp": 1545084650987,
            "timestampType": "CREATE_TIME", "key": base64.b64encode(b'{"id":1}').decode(),
            "value": base64.b64encode(b"hello").decode(), "headers": [{"h": [118]}],
        }]},
    }  # fmt: skip


def test_records_come_back_in_offset_order_per_partition() -> None:
    recs = [KafkaRecord("t", p, o, 0, None, b"{}") for p, o in [(0, 5), (1, 2), (0, 3)]]
    got = [(r["partition"], r["offset"]) for r in records_of(msk_event(recs))]
    assert got == [(0, 3), (0, 5), (1, 2)]


def test_not_an_msk_event_is_refused() -> None:
    with pytest.raises(ValueError, match="not an MSK event"):
        list(records_of({"Records": []}))


def test_batch_with_tombstone_and_heartbeat(sink: ReadModelSink, dynamodb: Any,
                                            table: str) -> None:  # fmt: skip
    key = {"restaurant_id": R1}
    records = [
        dbz.record(dbz.change("restaurants", "c", 100, after=dbz.restaurant(R1)), key, 0),
        dbz.record(dbz.change("restaurants", "c", 101, after=dbz.restaurant(R2)),
                   {"restaurant_id": R2}, 1),
        dbz.heartbeat(2),
        dbz.record(dbz.change("restaurants", "d", 102, before=dbz.restaurant(R1)), key, 3),
        dbz.record(None, key, 4),  # the Kafka tombstone Debezium writes after a delete
    ]  # fmt: skip
    assert handle(msk_event(records), sink) == {"batchItemFailures": []}
    assert sorted(k[0] for k in scan(dynamodb, table)) == [
        f"RESTAURANT#{R2}",
        f"_deleted#RESTAURANT#{R1}",
    ]
    visible = {k for k in scan(dynamodb, table) if not k[0].startswith("_deleted#")}
    assert visible == {(f"RESTAURANT#{R2}", "PROFILE")}


def test_poison_record_fails_the_batch_after_the_good_ones(
    sink: ReadModelSink, dynamodb: Any, table: str
) -> None:
    bad = dbz.change("restaurants", "c", 201, after=dbz.restaurant(R2, city=None))
    records = [
        dbz.record(dbz.change("restaurants", "c", 200, after=dbz.restaurant(R1)),
                   {"restaurant_id": R1}, 7),
        dbz.record(bad, {"restaurant_id": R2}, 8),
    ]  # fmt: skip
    with pytest.raises(PoisonRecords, match=r"bellyfed-local-bellyfed.cdc-0@8: .*city") as err:
        handle(msk_event(records), sink)
    assert [r["offset"] for r in err.value.records] == [8]
    assert (f"RESTAURANT#{R1}", "PROFILE") in scan(dynamodb, table)


def test_lambda_entry_point_reads_its_environment(
    monkeypatch: pytest.MonkeyPatch, spec: SinkSpec, dynamodb: Any, table: str
) -> None:
    monkeypatch.setenv("CDC_SINK_SPEC", spec.to_json())
    monkeypatch.setenv(spec.table_env, table)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.meta.endpoint_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    handler_mod._spec.cache_clear()
    handler_mod._sink.cache_clear()
    try:
        event = msk_event([dbz.record(dbz.change("menu_items", "c", 300,
                                                 after=dbz.menu_item("i-1", R1)),
                                      {"item_id": "i-1"}, 0)])  # fmt: skip
        assert handler_mod.handler(json.loads(json.dumps(event)), None) == {"batchItemFailures": []}
    finally:
        handler_mod._spec.cache_clear()
        handler_mod._sink.cache_clear()
    assert scan(dynamodb, table)[(f"RESTAURANT#{R1}", "MENU#i-1")]["price"] == "14.50"


def test_missing_spec_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDC_SINK_SPEC", raising=False)
    handler_mod._spec.cache_clear()
    with pytest.raises(RuntimeError, match="CDC_SINK_SPEC is not set"):
        handler_mod.handler(msk_event([]), None)
    handler_mod._spec.cache_clear()
