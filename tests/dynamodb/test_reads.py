"""Query and Scan contract: key conditions, paging, Limit, 1 MB pages, Select, projections,
index projections, parallel scan segments, filters."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, error_of

pytestmark = pytest.mark.aws


@pytest.fixture
def table(ddb: Any, make_table: MakeTable) -> str:
    name = make_table("pk", "sk", types={"sk": "N", "g": "S", "l": "N"},
                      GlobalSecondaryIndexes=[
                          {"IndexName": "keysOnly", "KeySchema": [
                              {"AttributeName": "g", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                           "Projection": {"ProjectionType": "KEYS_ONLY"}},
                          {"IndexName": "include", "KeySchema": [
                              {"AttributeName": "g", "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "INCLUDE",
                                          "NonKeyAttributes": ["a"]}}],
                      LocalSecondaryIndexes=[{"IndexName": "byL", "KeySchema": [
                          {"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l", "KeyType": "RANGE"}],
                          "Projection": {"ProjectionType": "KEYS_ONLY"}}])  # fmt: skip
    for i in range(10):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                           "g": {"S": "even" if i % 2 == 0 else "odd"},
                                           "l": {"N": str(100 - i)}, "a": {"S": f"a{i}"},
                                           "b": {"S": f"b{i}"}})  # fmt: skip
    return name


def q(ddb: Any, table: str, expr: str, values: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return dict(ddb.query(TableName=table, KeyConditionExpression=expr,
                          ExpressionAttributeValues=values, **kw))  # fmt: skip


P = {":p": {"S": "p"}}


def sks(out: dict[str, Any]) -> list[int]:
    return [int(i["sk"]["N"]) for i in out["Items"]]


@pytest.mark.parametrize(
    ("cond", "values", "want"),
    [
        ("pk = :p AND sk > :v", {":v": {"N": "7"}}, [8, 9]),
        ("pk = :p AND sk <= :v", {":v": {"N": "1"}}, [0, 1]),
        ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "3"}, ":b": {"N": "5"}}, [3, 4, 5]),
        ("pk = :p AND sk = :v", {":v": {"N": "6"}}, [6]),
    ],
)
def test_key_conditions(ddb: Any, table: str, cond: str, values: dict[str, Any],
                        want: list[int]) -> None:  # fmt: skip
    assert sks(q(ddb, table, cond, {**P, **values})) == want


def test_descending_and_paging_with_limit(ddb: Any, table: str) -> None:
    got: list[int] = []
    start: dict[str, Any] = {}
    pages = 0
    while True:
        out = q(ddb, table, "pk = :p", P, Limit=4, ScanIndexForward=False, **start)
        got += sks(out)
        pages += 1
        if "LastEvaluatedKey" not in out:
            break
        assert set(out["LastEvaluatedKey"]) == {"pk", "sk"}
        start = {"ExclusiveStartKey": out["LastEvaluatedKey"]}
    assert got == list(range(9, -1, -1))
    assert pages == 3


def test_filter_counts_scanned_and_matched(ddb: Any, table: str) -> None:
    out = q(ddb, table, "pk = :p", {**P, ":x": {"S": "a3"}}, FilterExpression="a = :x")
    assert (out["Count"], out["ScannedCount"]) == (1, 10)


def test_filter_on_key_attribute_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        q(ddb, table, "pk = :p", {**P, ":x": {"N": "1"}}, FilterExpression="sk = :x")
    assert error_of(exc) == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
    )


def test_select_count(ddb: Any, table: str) -> None:
    out = q(ddb, table, "pk = :p", P, Select="COUNT")
    assert out["Count"] == 10
    assert "Items" not in out


def test_gsi_keys_only_projection(ddb: Any, table: str) -> None:
    out = ddb.query(TableName=table, IndexName="keysOnly", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "odd"}})  # fmt: skip
    assert sks(out) == [1, 3, 5, 7, 9]
    assert set(out["Items"][0]) == {"pk", "sk", "g"}


def test_gsi_include_projection(ddb: Any, table: str) -> None:
    out = ddb.query(TableName=table, IndexName="include", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "odd"}})  # fmt: skip
    assert all(set(i) == {"pk", "sk", "g", "a"} for i in out["Items"])


def test_gsi_select_all_attributes_refused_when_not_projected(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.query(
            TableName=table,
            IndexName="keysOnly",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "odd"}},
            Select="ALL_ATTRIBUTES",
        )
    assert error_of(exc)[0] == "ValidationException"


def test_gsi_consistent_read_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.query(
            TableName=table,
            IndexName="keysOnly",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "odd"}},
            ConsistentRead=True,
        )
    assert error_of(exc) == (
        "ValidationException",
        "Consistent reads are not supported on global secondary indexes",
    )


def test_lsi_query_orders_by_index_range_and_pages(ddb: Any, table: str) -> None:
    out = ddb.query(TableName=table, IndexName="byL", KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues=P, Limit=3)  # fmt: skip
    assert sks(out) == [9, 8, 7]
    assert set(out["LastEvaluatedKey"]) == {"pk", "sk", "l"}
    nxt = ddb.query(
        TableName=table,
        IndexName="byL",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=P,
        ExclusiveStartKey=out["LastEvaluatedKey"],
    )
    assert sks(nxt) == [6, 5, 4, 3, 2, 1, 0]


def test_projection_expression_on_query(ddb: Any, table: str) -> None:
    out = q(ddb, table, "pk = :p", P, ProjectionExpression="a")
    assert out["Items"][0] == {"a": {"S": "a0"}}


def test_query_missing_hash_condition(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        q(ddb, table, "sk = :v", {":v": {"N": "1"}})
    assert error_of(exc) == ("ValidationException", "Query condition missed key schema element: pk")


def test_query_key_type_mismatch(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        q(ddb, table, "pk = :p AND sk = :v", {**P, ":v": {"S": "1"}})
    assert error_of(exc) == (
        "ValidationException",
        "One or more parameter values were invalid: "
        "Condition parameter type does not match schema type",
    )


def test_bad_exclusive_start_key(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        q(ddb, table, "pk = :p", P, ExclusiveStartKey={"pk": {"S": "p"}})
    assert error_of(exc)[0] == "ValidationException"


def test_scan_segments_partition_the_table(ddb: Any, table: str) -> None:
    seen: list[int] = []
    for seg in range(3):
        out = ddb.scan(TableName=table, Segment=seg, TotalSegments=3)
        seen += sks(out)
    assert sorted(seen) == list(range(10))


def test_scan_segment_out_of_range(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.scan(TableName=table, Segment=3, TotalSegments=3)
    assert error_of(exc)[0] == "ValidationException"


def test_scan_pages_at_one_megabyte(ddb: Any, make_table: MakeTable) -> None:
    name = make_table()
    blob = "x" * 100_000
    for i in range(15):  # 1.5 MB
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i:02d}"}, "v": {"S": blob}})
    first = ddb.scan(TableName=name)
    assert 9 <= first["Count"] <= 11
    assert "LastEvaluatedKey" in first
    rest = ddb.scan(TableName=name, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert first["Count"] + rest["Count"] == 15


def test_scan_legacy_scan_filter(ddb: Any, table: str) -> None:
    out = ddb.scan(
        TableName=table,
        ScanFilter={"g": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]}},
    )
    assert sorted(sks(out)) == [1, 3, 5, 7, 9]


def test_query_legacy_key_conditions(ddb: Any, table: str) -> None:
    out = ddb.query(
        TableName=table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "8"}]},
        },
    )
    assert sks(out) == [8, 9]


def test_item_collection_metrics_on_lsi_table(ddb: Any, table: str) -> None:
    out = ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"N": "99"}},
                       ReturnItemCollectionMetrics="SIZE")  # fmt: skip
    metrics = out["ItemCollectionMetrics"]
    assert metrics["ItemCollectionKey"] == {"pk": {"S": "p"}}
    low, high = metrics["SizeEstimateRangeGB"]
    assert 0 <= low <= high


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ("pk = :p OR sk = :v", "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p AND sk <> :v", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "pk = :p AND attribute_exists(sk) AND :v = :v",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "pk = :p AND pk = :v",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "pk = :p AND sk > :v AND extra = :v",
            "The number of query conditions (3) exceeds the number of key attributes defined in "
            "the schema (2)",
        ),
    ],
)
def test_key_condition_operators(ddb: Any, table: str, cond: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        q(ddb, table, cond, {**P, ":v": {"N": "1"}})
    code, got = error_of(exc)
    assert code == "ValidationException"
    assert got in (message, "Invalid KeyConditionExpression: " + message)


def test_key_condition_value_on_the_left(ddb: Any, table: str) -> None:
    assert sks(q(ddb, table, ":p = pk AND :v < sk", {**P, ":v": {"N": "7"}})) == [8, 9]


@pytest.mark.parametrize(
    ("cond", "value", "message"),
    [
        (
            "pk = :p AND sk < :v",
            {"BOOL": True},
            "Invalid KeyConditionExpression: Incorrect "
            "operand type for operator or function; operator or function: <, operand type: BOOL",
        ),
        (
            "pk = :p AND :v >= sk",
            {"BOOL": True},
            "Invalid KeyConditionExpression: Incorrect "
            "operand type for operator or function; operator or function: >=, operand type: BOOL",
        ),
        (
            "pk = :p AND begins_with(sk, :v)",
            {"N": "1"},
            "Invalid KeyConditionExpression: "
            "Incorrect operand type for operator or function; operator or function: begins_with, "
            "operand type: N",
        ),
        (
            "pk = :p AND begins_with(sk, :v)",
            {"S": "a"},
            "One or more parameter values were "
            "invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND sk = :v",
            {"BOOL": True},
            "One or more parameter values were invalid: "
            "Condition parameter type does not match schema type",
        ),
    ],
)
def test_key_condition_operand_types(ddb: Any, table: str, cond: str, value: dict[str, Any],
                                     message: str) -> None:  # fmt: skip
    with pytest.raises(ClientError) as exc:
        q(ddb, table, cond, {**P, ":v": value})
    assert error_of(exc) == ("ValidationException", message)
