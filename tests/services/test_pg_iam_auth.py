"""In AWS a service logs in to its database as its own login with an IAM token made per
new connection (no ``PGPASSWORD`` in the task); locally with the password, unchanged."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from polystore.topology.model import Topology
from services.clients import Clients
from services.config import ServiceConfig

AWS_ENV = {"PGHOST": "db.example", "PGPORT": "5432", "PGDATABASE": "bellyfed",
           "PGUSER": "bellyfed_restaurant_api", "PGSSLMODE": "require",
           "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "secret"}  # fmt: skip


def clients(topology: Topology, env: dict[str, str]) -> Clients:
    return Clients(ServiceConfig(topology.system("bellyfed"), "restaurant-api", env))


def test_without_a_password_each_connection_gets_a_fresh_iam_token(
    topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def fake_connect(cls: type, conninfo: str = "", **kwargs: Any) -> str:
        seen.append({"conninfo": conninfo, **kwargs})
        return "connection"

    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(fake_connect))
    cls = clients(topology, AWS_ENV)._pg_connection_class()
    assert cls is not psycopg.Connection
    cls.connect("host=db.example", autocommit=True)
    cls.connect("host=db.example", autocommit=True)
    assert [s["autocommit"] for s in seen] == [True, True]
    for s in seen:
        query = parse_qs(urlsplit("https://" + s["password"]).query)
        assert query["DBUser"] == ["bellyfed_restaurant_api"] and query["Action"] == ["connect"]


def test_with_a_password_the_plain_connection_is_used(topology: Topology) -> None:
    local = {**AWS_ENV, "PGPASSWORD": "from-state", "PGSSLMODE": "disable"}
    assert clients(topology, local)._pg_connection_class() is psycopg.Connection
    no_region = {k: v for k, v in AWS_ENV.items() if k != "AWS_REGION"}
    assert clients(topology, no_region)._pg_connection_class() is psycopg.Connection
