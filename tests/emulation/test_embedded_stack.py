"""End to end on the embedded runtime, all five systems: one stack for the module.

Everything is reached the way a service would reach it: with the variables
``polystore env`` prints and the endpoints ``polystore status --json`` reports.
Tests that damage the stack (killing an engine, dropping an index) come last.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from typing import Any

import boto3
import psycopg
import pytest
from click.testing import CliRunner
from opensearchpy import OpenSearch

from emulation import procs, report
from emulation.engines import needed
from emulation.stack import LocalStack, UpResult
from emulation.waits import wait_for
from polystore.cli.local_cmds import env as env_cmd
from polystore.cli.local_cmds import parity as parity_cmd
from polystore.cli.local_cmds import status as status_cmd
from polystore.naming import store_env_var
from polystore.topology.model import System, Topology

pytestmark = pytest.mark.slow
SYSTEMS = None  # all of them

Stack = tuple[LocalStack, UpResult]


def service_env(stack: LocalStack, system: System, service: str) -> dict[str, str]:
    """The variables, parsed from the CLI's own output."""
    out = CliRunner().invoke(env_cmd, [f"{system.name}.{service}", "--format", "json",
                                       "--state-dir", str(stack.dir.root)])  # fmt: skip
    assert out.exit_code == 0, out.output
    values: dict[str, str] = json.loads(out.output)
    return values


def dynamo(env: dict[str, str]) -> Any:
    return boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
                        region_name=env["AWS_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])  # fmt: skip


def pg_connect(env: dict[str, str], dbname: str | None = None) -> psycopg.Connection[Any]:
    return psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
                           password=env["PGPASSWORD"], dbname=dbname or env["PGDATABASE"],
                           sslmode=env["PGSSLMODE"], autocommit=True)  # fmt: skip


