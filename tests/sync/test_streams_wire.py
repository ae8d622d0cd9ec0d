"""The poller's unparsed GetRecords and its batches, against the project's DynamoDB engine.

- A wire record with ``eventSourceARN`` added is the very record boto3's parsed output
  becomes through ``stream_records.lambda_record`` (the Lambda event shape), binary and
  sets included; errors carry the codes boto3 reports.
- Batches: several GetRecords pages make one event of up to ``batch_size`` records, the
  rest waits for the next one; every record reaches the handler once, in order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from polystore.topology.model import System
from sync import endpoints, poller, stream_records, streams_wire
from sync.stream_to_search import handler
from sync.stream_to_search.search_http import SearchHttp
from tests.dynamodb.conftest import EngineProcess, free_port
from tests.sync.live import card_item

pytestmark = pytest.mark.slow
KEYS = {"aws_access_key_id": "local", "aws_secret_access_key": "local",
        "region_name": "us-east-1"}  # fmt: skip


@pytest.fixture(scope="module")
def dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = EngineProcess(tmp_path_factory.mktemp("ddb") / "data", free_port())
    proc.start()
    try:
        yield proc.url
    finally:
        proc.stop()


def _table(url: str, name: str) -> tuple[Any, str]:
    ddb = boto3.client("dynamodb", endpoint_url=url, **KEYS)
    desc = ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )  # fmt: skip
    return ddb, desc["TableDescription"]["LatestStreamArn"]


def test_wire_records_are_the_lambda_records_boto3_output_becomes(dynamodb: str) -> None:
    ddb, arn = _table(dynamodb, "wire-shape")
    ddb.put_item(TableName="wire-shape", Item={
        "Id": {"S": "a"}, "blob": {"B": b"\x00\xffbin"}, "tags": {"SS": ["x", "y"]},
        "nums": {"NS": ["1", "2.5"]}, "bins": {"BS": [b"\x01", b"\x02"]}, "n": {"N": "-3"},
        "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}]}}}})  # fmt: skip
    ddb.put_item(TableName="wire-shape", Item={"Id": {"S": "a"}, "n": {"N": "4"}})
    ddb.delete_item(TableName="wire-shape", Key={"Id": {"S": "a"}})
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb, **KEYS)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def iterator() -> str:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")  # fmt: skip
        return str(it["ShardIterator"])

    parsed = streams.get_records(ShardIterator=iterator(), Limit=100)["Records"]
    expected = [stream_records.lambda_record(r, arn, "us-east-1") for r in parsed]
    wire = streams_wire.StreamsWire(streams)
    try:
        raw = wire.get_records(iterator(), 100)["Records"]
        got = [streams_wire.lambda_record(r, arn, "us-east-1") for r in raw]
        assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
        assert got == expected
        with pytest.raises(ClientError) as ours:
            wire.get_records("not-an-iterator", 10)
        with pytest.raises(ClientError) as theirs:
            streams.get_records(ShardIterator="not-an-iterator", Limit=10)
        assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"]
    finally:
        wire.close()


def test_split_caps_records_and_event_size() -> None:
    small = [{"dynamodb": {"SizeBytes": 100}} for _ in range(30)]
    assert [len(x) for x in poller._split(small, 25)] == [25, 5]
    big = [{"dynamodb": {"SizeBytes": 1_000_000}} for _ in range(5)]  # ~2 MB each as JSON
    batch, rest = poller._split(big, 1000)
    assert len(batch) == 3 and len(rest) == 2
    huge = [{"dynamodb": {"SizeBytes": 10_000_000}}]  # one record always goes out alone
    assert [len(x) for x in poller._split(huge, 10)] == [1, 0]


def test_batches_span_pages_and_every_record_arrives_once_in_order(
    dynamodb: str, search_url: str, card_index: str, tcgstore: System, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    table = "batch-pages"
    ddb, _ = _table(dynamodb, table)
    n = 2600  # three GetRecords pages of at most 1,000
    for b in range(0, n, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": card_item(f"b{i}", f"B {i}", i)}}
            for i in range(b, min(b + 25, n))]})  # fmt: skip
    events: list[list[str]] = []
    real = handler.handler

    def spy(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        events.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        return real(event, context)

    monkeypatch.setattr(handler, "handler", spy)
    ends = endpoints.LinkEnds(dynamodb, search_url, "us-east-1", table, card_index)
    p = poller.Poller(tcgstore, "cards-to-search", tmp_path, ends, batch_size=2500)
    try:
        deadline = time.monotonic() + 60
        while sum(map(len, events)) < n and time.monotonic() < deadline:
            p.poll_once()
    finally:
        p._reader.shutdown(wait=True, cancel_futures=True)
        p.wire.close()
    assert [len(e) for e in events] == [2500, 100]
    seqs = [s for e in events for s in e]
    assert seqs == sorted(seqs, key=int) and len(set(seqs)) == n
    (checkpoint, _), *_ = p.state.checkpoints().values()
    assert checkpoint == seqs[-1]
    http = SearchHttp(search_url)
    try:
        http.request("POST", f"/{card_index}/_refresh", b"{}")
        count = json.loads(http.request("GET", f"/{card_index}/_count").body)["count"]
    finally:
        http.close()
    assert count == n
