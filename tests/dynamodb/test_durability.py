"""Nothing acknowledged is lost: kill -9 of the engine under load from 4 writer threads,
then a restart over the same data dir."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.dynamodb.conftest import EngineProcess, free_port

pytestmark = pytest.mark.slow


def client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"max_attempts": 0}, connect_timeout=2,
                                      read_timeout=5))  # fmt: skip


def test_kill_9_keeps_every_acknowledged_write_and_its_stream_record(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "data", free_port())
    engine.start()
    ddb = client(engine.url)
    ddb.create_table(
        TableName="durable",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    acked: list[set[str]] = [set() for _ in range(4)]
    rejected: list[set[str]] = [set() for _ in range(4)]
    stop = threading.Event()

    def writer(n: int) -> None:
        c = client(engine.url)
        i = 0
        while not stop.is_set():
            i += 1
            pk = f"w{n}-{i}"
            try:
                if i % 5 == 0:  # a write DynamoDB must refuse: it may never appear
                    c.put_item(
                        TableName="durable",
                        Item={"pk": {"S": pk}},
                        ConditionExpression="attribute_exists(pk)",
                    )
                else:
                    c.put_item(TableName="durable", Item={"pk": {"S": pk}, "n": {"N": str(i)}})
                    acked[n].add(pk)
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
                rejected[n].add(pk)
            except BotoCoreError:
                return  # the engine is gone: this write's outcome is unknown

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    engine.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    all_acked = set().union(*acked)
    all_rejected = set().union(*rejected)
    assert len(all_acked) > 50, "the load did not run"

    engine.start()
    try:
        ddb = client(engine.url)
        present: set[str] = set()
        for page in ddb.get_paginator("scan").paginate(TableName="durable"):
            present |= {i["pk"]["S"] for i in page["Items"]}
        assert all_acked <= present, f"lost {len(all_acked - present)} acknowledged writes"
        assert not (all_rejected & present)
        streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=engine.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        arn = ddb.describe_table(TableName="durable")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        streamed: set[str] = set()
        while it:
            page = streams.get_records(ShardIterator=it)
            streamed |= {r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]}
            if not page["Records"]:
                break
            it = page.get("NextShardIterator")
        assert all_acked <= streamed
        assert streamed == present  # one record per stored item, none for refused writes
        assert ddb.describe_table(TableName="durable")["Table"]["ItemCount"] == len(present)
    finally:
        engine.stop()


def test_sigterm_exits_cleanly(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "data", free_port())
    engine.start()
    assert engine.stop() == 0
