"""DynamoDB Streams contract: ListStreams paging, DescribeStream, iterators, records."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, error_of

pytestmark = pytest.mark.aws


def stream_table(make_table: MakeTable, view: str) -> str:
    return make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})


def records(ddb: Any, streams: Any, table: str, kind: str = "TRIM_HORIZON",
            **kw: Any) -> list[dict[str, Any]]:  # fmt: skip
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind, **kw
    )["ShardIterator"]
    out: list[dict[str, Any]] = []
    for _ in range(5):
        page = streams.get_records(ShardIterator=it)
        out += page["Records"]
        it = page.get("NextShardIterator")
        if not it or not page["Records"]:
            break
    return out


@pytest.mark.parametrize(
    ("view", "has_new", "has_old"),
    [
        ("KEYS_ONLY", False, False),
        ("NEW_IMAGE", True, False),
        ("OLD_IMAGE", False, True),
        ("NEW_AND_OLD_IMAGES", True, True),
    ],
)
def test_view_types_and_event_names(ddb: Any, streams: Any, make_table: MakeTable, view: str,
                                    has_new: bool, has_old: bool) -> None:  # fmt: skip
    table = stream_table(make_table, view)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})  # no change: no record
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    recs = records(ddb, streams, table)
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    modify = recs[1]["dynamodb"]
    assert modify["Keys"] == {"pk": {"S": "a"}}
    assert modify["StreamViewType"] == view
    assert ("NewImage" in modify) is has_new
    assert ("OldImage" in modify) is has_old
    if has_new:
        assert modify["NewImage"]["v"] == {"N": "2"}


def test_iterator_types(ddb: Any, streams: Any, make_table: MakeTable) -> None:
    table = stream_table(make_table, "KEYS_ONLY")
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": str(i)}})
    recs = records(ddb, streams, table)
    second = recs[1]["dynamodb"]["SequenceNumber"]
    at = records(ddb, streams, table, "AT_SEQUENCE_NUMBER", SequenceNumber=second)
    after = records(ddb, streams, table, "AFTER_SEQUENCE_NUMBER", SequenceNumber=second)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["1", "2"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["2"]
    assert records(ddb, streams, table, "LATEST") == []


def test_list_streams_pages_and_describe_stream(ddb: Any, streams: Any,
                                                make_table: MakeTable) -> None:  # fmt: skip
    tables = [stream_table(make_table, "KEYS_ONLY") for _ in range(2)]
    arns: list[str] = []
    start: dict[str, Any] = {}
    while True:
        page = streams.list_streams(Limit=1, **start)
        assert len(page["Streams"]) <= 1
        arns += [s["StreamArn"] for s in page["Streams"]]
        if "LastEvaluatedStreamArn" not in page:
            break
        start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
    for t in tables:
        arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
        assert arn in arns
        only = streams.list_streams(TableName=t)["Streams"]
        assert [s["StreamArn"] for s in only] == [arn]
        desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        assert desc["StreamStatus"] == "ENABLED"
        assert desc["TableName"] == t
        assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        shard_id = desc["Shards"][0]["ShardId"]
        after = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shard_id)
        assert all(s["ShardId"] != shard_id for s in after["StreamDescription"]["Shards"])
        children = streams.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard_id}
        )["StreamDescription"]["Shards"]
        assert all(c.get("ParentShardId") == shard_id for c in children)


def test_describe_unknown_stream(ddb: Any, streams: Any, make_table: MakeTable) -> None:
    table = stream_table(make_table, "KEYS_ONLY")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with pytest.raises(ClientError) as exc:
        streams.describe_stream(StreamArn=arn[:-3] + "999")
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_disabled_stream_stays_readable(ddb: Any, streams: Any, make_table: MakeTable) -> None:
    table = stream_table(make_table, "NEW_IMAGE")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] in ("DISABLED", "DISABLING")
    shard = desc["Shards"][0]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["eventName"] for r in streams.get_records(ShardIterator=it)["Records"]] == ["INSERT"]
