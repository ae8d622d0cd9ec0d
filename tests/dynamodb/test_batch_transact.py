"""BatchGetItem / BatchWriteItem / TransactWriteItems / TransactGetItems contract."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, error_of

pytestmark = pytest.mark.aws


@pytest.fixture
def table(make_table: MakeTable) -> str:
    return make_table()


def put(table: str, pk: str, **attrs: Any) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"pk": {"S": pk}, **attrs}}}


def test_batch_write_and_get(ddb: Any, table: str) -> None:
    ddb.batch_write_item(RequestItems={table: [put(table, str(i)) for i in range(25)]})
    out = ddb.batch_get_item(
        RequestItems={
            table: {
                "Keys": [{"pk": {"S": str(i)}} for i in range(0, 30, 3)],
                "ProjectionExpression": "pk",
            }
        }
    )
    assert sorted(i["pk"]["S"] for i in out["Responses"][table]) == sorted(
        str(i) for i in range(0, 25, 3)
    )
    assert out["UnprocessedKeys"] == {}
    ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": {"pk": {"S": "0"}}}}]})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "0"}})


def test_batch_write_more_than_25_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.batch_write_item(RequestItems={table: [put(table, str(i)) for i in range(26)]})
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 25" in message


def test_batch_write_duplicate_keys_writes_nothing(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.batch_write_item(
            RequestItems={table: [put(table, "new"), put(table, "dup"), put(table, "dup")]}
        )
    assert error_of(exc) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "new"}})


def test_batch_write_one_bad_item_writes_nothing(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError):
        ddb.batch_write_item(RequestItems={table: [put(table, "fine"), put(table, "")]})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "fine"}})


def test_batch_get_duplicate_keys(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}})
    assert error_of(exc) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )


def test_transaction_is_atomic_with_cancellation_reasons(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "exists"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "exists"}},
                        "UpdateExpression": "SET v = :two",
                        "ConditionExpression": "v = :zero",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])  # fmt: skip
    code, message = error_of(exc)
    assert code == "TransactionCanceledException"
    assert message.endswith("[None, ConditionalCheckFailed]")
    reasons = exc.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"]["v"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "t1"}})


def test_transaction_same_item_twice_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "x"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "x"}}}},
        ])  # fmt: skip
    assert error_of(exc) == (
        "ValidationException",
        "Transaction request cannot include multiple operations on one item",
    )


def test_client_request_token_is_idempotent(ddb: Any, table: str) -> None:
    token = uuid.uuid4().hex
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": "c"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "c"}})["Item"]
    assert got["n"] == {"N": "1"}
    other = [{"Put": {"TableName": table, "Item": {"pk": {"S": "other"}}}}]
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=other, ClientRequestToken=token)
    assert error_of(exc)[0] == "IdempotentParameterMismatchException"


def test_transact_get(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "g"}, "v": {"S": "x"}})
    out = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": "g"}}}},
        {"Get": {"TableName": table, "Key": {"pk": {"S": "none"}}}},
    ])  # fmt: skip
    assert out["Responses"][0]["Item"]["v"] == {"S": "x"}
    assert out["Responses"][1] == {}


def test_transaction_of_more_than_100_actions_is_refused(ddb: Any, table: str) -> None:
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": str(i)}}}} for i in range(101)]
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=items)
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 100" in message


def test_batch_get_beyond_16_mb_hands_back_unprocessed_keys(ddb: Any, table: str) -> None:
    blob = "x" * 380_000
    keys = [{"pk": {"S": f"big{i}"}} for i in range(50)]  # 19 MB
    for i in range(0, 50, 5):
        ddb.batch_write_item(RequestItems={table: [put(table, f"big{j}", v={"S": blob})
                                                   for j in range(i, i + 5)]})  # fmt: skip
    got: list[str] = []
    request: dict[str, Any] = {table: {"Keys": keys}}
    rounds = 0
    while request:
        out = ddb.batch_get_item(RequestItems=request)
        got += [i["pk"]["S"] for i in out["Responses"].get(table, [])]
        request = out["UnprocessedKeys"]
        rounds += 1
    assert sorted(got) == sorted(k["pk"]["S"] for k in keys)
    assert rounds >= 2


@pytest.mark.parametrize(
    ("request_list", "message"),
    [
        (
            [{"PutRequest": {"Item": {"pk": {"N": "5"}}}}],
            "The provided key element does not match the schema",
        ),
        (
            [{"PutRequest": {"Item": {"other": {"S": "x"}}}}],
            "The provided key element does not match the schema",
        ),
        (
            [{"DeleteRequest": {"Key": {"pk": {"S": ""}}}}],
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: pk",
        ),
    ],
)
def test_batch_write_key_messages(ddb: Any, table: str, request_list: list[Any],
                                  message: str) -> None:  # fmt: skip
    with pytest.raises(ClientError) as exc:
        ddb.batch_write_item(RequestItems={table: request_list})
    assert error_of(exc) == ("ValidationException", message)


def test_batch_write_to_missing_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.batch_write_item(RequestItems={"ptest-absent-table": [put("x", "a")]})
    assert error_of(exc) == ("ResourceNotFoundException", "Requested resource not found")


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (
            {"Put": {"Item": {"pk": {"N": "5"}}}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S "
            "actual: N",
        ),
        (
            {"Delete": {"Key": {"pk": {"N": "5"}}}},
            "The provided key element does not match the schema",
        ),
        (
            {
                "ConditionCheck": {
                    "Key": {"pk": {"L": [{"S": "x"}]}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            "The provided key element does not match the schema",
        ),
    ],
)
def test_transaction_wrong_key_type_cancels(ddb: Any, table: str, action: dict[str, Any],
                                            reason: str) -> None:  # fmt: skip
    ((kind, spec),) = action.items()
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=[{kind: {"TableName": table, **spec}}])
    code, message = error_of(exc)
    assert code == "TransactionCanceledException"
    assert message.endswith("[ValidationError]")
    assert exc.value.response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": reason}
    ]


def test_transaction_empty_key_is_refused_up_front(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(
            TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"S": ""}}}}]
        )
    assert error_of(exc) == (
        "ValidationException",
        "One or more parameter values are not "
        "valid. The AttributeValue for a key attribute cannot contain an "
        "empty string value. Key: pk",
    )


def test_consumed_capacity_of_batches_and_transactions(ddb: Any, table: str) -> None:
    out = ddb.batch_write_item(RequestItems={table: [put(table, "cc1"), put(table, "cc2")]},
                               ReturnConsumedCapacity="TOTAL")  # fmt: skip
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    out = ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "cc1"}}]}},
                             ReturnConsumedCapacity="TOTAL")  # fmt: skip
    assert out["ConsumedCapacity"][0]["TableName"] == table
    assert out["ConsumedCapacity"][0]["CapacityUnits"] > 0
    out = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "cc3"}}}}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    out = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "cc3"}}}}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
