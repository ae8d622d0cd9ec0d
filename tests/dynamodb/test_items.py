"""PutItem / GetItem / UpdateItem / DeleteItem contract, from the DynamoDB API Reference."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, error_of

pytestmark = pytest.mark.aws


@pytest.fixture
def table(make_table: MakeTable) -> str:
    return make_table("pk", "sk", types={"sk": "N"})


def key(pk: str = "a", sk: int = 1) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def test_put_get_round_trip_normalises_numbers(ddb: Any, table: str) -> None:
    item = {**key(), "n": {"N": "01.500"}, "e": {"N": "1E+2"}, "ns": {"NS": ["1", "2.0"]},
            "b": {"B": b"\x00\x01"}, "m": {"M": {"x": {"L": [{"NULL": True}, {"BOOL": False}]}}},
            "empty": {"S": ""}}  # fmt: skip
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key=key())["Item"]
    assert got["n"] == {"N": "1.5"}
    assert got["e"] == {"N": "100"}
    assert sorted(got["ns"]["NS"]) == ["1", "2"]
    assert got["b"] == {"B": b"\x00\x01"}
    assert got["m"] == item["m"]
    assert got["empty"] == {"S": ""}


def test_get_missing_item_has_no_item_key(ddb: Any, table: str) -> None:
    assert "Item" not in ddb.get_item(TableName=table, Key=key("nope"))


def test_get_with_projection_expression_and_nested_paths(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "a": {"M": {"b": {"S": "x"}, "c": {"S": "y"}}},
                                        "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]},
                                        "z": {"S": "z"}})  # fmt: skip
    got = ddb.get_item(TableName=table, Key=key(), ProjectionExpression="a.b, l[2], #z",
                       ExpressionAttributeNames={"#z": "z"})["Item"]  # fmt: skip
    assert got == {"a": {"M": {"b": {"S": "x"}}}, "l": {"L": [{"S": "2"}]}, "z": {"S": "z"}}


def test_put_condition_failure_returns_old_item_when_asked(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "v": {"N": "1"}})
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=key(), ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    assert error_of(exc) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert exc.value.response["Item"]["v"] == {"N": "1"}


def test_put_return_values_all_old(ddb: Any, table: str) -> None:
    assert "Attributes" not in ddb.put_item(TableName=table, Item=key(), ReturnValues="ALL_OLD")
    out = ddb.put_item(TableName=table, Item={**key(), "x": {"S": "1"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"] == key()


def test_put_rejects_update_return_values(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=key(), ReturnValues="ALL_NEW")
    assert error_of(exc) == ("ValidationException", "Return values set to invalid value")


def test_update_expression_set_remove_add_delete(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "n": {"N": "5"}, "s": {"SS": ["a", "b"]},
                                        "d": {"SS": ["a", "b"]}, "gone": {"S": "x"},
                                        "l": {"L": [{"N": "1"}]}})  # fmt: skip
    out = ddb.update_item(
        TableName=table, Key=key(),
        UpdateExpression="SET n = n - :one, l = list_append(l, :more), m = if_not_exists(m, :m) "
                         "REMOVE gone ADD c :one, s :c DELETE d :a",
        ExpressionAttributeValues={":one": {"N": "1"}, ":more": {"L": [{"N": "2"}]},
                                   ":m": {"M": {}}, ":c": {"SS": ["c"]}, ":a": {"SS": ["a"]}},
        ReturnValues="ALL_NEW",
    )["Attributes"]  # fmt: skip
    assert out["n"] == {"N": "4"}
    assert out["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert out["m"] == {"M": {}}
    assert out["c"] == {"N": "1"}
    assert sorted(out["s"]["SS"]) == ["a", "b", "c"]
    assert out["d"] == {"SS": ["b"]}
    assert "gone" not in out


def test_update_creates_item_and_updated_new_returns_only_changed(ddb: Any, table: str) -> None:
    out = ddb.update_item(TableName=table, Key=key("new"), UpdateExpression="SET a = :v",
                          ExpressionAttributeValues={":v": {"S": "x"}},
                          ReturnValues="UPDATED_NEW")  # fmt: skip
    assert out["Attributes"] == {"a": {"S": "x"}}
    assert ddb.get_item(TableName=table, Key=key("new"))["Item"] == {**key("new"), "a": {"S": "x"}}


def test_update_list_index_set_and_remove(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}})
    ddb.update_item(
        TableName=table,
        Key=key(),
        UpdateExpression="SET l[1] = :x, l[9] = :y REMOVE l[0]",
        ExpressionAttributeValues={":x": {"S": "B"}, ":y": {"S": "d"}},
    )
    got = ddb.get_item(TableName=table, Key=key())["Item"]["l"]["L"]
    assert got == [{"S": "B"}, {"S": "c"}, {"S": "d"}]


def test_update_nested_path_in_missing_map_is_invalid(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item=key())
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET a.b = :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})  # fmt: skip
    assert error_of(exc) == ("ValidationException", "The document path provided in the update "
                             "expression is invalid for update")  # fmt: skip


def test_update_key_attribute_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET pk = :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})  # fmt: skip
    assert error_of(exc) == (
        "ValidationException",
        "One or more parameter values were invalid: "
        "Cannot update attribute pk. This attribute is part of the key",
    )


def test_update_arithmetic_on_missing_attribute(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET a = b + :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})  # fmt: skip
    assert error_of(exc) == ("ValidationException", "The provided expression refers to an "
                             "attribute that does not exist in the item")  # fmt: skip


def test_update_overlapping_paths(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET a = :v, a.b = :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})  # fmt: skip
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith("Invalid UpdateExpression: Two document paths overlap")


def test_update_add_to_string_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table, Key=key(), UpdateExpression="ADD a :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})  # fmt: skip
    assert error_of(exc) == (
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand "
        "type for operator or function; operator: ADD, operand type: STRING",
    )


def test_delete_with_condition_and_all_old(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "v": {"N": "2"}})
    with pytest.raises(ClientError):
        ddb.delete_item(TableName=table, Key=key(), ConditionExpression="v = :one",
                        ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
    out = ddb.delete_item(
        TableName=table,
        Key=key(),
        ConditionExpression="v = :two",
        ExpressionAttributeValues={":two": {"N": "2.0"}},
        ReturnValues="ALL_OLD",
    )
    assert out["Attributes"]["v"] == {"N": "2"}
    assert "Item" not in ddb.get_item(TableName=table, Key=key())


@pytest.mark.parametrize(
    ("expr", "outcome"),
    [
        ("nothere = :v", False),
        ("nothere <> :v", True),
        ("NOT nothere = :v", True),
        ("s < :v", False),  # string vs number: not comparable
        ("n BETWEEN :lo AND :hi", True),
        ("n IN (:v, :lo)", True),
        ("begins_with(s, :p)", True),
        ("contains(ss, :p)", False),
        ("contains(l, :v)", True),
        ("size(s) = :three", True),
        ("attribute_type(n, :t)", True),
        ("attribute_exists(m.deep) AND NOT attribute_exists(m.elsewhere)", True),
    ],
)
def test_condition_semantics(ddb: Any, table: str, expr: str, outcome: bool) -> None:
    ddb.put_item(TableName=table, Item={**key(), "s": {"S": "abc"}, "n": {"N": "5"},
                                        "ss": {"SS": ["abx"]}, "l": {"L": [{"N": "1"}]},
                                        "m": {"M": {"deep": {"NULL": True}}}})  # fmt: skip
    values = {":v": {"N": "1"}, ":lo": {"N": "5"}, ":hi": {"N": "6"}, ":p": {"S": "ab"},
              ":three": {"N": "3"}, ":t": {"S": "N"}}  # fmt: skip
    used = {k: v for k, v in values.items() if re.search(re.escape(k) + r"\b", expr)}
    kwargs: dict[str, Any] = {"ExpressionAttributeValues": used} if used else {}
    try:
        ddb.put_item(TableName=table, Item={**key(), "s": {"S": "abc"}, "n": {"N": "5"},
                                            "ss": {"SS": ["abx"]}, "l": {"L": [{"N": "1"}]},
                                            "m": {"M": {"deep": {"NULL": True}}}},
                     ConditionExpression=expr, **kwargs)  # fmt: skip
        passed = True
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
        passed = False
    assert passed is outcome


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "ConditionExpression": "a = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}, ":w": {"S": "y"}},
            },
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            {
                "ConditionExpression": "a = :v",
                "ExpressionAttributeNames": {"#n": "x"},
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
        ),
        (
            {"ConditionExpression": "#n = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "Invalid ConditionExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #n",
        ),
        (
            {"ConditionExpression": "a = :v"},
            "Invalid ConditionExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :v",
        ),
        (
            {"ConditionExpression": "status = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
            "status",
        ),
        (
            {"ConditionExpression": "a = :v", "ExpressionAttributeValues": {}},
            "ExpressionAttributeValues must not be empty",
        ),
        (
            {
                "ConditionExpression": "attribute_type(a, :t)",
                "ExpressionAttributeValues": {":t": {"S": "X"}},
            },
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: "
            "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            {
                "ConditionExpression": "a BETWEEN :hi AND :lo",
                "ExpressionAttributeValues": {":hi": {"N": "5"}, ":lo": {"N": "1"}},
            },
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
            "operand: AttributeValue: {N:1}",
        ),
        (
            {
                "ConditionExpression": "attribute_not_exists(pk)",
                "Expected": {"pk": {"Exists": False}},
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
    ],
)
def test_expression_validation_messages(
    ddb: Any, table: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=key(), **kwargs)
    assert error_of(exc) == ("ValidationException", message)


def test_syntax_error_names_the_token(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=key(), ConditionExpression="a = = :v",
                     ExpressionAttributeValues={":v": {"S": "x"}})  # fmt: skip
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith('Invalid ConditionExpression: Syntax error; token: "="')


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"pk": {"S": "a"}},
            "One or more parameter values were invalid: Missing the key sk in the item",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "One or more parameter values were invalid: Type "
            "mismatch for key sk expected: N actual: S",
        ),
        (
            {"pk": {"S": ""}, "sk": {"N": "1"}},
            "One or more parameter values are not valid. The "
            "AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": []}},
            "1 validation error detected: "
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "1" * 39}},
            "1 validation error detected: "
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "1e126"}},
            "1 validation error detected: "
            "Number overflow. Attempting "
            "to store a number with magnitude larger than supported range",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "abc"}},
            "1 validation error detected: "
            "The parameter cannot be converted to a numeric value: abc",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": ["b", "a", "b"]}},
            "1 validation error detected: One or more parameter values were invalid: "
            'Input collection ["a", "b", "b"] contains duplicates.',
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"BS": [b"\xff", b"\x00", b"\x00"]}},
            "1 validation error detected: One or more parameter values were invalid: Input "
            'collection ["AA==","/w==","AA=="]of type BS contains duplicates.',
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"BS": []}},
            "1 validation error detected: "
            "One or more parameter values were invalid: Binary sets should not be empty",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"N": "1"}, "big": {"S": "x" * 400 * 1024}},
            "Item size has exceeded the maximum allowed size",
        ),
        (
            {"pk": {"S": "x" * 2049}, "sk": {"N": "1"}},
            "One or more parameter values were invalid:"
            " Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ),
    ],
)
def test_item_validation_messages(ddb: Any, table: str, item: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=item)
    assert error_of(exc) == ("ValidationException", message)


@pytest.mark.parametrize(
    "bad_key",
    [
        {"pk": {"S": "a"}},
        {"pk": {"S": "a"}, "sk": {"S": "1"}},
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "extra": {"S": "x"}},
    ],
)
def test_get_with_malformed_key(ddb: Any, table: str, bad_key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.get_item(TableName=table, Key=bad_key)
    assert error_of(exc) == ("ValidationException",
                             "The provided key element does not match the schema")  # fmt: skip


def test_operations_on_missing_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.get_item(TableName="ptest-does-not-exist", Key={"pk": {"S": "a"}})
    assert error_of(exc) == ("ResourceNotFoundException", "Requested resource not found")


def test_legacy_parameters(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "v": {"N": "1"}},
                 Expected={"pk": {"Exists": False}})  # fmt: skip
    ddb.update_item(TableName=table, Key=key(),
                    AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}},
                                      "w": {"Action": "PUT", "Value": {"S": "x"}}},
                    Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList":
                                    [{"N": "1"}]}})  # fmt: skip
    got = ddb.get_item(TableName=table, Key=key(), AttributesToGet=["v", "w"])["Item"]
    assert got == {"v": {"N": "3"}, "w": {"S": "x"}}


def test_resource_api_round_trip(resource: Any, table: str) -> None:
    from decimal import Decimal

    t = resource.Table(table)
    t.put_item(Item={"pk": "r", "sk": 1, "price": Decimal("9.99"), "tags": {"a", "b"}})
    got = t.get_item(Key={"pk": "r", "sk": 1})["Item"]
    assert got == {"pk": "r", "sk": Decimal(1), "price": Decimal("9.99"), "tags": {"a", "b"}}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"a": value}}
    return value


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"Item": {**key(), "deep": nested(32)}},
            "Nesting Levels have exceeded supported limits: "
            "Attributes in the item have nested levels beyond supported limit",
        ),
        (
            {
                "Item": key(),
                "ConditionExpression": "a = :v OR " * 410 + "a = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
            "expression size: 4106",
        ),
        (
            {"Item": {**key(), "ns": {"NS": ["1", "1.0"]}}},
            "1 validation error detected: One or more parameter values were invalid: Input "
            "collection contains duplicates.",
        ),
        (
            {
                "Item": key(),
                "ConditionExpression": "a IN (" + ", ".join([":v"] * 101) + ")",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "Invalid ConditionExpression: The IN operator is provided with too many operands; "
            "number of operands: 101",
        ),
        (
            {"Item": key(), "Expected": {"a": {"Exists": True}}},
            "One or more parameter values were invalid: Exists is set to TRUE for attribute (a), "
            "Value must also be set",
        ),
    ],
)
def test_limits_and_legacy_validation(
    ddb: Any, table: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, **kwargs)
    assert error_of(exc) == ("ValidationException", message)


def test_projection_overlap_and_attributes_to_get_mixing(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.get_item(TableName=table, Key=key(), ProjectionExpression="a, a.b")
    assert error_of(exc)[1].startswith("Invalid ProjectionExpression: Two document paths overlap")
    with pytest.raises(ClientError) as exc:
        ddb.get_item(TableName=table, Key=key(), ProjectionExpression="a", AttributesToGet=["a"])
    assert error_of(exc) == (
        "ValidationException",
        "Can not use both expression and "
        "non-expression parameters in the same request: Non-expression "
        "parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}",
    )


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "((attribute_not_exists(pk)))",
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
        (
            "contains(#a, #a)",
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: contains, first operand: [data]",
        ),
    ],
)
def test_condition_shape_errors(ddb: Any, table: str, expr: str, message: str) -> None:
    names = {"ExpressionAttributeNames": {"#a": "data"}} if "#a" in expr else {}
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table, Item=key(), ConditionExpression=expr, **names)
    assert error_of(exc) == ("ValidationException", message)


def test_nesting_up_to_32_levels_is_stored(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**key(), "deep": nested(31)})
    got = ddb.get_item(TableName=table, Key=key())["Item"]["deep"]
    depth = 0
    while "M" in got:
        got, depth = got["M"]["a"], depth + 1
    assert depth == 31
