"""down / up / reset: nothing left running, data kept across down + up (DynamoDB too)."""

from __future__ import annotations

from typing import Any

import boto3
import psycopg
import pytest
from opensearchpy import OpenSearch

from emulation import procs, report
from emulation.engines import ENGINE_NAMES
from emulation.ports import listening
from emulation.stack import LocalStack, UpResult
from polystore.naming import store_env_var
from polystore.topology.model import Topology

pytestmark = pytest.mark.slow
SYSTEMS = ["tcgstore"]  # one system with every engine kind keeps this module quick

Stack = tuple[LocalStack, UpResult]


def _stores(topology: Topology) -> dict[str, Any]:
    system = topology.system("tcgstore")
    pg_name, pg = next(iter(system.postgres_stores().items()))
    dy_name, dy = next(iter(system.dynamodb_stores().items()))
    se_name, se = next(iter(system.search_stores().items()))
    return {"system": system, "pg": (pg_name, pg), "dy": (dy_name, dy), "se": (se_name, se)}


def test_down_leaves_nothing_and_up_brings_every_kind_of_data_back(
    up_stack: Stack, topology: Topology
) -> None:
    stack, result = up_stack
    s = _stores(topology)
    system = s["system"]
    pg_env = report.env(stack.dir, system, s["pg"][1].owner)
    dy_env = report.env(stack.dir, system, s["dy"][1].owner)
    se_env = report.env(stack.dir, system, s["se"][1].owner)
    table = dy_env[store_env_var(s["dy"][0], s["dy"][1])]  # type: ignore[index]
    index = se_env[store_env_var(s["se"][0], s["se"][1])]  # type: ignore[index]
    pg_args = {"host": pg_env["PGHOST"], "port": pg_env["PGPORT"], "user": pg_env["PGUSER"],
               "password": pg_env["PGPASSWORD"], "dbname": pg_env["PGDATABASE"],
               "autocommit": True}  # fmt: skip

    def dynamo() -> Any:
        return boto3.client("dynamodb", endpoint_url=dy_env["AWS_ENDPOINT_URL_DYNAMODB"],
                            region_name=dy_env["AWS_REGION"], aws_access_key_id="x",
                            aws_secret_access_key="x")  # fmt: skip

    key = {s["dy"][1].key.hash: {"S": "survives-down-up"}}
    with psycopg.connect(**pg_args) as conn:
        conn.execute("CREATE TABLE lifecycle_probe (v text)")
        conn.execute("INSERT INTO lifecycle_probe VALUES ('kept')")
    dynamo().put_item(TableName=table, Item={**key, "note": {"S": "kept"}})
    search = OpenSearch(hosts=[se_env["OPENSEARCH_URL"]])
    search.index(index=index, id="kept", body={"id": "kept"}, refresh=True)

    tracked = {e: procs.read_tracked(stack.dir.pids, e) for e in result.engines}
    ports = dict(stack.dir.load().ports)
    stack.down()
    for engine, t in tracked.items():
        assert t is not None and not t.is_alive(), f"{engine} still running after down"
        assert not listening(ports[engine]), f"port {ports[engine]} ({engine}) still open"
    assert not list(stack.dir.pids.glob("*.json"))
    stopped = report.status(stack.dir, topology.select(["tcgstore"]))
    assert {e["state"] for e in stopped["engines"].values()} == {"stopped"}
    assert set(stopped["engines"]) == set(result.engines) and stopped["problems"] == 0

    again = stack.up(topology.select(["tcgstore"]), runtime="embedded")
    assert sorted(again.started) == sorted(result.engines)
    assert stack.dir.load().ports == ports  # kept, so configured clients keep working
    with psycopg.connect(**pg_args) as conn:
        assert conn.execute("SELECT v FROM lifecycle_probe").fetchall() == [("kept",)]
    assert dynamo().get_item(TableName=table, Key=key)["Item"]["note"] == {"S": "kept"}
    assert search.get(index=index, id="kept")["found"] is True


def test_acknowledged_commits_survive_kill_9_of_postgres(
    up_stack: Stack, topology: Topology
) -> None:
    """What a service answered 200 for is in PostgreSQL after the server is killed."""
    import os
    import signal
    import time

    stack, _ = up_stack
    _, pg = _stores(topology)["pg"]
    env = report.env(stack.dir, topology.system("tcgstore"), pg.owner)
    args = {"host": env["PGHOST"], "port": env["PGPORT"], "user": env["PGUSER"],
            "password": env["PGPASSWORD"], "dbname": env["PGDATABASE"],
            "autocommit": True}  # fmt: skip
    with psycopg.connect(**args) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS crash_probe (n int PRIMARY KEY)")
        acked = 0
        for n in range(400):  # each INSERT is its own acknowledged commit
            conn.execute("INSERT INTO crash_probe VALUES (%s)", (n,))
            acked += 1
        server = procs.read_tracked(stack.dir.pids, "postgres")
        assert server is not None
        os.kill(server.pid, signal.SIGKILL)  # at once: the last commits are milliseconds old
    deadline = time.monotonic() + 10
    while server.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not server.is_alive()
    stack.up(topology.select(["tcgstore"]), runtime="embedded")  # restarts it; WAL recovery
    with psycopg.connect(**args) as conn:
        [(count,)] = conn.execute("SELECT count(*) FROM crash_probe").fetchall()
    assert count == acked, f"{acked - count} acknowledged commits lost"


def test_reset_stops_everything_and_wipes_the_data(up_stack: Stack) -> None:
    stack, _ = up_stack
    tracked = [procs.read_tracked(stack.dir.pids, e) for e in ENGINE_NAMES]
    stack.reset()
    assert all(t is None or not t.is_alive() for t in tracked)
    assert sorted(p.name for p in stack.dir.root.iterdir()) == []  # not even the lock
