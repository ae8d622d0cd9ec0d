"""PynamoDB, as a service written with it would use the engine: models, a GSI, conditional
updates, batch writes, transactions, unchanged from what it sends to AWS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

pytestmark = pytest.mark.aws


def make_models(endpoint: str | None, name: str) -> tuple[type[Model], type[GlobalSecondaryIndex]]:
    class ByEmail(GlobalSecondaryIndex["Account"]):
        class Meta:
            index_name = "byEmail"
            projection = AllProjection()

        email = UnicodeAttribute(hash_key=True)

    class Account(Model):
        class Meta:
            table_name = name
            host = endpoint
            region = "us-east-1"
            aws_access_key_id = "local" if endpoint else None
            aws_secret_access_key = "local" if endpoint else None
            billing_mode = "PAY_PER_REQUEST"

        user = UnicodeAttribute(hash_key=True)
        kind = UnicodeAttribute(range_key=True)
        email = UnicodeAttribute(null=True)
        balance = NumberAttribute(default=0)
        tags = UnicodeSetAttribute(null=True)
        by_email = ByEmail()

    return Account, ByEmail


@pytest.fixture
def account(endpoint: str | None) -> Iterator[type[Model]]:
    model, _ = make_models(endpoint, f"ptest-pynamo-{uuid.uuid4().hex[:8]}")
    model.create_table(wait=True)
    try:
        yield model
    finally:
        model.delete_table()


def test_model_round_trip_query_and_index(account: type[Model]) -> None:
    account(user="u1", kind="USER", email="a@example.com", balance=10, tags={"x"}).save()
    account(user="u1", kind="TRANS#1", balance=-3).save()
    got = account.get("u1", "USER")
    assert (got.email, got.balance, got.tags) == ("a@example.com", 10, {"x"})
    assert [a.kind for a in account.query("u1", account.kind.startswith("TRANS#"))] == ["TRANS#1"]
    assert [a.user for a in account.by_email.query("a@example.com")] == ["u1"]
    assert account.count("u1") == 2


def test_conditions_and_updates(account: type[Model]) -> None:
    a = account(user="u2", kind="BALANCE", balance=5)
    a.save(condition=account.user.does_not_exist())
    with pytest.raises(PutError):
        account(user="u2", kind="BALANCE").save(condition=account.user.does_not_exist())
    a.update(actions=[account.balance.add(-5)], condition=account.balance >= 5)
    assert account.get("u2", "BALANCE").balance == 0
    with pytest.raises(UpdateError):
        a.update(actions=[account.balance.add(-1)], condition=account.balance >= 1)


def test_batch_write_and_transaction(account: type[Model]) -> None:
    with account.batch_write() as batch:
        for i in range(30):
            batch.save(account(user="u3", kind=f"ASSET#{i:02d}", balance=i))
    assert account.count("u3") == 30
    meta = account.Meta
    connection = Connection(host=meta.host, region="us-east-1",
                            aws_access_key_id=meta.aws_access_key_id,
                            aws_secret_access_key=meta.aws_secret_access_key)  # fmt: skip
    with pytest.raises(TransactWriteError), TransactWrite(connection=connection) as tx:
        tx.update(account(user="u3", kind="ASSET#01"), actions=[account.balance.add(-5)],
                  condition=account.balance >= 5)  # fmt: skip
        tx.save(account(user="u3", kind="NEW"))
    assert account.get("u3", "ASSET#01").balance == 1
    assert account.count("u3") == 30