def test_status_json_reports_every_engine_and_store(up_stack: Stack, topology: Topology) -> None:
    stack, _ = up_stack
    out = CliRunner().invoke(status_cmd, ["--json", "--state-dir", str(stack.dir.root)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["runtime"] == "embedded"
    assert set(doc["engines"]) == set(needed(topology.select(None)))
    for name, engine in doc["engines"].items():
        assert engine["healthy"] is True, name
        assert engine["endpoint"].startswith(("http://127.0.0.1:", "postgresql://127.0.0.1:",
                                              "kafka://127.0.0.1:"))
        assert procs.read_tracked(stack.dir.pids, name).pid == engine["pid"]  # type: ignore[union-attr]
    link = doc["links"]["tcgstore.cards-to-search"]  # the stream poller reports its lag
    assert set(link) == {"state", "lag_ms", "caught_up", "last_error", "queued_failures"}
    assert link["queued_failures"] == 0
    text = CliRunner().invoke(status_cmd, ["--state-dir", str(stack.dir.root)]).output
    assert "link tcgstore.cards-to-search:" in text and "queued failures" in text
    declared = {(s.name, n) for s in topology.systems.values() for n in s.stores}
    assert {(e["system"], e["store"]) for e in doc["stores"]} == declared
    for entry in doc["stores"]:
        assert entry["service"] == topology.systems[entry["system"]].stores[entry["store"]].owner


# A child process that gets nothing but what `eval "$(polystore env ...)"` exported must
# reach every store of the service with its clients' defaults: no endpoint, region or
# credential passed in code.
_CHILD = """
import json, os, boto3, psycopg
from opensearchpy import OpenSearch
out = {}
for var, table in os.environ.items():
    if var.startswith("DYNAMODB_TABLE_"):
        out[var] = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["TableName"]
        desc = boto3.client("dynamodb").describe_table(TableName=table)["Table"]
        if desc.get("LatestStreamArn"):
            streams = boto3.client("dynamodbstreams").list_streams(TableName=table)["Streams"]
            out[var + ":streams"] = len(streams)
    if var.startswith("OPENSEARCH_INDEX_"):
        out[var] = OpenSearch(os.environ["OPENSEARCH_URL"]).indices.exists(index=table)
if "PGDATABASE" in os.environ:
    with psycopg.connect() as conn:
        out["pg"] = list(conn.execute("SELECT current_user, current_database()").fetchone())
print(json.dumps(out))
"""


@pytest.mark.parametrize("service", ["catalog", "inventory"])
def test_eval_of_env_exports_everything_a_child_process_needs(
    up_stack: Stack, topology: Topology, tmp_path: Any, service: str
) -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    stack, _ = up_stack
    system = topology.system("tcgstore")
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    polystore = Path(sys.executable).parent / "polystore"
    shell = (f'eval "$({polystore} env tcgstore.{service} --state-dir {stack.dir.root})" '
             f"&& exec {sys.executable} {script}")
    # Only PATH and HOME: no AWS_*, PG* or proxy settings leak in from this process.
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    clean |= {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "POLYSTORE_STACKS")}
    done = subprocess.run([shutil.which("bash") or "/bin/bash", "-c", shell], env=clean,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected: dict[str, Any] = {}
    for name, store in system.stores_of(service).items():
        var = store_env_var(name, store)
        if store.kind == "dynamodb":
            expected[var] = f"tcgstore-local-{store.table}"  # type: ignore[union-attr]
            if store.stream:  # type: ignore[union-attr]
                expected[f"{var}:streams"] = 1
        elif store.kind == "search":
            expected[var] = True
        elif store.kind == "postgres":
            expected["pg"] = [f"tcgstore_{service}", store.database]  # type: ignore[union-attr]
    assert out == expected and expected


def test_every_postgres_store_is_migrated_and_reachable_by_its_service(
    up_stack: Stack, topology: Topology
) -> None:
    stack, _ = up_stack
    checked = 0
    for system in topology.systems.values():
        for name, store in system.postgres_stores().items():
            env = service_env(stack, system, store.owner)
            assert env["PGDATABASE"] == store.database
            with pg_connect(env) as conn:
                tables = {t for (t,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
                exts = {e for (e,) in conn.execute("SELECT extname FROM pg_extension")}
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()").fetchone()
            assert set(system.schema(name).base_tables()) <= tables, f"{system.name}.{name}"
            assert set(store.extensions) <= exts
            assert owner == (env["PGUSER"],)
            checked += 1
    assert checked == sum(len(s.postgres_stores()) for s in topology.systems.values()) > 1


def test_a_service_cannot_open_another_services_database(
    up_stack: Stack, topology: Topology
) -> None:
    stack, _ = up_stack
    pg = [(s, n, st) for s in topology.systems.values() for n, st in s.postgres_stores().items()]
    (sys_a, _, store_a), (sys_b, _, store_b) = pg[0], pg[-1]
    env_a = service_env(stack, sys_a, store_a.owner)
    assert env_a["PGUSER"] != service_env(stack, sys_b, store_b.owner)["PGUSER"]
    for target in (store_b.database, "postgres"):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            pg_connect(env_a, target)
    with pg_connect(env_a) as conn:  # and its own still opens
        assert conn.execute("SELECT current_user").fetchone() == (env_a["PGUSER"],)


def test_every_dynamodb_store_is_a_table_as_declared(up_stack: Stack, topology: Topology) -> None:
    stack, _ = up_stack
    for system in topology.systems.values():
        for name, store in system.dynamodb_stores().items():
            env = service_env(stack, system, store.owner)
            table = env[store_env_var(name, store)]  # type: ignore[index]
            desc = dynamo(env).describe_table(TableName=table)["Table"]
            keys = {k["KeyType"]: k["AttributeName"] for k in desc["KeySchema"]}
            assert keys["HASH"] == store.key.hash and keys.get("RANGE") == store.key.range
            gsis = {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])}
            assert gsis == set(store.global_indexes)
            assert {x["IndexName"] for x in desc.get("LocalSecondaryIndexes", [])} == \
                set(store.local_indexes)  # fmt: skip
            assert bool(desc.get("StreamSpecification", {}).get("StreamEnabled")) == \
                bool(store.stream)  # fmt: skip


def test_every_search_store_is_an_index_with_its_mappings(
    up_stack: Stack, topology: Topology
) -> None:
    stack, _ = up_stack
    found = 0
    for system in topology.systems.values():
        for name, store in system.search_stores().items():
            env = service_env(stack, system, store.owner)
            client = OpenSearch(hosts=[env["OPENSEARCH_URL"]])
            index = env[store_env_var(name, store)]  # type: ignore[index]
            # The store's name is an alias of one generation-numbered index.
            (concrete, body), *rest = client.indices.get_mapping(index=index).items()
            assert not rest and client.indices.get_alias(name=index) == {concrete: {
                "aliases": {index: {}}}}  # fmt: skip
            mapping = body["mappings"]
            assert set(mapping["properties"]) == set(store.mappings.properties)
            found += 1
    assert found >= 1


def test_a_second_up_is_fast_and_changes_nothing(up_stack: Stack, topology: Topology) -> None:
    stack, _ = up_stack
    again = stack.up(topology.select(None), runtime="embedded")
    assert again.started == [] and again.provisioned == []
    assert again.seconds < 1.0


def test_ttl_sweeper_deletes_expired_items_and_streams_a_remove(
    up_stack: Stack, topology: Topology
) -> None:
    stack, _ = up_stack
    [(system, name, store)] = [(s, n, st) for s in topology.systems.values()
                               for n, st in s.dynamodb_stores().items() if st.ttl][:1]  # fmt: skip
    env = service_env(stack, system, store.owner)
    client = dynamo(env)
    table = env[store_env_var(name, store)]  # type: ignore[index]
    types = store.attributes

    def key(tag: str) -> dict[str, Any]:
        return {a: ({"N": "1"} if types[a] == "N" else {"S": f"{tag}-{uuid.uuid4()}"})
                for a in filter(None, (store.key.hash, store.key.range))}  # fmt: skip

    expired, alive = key("expired"), key("alive")
    now = int(time.time())
    client.put_item(TableName=table, Item={**expired, store.ttl: {"N": str(now - 60)}})
    client.put_item(TableName=table, Item={**alive, store.ttl: {"N": str(now + 3600)}})

    def gone() -> None:
        assert "Item" not in client.get_item(TableName=table, Key=expired)

    wait_for(gone, what="the expired item to be swept", timeout=15, interval=0.2)
    assert "Item" in client.get_item(TableName=table, Key=alive)
    if store.stream:
        streams = boto3.client("dynamodbstreams", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
                               region_name=env["AWS_REGION"], aws_access_key_id="x",
                               aws_secret_access_key="x")  # fmt: skip
        arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        removes = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            removes += [r for r in streams.get_records(ShardIterator=it)["Records"]
                        if r["eventName"] == "REMOVE"]  # fmt: skip
        assert any(r["dynamodb"]["Keys"] == expired for r in removes)


def test_parity_passes_on_a_fresh_stack(up_stack: Stack) -> None:
    stack, _ = up_stack
    out = CliRunner().invoke(parity_cmd, ["--state-dir", str(stack.dir.root)])
    assert out.exit_code == 0, out.output
    assert "matches the topology" in out.output


def test_a_killed_engine_shows_unhealthy_and_the_next_up_restarts_it(
    up_stack: Stack, topology: Topology
) -> None:
    stack, _ = up_stack
    before = procs.read_tracked(stack.dir.pids, "dynamodb")
    assert before is not None
    os.kill(before.pid, signal.SIGKILL)
    wait_for(lambda: not before.is_alive() or (_ for _ in ()).throw(RuntimeError("alive")),
             what="dynamodb to die", timeout=10)
    doc = report.status(stack.dir, topology.select(None))
    assert doc["engines"]["dynamodb"]["healthy"] is False
    result = stack.up(topology.select(None), runtime="embedded")
    assert result.started == ["dynamodb"]
    doc = report.status(stack.dir, topology.select(None))
    assert all(e["healthy"] for e in doc["engines"].values())


def test_parity_detects_a_dropped_index(up_stack: Stack, topology: Topology) -> None:
    stack, _ = up_stack
    system, name = next((s, n) for s in topology.systems.values() for n in s.postgres_stores()
                        if any(not ix.unique for ix in s.schema(n).indexes.values()))
    index = next(ix for ix in system.schema(name).indexes.values() if not ix.unique)
    store = system.postgres_stores()[name]
    env = service_env(stack, system, store.owner)
    with pg_connect(env) as conn:  # the owner may drop its own index, as in AWS
        conn.execute(f'DROP INDEX "{index.name}"')
    search_system, search_store = next((s, n) for s in topology.systems.values()
                                       for n in s.search_stores())  # fmt: skip
    senv = service_env(stack, search_system, search_system.stores[search_store].owner)
    sindex = senv[store_env_var(search_store, search_system.stores[search_store])]  # type: ignore[index]
    sclient = OpenSearch(hosts=[senv["OPENSEARCH_URL"]])
    sclient.indices.delete(index=list(sclient.indices.get_alias(name=sindex)))

    out = CliRunner().invoke(parity_cmd, ["--state-dir", str(stack.dir.root)])
    assert out.exit_code == 1, out.output
    assert f"index {index.name} on {index.table}" in out.output
    assert f"(index {sindex}): index is missing" in out.output
