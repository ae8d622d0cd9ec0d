"""TTL inside the engine: expired items go, with a service REMOVE stream record."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.dynamodb.conftest import MakeTable

pytestmark = pytest.mark.slow


def test_expired_items_are_deleted_with_service_identity(
    ddb: Any, streams: Any, make_table: MakeTable
) -> None:
    table = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    now = int(time.time())
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "future"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "text"}, "exp": {"S": str(now - 10)}})
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "ancient"}, "exp": {"N": str(now - 6 * 365 * 86400)}}
    )
    deadline = time.monotonic() + 15
    while "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}}):
        assert time.monotonic() < deadline, "expired item not swept within 15 s"
        time.sleep(0.3)
    for kept in ("future", "text", "ancient"):
        assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": kept}})
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    recs = streams.get_records(ShardIterator=it)["Records"]
    removes = [r for r in recs if r["eventName"] == "REMOVE"]
    assert len(removes) == 1
    assert removes[0]["userIdentity"] == {
        "Type": "Service",
        "PrincipalId": "dynamodb.amazonaws.com",
    }
    assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "old"}
