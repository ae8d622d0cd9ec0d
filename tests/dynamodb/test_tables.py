"""Table operations contract: CreateTable/DescribeTable/ListTables/UpdateTable/DeleteTable,
TTL, continuous backups and tags."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, error_of, wait_active

pytestmark = pytest.mark.aws

GSI = {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "KEYS_ONLY"}}  # fmt: skip


def test_describe_table_full_metadata(ddb: Any, make_table: MakeTable) -> None:
    name = make_table(
        "pk",
        "sk",
        types={"g": "S", "l": "N"},
        GlobalSecondaryIndexes=[GSI],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        SSESpecification={"Enabled": True},
        Tags=[{"Key": "a", "Value": "b"}],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "1"}, "sk": {"S": "1"}, "g": {"S": "x"}})
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert t["TableArn"].endswith(f":table/{name}")
    assert len(t["TableId"]) == 36
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert t["LatestStreamArn"].endswith("/stream/" + t["LatestStreamLabel"])
    gsi = t["GlobalSecondaryIndexes"][0]
    assert gsi["IndexArn"] == t["TableArn"] + "/index/byG"
    assert gsi["IndexStatus"] == "ACTIVE"
    assert {"ItemCount", "IndexSizeBytes"} <= set(gsi)
    assert t["LocalSecondaryIndexes"][0]["IndexArn"] == t["TableArn"] + "/index/byL"
    assert t["SSEDescription"]["Status"] == "ENABLED"
    assert {"ItemCount", "TableSizeBytes", "CreationDateTime"} <= set(t)


def test_describe_missing_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.describe_table(TableName="ptest-missing-table")
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: ptest-missing-table not found",
    )


def test_create_existing_table(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    with pytest.raises(ClientError) as exc:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")  # fmt: skip
    assert error_of(exc)[0] == "ResourceInUseException"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "x", "AttributeType": "S"},
                ]
            },
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
            "AttributeDefinitions: [pk, x], keys used: [pk]",
        ),
        (
            {"AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}]},
            "One or more parameter values were invalid: Some index key attributes are not defined "
            "in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
        ),
        (
            {"BillingMode": "PROVISIONED"},
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
            "must both be specified when BillingMode is PROVISIONED",
        ),
        (
            {
                "LocalSecondaryIndexes": [
                    {
                        "IndexName": "lsi",
                        "KeySchema": [
                            {"AttributeName": "pk", "KeyType": "HASH"},
                            {"AttributeName": "pk2", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "pk2", "AttributeType": "S"},
                ],
            },
            "One or more parameter values were invalid: Table KeySchema does not have a range key, "
            "which is required when specifying a LocalSecondaryIndex",
        ),
        (
            {
                "GlobalSecondaryIndexes": [{**GSI, "Projection": {"ProjectionType": "INCLUDE"}}],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"},
                ],
            },
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
            "NonKeyAttributes is not specified",
        ),
    ],
)
def test_invalid_create_table(ddb: Any, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "TableName": f"ptest-{uuid.uuid4().hex[:10]}",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    args.update(kwargs)
    with pytest.raises(ClientError) as exc:
        ddb.create_table(**args)
    assert error_of(exc) == ("ValidationException", message)


def test_list_tables_pages(ddb: Any, make_table: MakeTable) -> None:
    names = sorted(make_table() for _ in range(3))
    seen: list[str] = []
    start: dict[str, Any] = {}
    while True:
        page = ddb.list_tables(Limit=1, **start)
        assert len(page["TableNames"]) <= 1
        seen += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        start = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}
    assert set(names) <= set(seen)
    assert seen == sorted(seen)


def test_update_table_adds_gsi_with_backfill_and_removes_it(
    ddb: Any, make_table: MakeTable
) -> None:
    name = make_table()
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": str(i)}, "g": {"S": "even" if i % 2 == 0
                                                                      else "odd"}})  # fmt: skip
    ddb.update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "g",
                                                            "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": GSI}])  # fmt: skip
    wait_active(ddb, name)
    got = ddb.query(TableName=name, IndexName="byG", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "even"}})  # fmt: skip
    assert sorted(i["pk"]["S"] for i in got["Items"]) == ["0", "2", "4"]
    ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byG"}}])
    wait_active(ddb, name)
    t = ddb.describe_table(TableName=name)["Table"]
    assert "GlobalSecondaryIndexes" not in t
    with pytest.raises(ClientError):
        ddb.query(TableName=name, IndexName="byG", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "even"}})  # fmt: skip


def test_update_table_stream_billing_and_deletion_protection(
    ddb: Any, make_table: MakeTable
) -> None:
    name = make_table()
    t = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    assert t["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    wait_active(ddb, name)
    with pytest.raises(ClientError) as exc:
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert error_of(exc)[0] == "ValidationException"
    ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    )
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    wait_active(ddb, name)
    with pytest.raises(ClientError) as exc:
        ddb.delete_table(TableName=name)
    assert error_of(exc)[0] == "ValidationException"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)


def test_ttl_api_state(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    desc = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert desc["AttributeName"] == "exp"
    assert desc["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    with pytest.raises(ClientError) as exc:
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
        )
    assert error_of(exc) == ("ValidationException", "TimeToLive is already enabled")


def test_continuous_backups(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    desc = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert desc["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    out = ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    with pytest.raises(ClientError) as exc:
        ddb.describe_continuous_backups(TableName="ptest-missing-table")
    assert error_of(exc)[0] == "TableNotFoundException"


def test_tags(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "x"}, {"Key": "env", "Value": "dev"}]
    )
    ddb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "x"}]


def test_delete_table(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    out = ddb.delete_table(TableName=name)["TableDescription"]
    assert out["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName=name)
    with pytest.raises(ClientError) as exc:
        ddb.delete_table(TableName=name)
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_create_table_with_stream_disabled(ddb: Any, make_table: MakeTable) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": False})
    t = ddb.describe_table(TableName=name)["Table"]
    assert "LatestStreamArn" not in t
    assert t.get("StreamSpecification", {"StreamEnabled": False})["StreamEnabled"] is False


def test_disabling_a_stream_that_is_not_there(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(exc) == (
        "ValidationException",
        f"Table has no stream to disable: TableName: {name}",
    )
