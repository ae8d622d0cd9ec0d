"""dbsetup's pieces without a server: connection parameters, IAM tokens, the plan."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from dbsetup.connection import Server
from dbsetup.errors import BadInput
from dbsetup.iam import token_maker
from dbsetup.plan import replication_setups, store_setups
from polystore.topology.model import Topology


def test_server_from_libpq_variables() -> None:
    s = Server.from_env({"PGHOST": "db", "PGPORT": "6432", "PGUSER": "admin",
                         "PGPASSWORD": "p w", "PGSSLMODE": "require"})  # fmt: skip
    assert (s.host, s.port, s.user, s.password, s.sslmode) == ("db", 6432, "admin", "p w",
                                                                "require")  # fmt: skip
    assert s.params("x") == {"host": "db", "port": 6432, "dbname": "x", "user": "admin",
                             "sslmode": "require", "password": "p w"}  # fmt: skip
    assert s.params("x", user="svc", password="tok")["password"] == "tok"
    assert s.url("x", "svc", "a/b:c") == "postgres://svc:a%2Fb%3Ac@db:6432/x?sslmode=require"
    with pytest.raises(BadInput, match="PGPORT='five'"):
        Server.from_env({"PGHOST": "db", "PGUSER": "u", "PGPORT": "five"})


def test_iam_token_is_a_presigned_connect_for_the_login() -> None:
    import boto3

    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="secret")  # fmt: skip
    token = token_maker("db.example", 5432, "eu-west-1", client)("tcgstore_inventory")
    parts = urlsplit(f"https://{token}")
    query = parse_qs(parts.query)
    assert parts.netloc == "db.example:5432"
    assert query["Action"] == ["connect"] and query["DBUser"] == ["tcgstore_inventory"]
    assert "X-Amz-Signature" in query


def test_plan_names_come_from_polystore_naming(topology: Topology) -> None:
    bellyfed = topology.system("bellyfed")
    [store] = store_setups(bellyfed, "again", only="bellyfed-db")
    assert (store.database, store.login) == ("bellyfed", "bellyfed_restaurant_api")
    assert store.extensions == ("pg_trgm",)
    links = replication_setups(bellyfed, "prod", source="bellyfed-db")
    assert links["bellyfed-cdc"].slot == "bellyfed_prod_bellyfed_cdc"
    assert links["bellyfed-cdc"].login == "bellyfed_bellyfed_cdc_replication"
    assert replication_setups(bellyfed, "prod", source="elsewhere") == {}
