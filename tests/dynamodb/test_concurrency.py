"""1,000 concurrent conditional decrements of one balance never take it below zero."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import MakeTable, client_kwargs

pytestmark = pytest.mark.aws


def test_concurrent_conditional_decrements(endpoint: str | None, ddb: Any,
                                           make_table: MakeTable) -> None:  # fmt: skip
    table = make_table()
    start = 600
    ddb.put_item(TableName=table, Item={"pk": {"S": "acct"}, "balance": {"N": str(start)}})
    kwargs = client_kwargs(endpoint)
    kwargs["config"] = Config(max_pool_connections=32, retries={"max_attempts": 0})
    shared = boto3.client("dynamodb", **kwargs)

    def decrement(_: int) -> bool:
        try:
            shared.update_item(TableName=table, Key={"pk": {"S": "acct"}},
                               UpdateExpression="SET balance = balance - :one",
                               ConditionExpression="balance >= :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
            return True
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False

    with ThreadPoolExecutor(max_workers=32) as pool:
        accepted = sum(pool.map(decrement, range(1000)))
    final = int(ddb.get_item(TableName=table, Key={"pk": {"S": "acct"}},
                             ConsistentRead=True)["Item"]["balance"]["N"])  # fmt: skip
    assert accepted == start
    assert final == start - accepted == 0
