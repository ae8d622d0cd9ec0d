"""Seeding a real local stack: service logins, determinism, idempotency, --verify, targets.

One embedded stack for the module (order-processor, inventory, tcgstore, ecommerce).
Each test starts from "the default demo is seeded" (``_ensure_seeded``), so tests stay
independent when xdist spreads them over workers, each with its own stack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from emulation import report
from polystore.cli.seed_cmds import seed as seed_cmd
from polystore.naming import local_name, service_role_name
from polystore.topology.model import Topology
from seed import api, load_postgres
from seed.plan import build_plan
from seed.targets import DeployedTarget, LocalTarget, TargetError

pytestmark = pytest.mark.slow
SYSTEMS = ["order-processor", "inventory", "tcgstore", "ecommerce"]
CHECKED = ["order-processor", "inventory", "ecommerce"]  # no link waits for a missing engine


def _dump(stack: Any, topology: Topology) -> str:
    """A hash of every seeded table and item, read back with the owners' logins."""
    h = hashlib.sha256()
    for system in topology.select(SYSTEMS):
        for name, store in sorted(system.stores.items()):
            env = report.env(stack.dir, system, store.owner)
            if store.kind == "postgres":
                with load_postgres.connect(env) as conn, conn.cursor() as cur:
                    for table in sorted(system.schema(name).base_tables()):
                        q = sql.SQL("COPY (SELECT * FROM {} ORDER BY 1, 2) TO STDOUT").format(
                            sql.Identifier(table)
                        )
                        with cur.copy(q) as copy:
                            for chunk in copy:
                                h.update(bytes(chunk))
            elif store.kind == "dynamodb":
                from seed.load_dynamodb import scan_all

                items = scan_all(env, local_name(system, name))
                rows = sorted(json.dumps(i, sort_keys=True, default=str) for i in items)
                h.update("\n".join(rows).encode())
    return h.hexdigest()


def _ensure_seeded(stack: Any, topology: Topology) -> None:
    api.seed_if_empty(stack.dir.root, topology.select(SYSTEMS))


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(seed_cmd, args, catch_exceptions=False)


def test_up_seeds_an_empty_stack_once(up_stack: Any, topology: Topology) -> None:
    target = LocalTarget(up_stack.dir.root)
    for system in topology.select(SYSTEMS):  # empty, whichever test ran here before
        api.delete_plan(build_plan(system), target)
    lines: list[str] = []
    summary = api.seed_if_empty(up_stack.dir.root, topology.select(SYSTEMS), lines.append)
    assert not summary.skipped
    assert any("order-processor/users" in line for line in lines)
    written = {(r.system, r.store): r.written for r in summary.results}
    assert written[("order-processor", "users")] > 500
    assert written[("ecommerce", "order-db")] > 1000
    again = api.seed_if_empty(up_stack.dir.root, topology.select(SYSTEMS), lines.append)
    assert again.skipped == {s: "already has data" for s in SYSTEMS}
    assert not again.results


def test_loaders_use_each_services_own_login(
    up_stack: Any, topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[tuple[str, str]] = []
    real = load_postgres.connect

    def spy(env: dict[str, str]) -> Any:
        used.append((env["PGDATABASE"], env["PGUSER"]))
        return real(env)

    monkeypatch.setattr(load_postgres, "connect", spy)
    systems = topology.select(["ecommerce", "tcgstore"])
    api.seed(systems, LocalTarget(up_stack.dir.root))
    owners = {
        s.database: service_role_name(system, s.owner)  # type: ignore[union-attr]
        for system in systems
        for s in system.postgres_stores().values()
    }
    assert {db for db, _ in used} == set(owners)
    assert all(owners[db] == user for db, user in used), used
    # ... and that login is a service's, not a superuser: it cannot open another database
    ecommerce = topology.system("ecommerce")
    env = report.env(up_stack.dir, ecommerce, "order")
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        load_postgres.connect({**env, "PGDATABASE": "payment_db"}).close()
    with load_postgres.connect(env) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (False,)


def test_same_seed_gives_identical_data_and_a_rerun_adds_nothing(
    up_stack: Any, topology: Topology
) -> None:
    _ensure_seeded(up_stack, topology)
    first = _dump(up_stack, topology)
    out = _run(["--state-dir", str(up_stack.dir.root), *SYSTEMS])
    assert out.exit_code == 0, out.output
    assert _dump(up_stack, topology) == first  # idempotent: nothing duplicated
    out = _run(["--state-dir", str(up_stack.dir.root), "--reset", *SYSTEMS])
    assert out.exit_code == 0, out.output
    assert _dump(up_stack, topology) == first  # deleted, then the same bytes again


def test_streaming_large_scales_loads_the_same_data(up_stack: Any, topology: Topology) -> None:
    """Large scales load each table as it is generated (the plan keeps only keys): the
    data is the same; --reset works from a keys-only plan."""
    _ensure_seeded(up_stack, topology)
    first = _dump(up_stack, topology)
    target = LocalTarget(up_stack.dir.root)
    systems = topology.select(SYSTEMS)
    summary = api.seed(systems, target, reset=True, stream=True)
    written = {(r.system, r.store): r.written for r in summary.results}
    assert written[("ecommerce", "order-db")] == sum(
        len(rows) for (store, _), rows in summary.plans[-1].tables.items() if store == "order-db"
    )
    assert _dump(up_stack, topology) == first


def test_verify_passes_then_catches_a_tampered_balance(up_stack: Any, topology: Topology) -> None:
    out = _run(["--state-dir", str(up_stack.dir.root), "--verify", *CHECKED])
    assert out.exit_code == 0, out.output
    assert "every invariant holds" in out.output
    system = topology.system("order-processor")
    env = report.env(up_stack.dir, system, "user")
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = local_name(system, "users")
    user = build_plan(system).items["users"][0]["PK"]
    key = {"PK": {"S": user}, "SK": {"S": "BALANCE"}}
    old = ddb.get_item(TableName=table, Key=key)["Item"]
    try:
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET current_balance = :b",
            ExpressionAttributeValues={":b": {"S": "999999.99"}},
        )
        # --dry-run --verify checks the stores as they are (writes nothing)
        out = _run(
            ["--state-dir", str(up_stack.dir.root), "--verify", "--dry-run", "order-processor"]
        )
        assert out.exit_code == 1, out.output
        assert "FAILED: order-processor" in out.output
        assert "current_balance 999999.99" in out.output
        # seeding again restores the item (PutItem of the same plan), and verify says so
        out = _run(["--state-dir", str(up_stack.dir.root), "--verify", "order-processor"])
        assert out.exit_code == 0, out.output
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET current_balance = :b",
            ExpressionAttributeValues={":b": {"S": "999999.99"}},
        )
        r = ddb.get_item(TableName=table, Key=key)["Item"]
        assert r["current_balance"]["S"] == "999999.99"
    finally:
        ddb.put_item(TableName=table, Item=old)


def test_verify_exits_1_with_the_first_violation(up_stack: Any, topology: Topology) -> None:
    _ensure_seeded(up_stack, topology)
    system = topology.system("inventory")
    env = report.env(up_stack.dir, system, "inventory")
    with load_postgres.connect(env) as conn:
        conn.execute(
            "UPDATE inventory SET quantity_on_hand = quantity_on_hand + 5 "
            "WHERE id = (SELECT id FROM inventory ORDER BY id LIMIT 1)"
        )
        conn.commit()
    out = _run(
        ["--state-dir", str(up_stack.dir.root), "--verify", "--verify-wait", "0", "inventory"]
    )
    assert out.exit_code == 1, out.output
    assert "FAILED: inventory" in out.output and "quantity_on_hand" in out.output
    out = _run(["--state-dir", str(up_stack.dir.root), "--reset", "--verify", "inventory"])
    assert out.exit_code == 0, out.output


def test_verify_waits_for_the_link_and_names_it_when_it_does_not_converge(
    up_stack: Any,
) -> None:
    from emulation import workers

    args = ["--state-dir", str(up_stack.dir.root), "--verify", "tcgstore"]
    out = _run([*args, "--verify-wait", "60"])  # the stack's stream poller feeds the index
    assert out.exit_code == 0, out.output
    assert "every invariant holds" in out.output
    workers.stop(up_stack.dir, lambda _: None, names=["sync-tcgstore-cards-to-search"])
    try:
        out = _run(["--state-dir", str(up_stack.dir.root), "--reset", "--seed", "7",
                    "--verify", "--verify-wait", "0.5", "tcgstore"])  # fmt: skip
        assert out.exit_code == 1, out.output
        assert "fed by link cards-to-search" in out.output
    finally:
        up_stack.up([up_stack_topology().system("tcgstore")], runtime="embedded")


def up_stack_topology() -> Topology:
    from polystore import load_topology

    return load_topology()


def test_a_deployed_stack_from_its_outputs_file(
    up_stack: Any, topology: Topology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """The --stack path, against the local engines: same outputs shape as infra exports,
    database passwords from Secrets Manager (a moto server stands in for it; DynamoDB is
    the stack's engine)."""
    from moto.server import ThreadedMotoServer

    from emulation.ports import free_port

    system = topology.system("inventory")
    local = report.env(up_stack.dir, system, "inventory")
    endpoint = local["AWS_ENDPOINT_URL_DYNAMODB"]
    secrets = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    secrets.start()
    request.addfinalizer(secrets.stop)
    host, port = secrets.get_host_and_port()
    for var, value in {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(
        Name=f"seed-test-{tmp_path.name}",
        SecretString=json.dumps({"username": local["PGUSER"], "password": local["PGPASSWORD"]}),
    )["ARN"]
    env = {k: v for k, v in local.items() if k not in ("PGUSER", "PGPASSWORD")}
    outputs = {
        "environment": "dev",
        "profile": "dev",
        "region": "us-east-1",
        "systems": {
            "inventory": {
                "services": {
                    "inventory": {
                        "environment": env,
                        "secrets": {"PGUSER": f"{arn}:username::"},
                        "secret_arns": [arn],
                        "tables": {"event-store": env["DYNAMODB_TABLE_EVENT_STORE"]},
                        "database": {
                            "store": "inventory-db",
                            "name": env["PGDATABASE"],
                            "endpoint": env["PGHOST"],
                            "port": int(env["PGPORT"]),
                            "secret_arn": arn,
                        },
                    }
                }
            }
        },
    }
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the run's manifest
    path = tmp_path / "dev-outputs.json"
    path.write_text(json.dumps(outputs))
    plan = build_plan(system)
    api.delete_plan(plan, LocalTarget(up_stack.dir.root))  # what the local runs seeded
    with load_postgres.connect(local) as conn:
        assert conn.execute("SELECT count(*) FROM warehouses").fetchone() == (0,)
    summary = api.seed([system], DeployedTarget("dev", path))
    written = {r.store: r.written for r in summary.results}
    assert written == {
        "inventory-db": sum(len(r) for r in plan.tables.values()),
        "event-store": len(plan.items["event-store"]),
    }
    codes = {w["code"] for w in plan.rows("inventory-db", "warehouses")}
    with load_postgres.connect(local) as conn:
        assert {r[0] for r in conn.execute("SELECT code FROM warehouses")} == codes
    # prod needs consent
    prod = {**outputs, "environment": "prod", "profile": "prod"}
    path.write_text(json.dumps(prod))
    with pytest.raises(TargetError, match="--allow-prod"):
        DeployedTarget("prod", path)
    out = _run(["--stack", "prod", "--outputs", str(path), "inventory"])
    assert out.exit_code == 2 and "--allow-prod" in out.output
    assert DeployedTarget("prod", path, allow_prod=True).stack == "prod"


def test_an_up_killed_while_seeding_is_finished_by_the_next_up(
    up_stack: Any, topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polystore.cli.local_cmds import up as up_cmd

    [inventory] = topology.select(["inventory"])
    target = LocalTarget(up_stack.dir.root)
    plan = build_plan(inventory)
    api.delete_plan(plan, target)
    # the first store lands, then the process dies (as `up` killed with -9 while seeding)
    real, calls = api._load, []

    def dies_after_one(*args: Any) -> None:
        calls.append(args)
        if len(calls) > 1:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(api, "_load", dies_after_one)
    monkeypatch.setattr(api, "PARALLEL_STORES", 1)
    with pytest.raises(KeyboardInterrupt):
        api.seed([inventory], target)
    monkeypatch.undo()
    state = up_stack.dir.load()
    state.unseeded = ["inventory"]  # what `up` saved with the provisioning it did
    up_stack.dir.save(state)
    half = api.seed([inventory], target, dry_run=True, check=True)
    assert half.violations, "the interrupted seed left something missing"

    args = ["inventory", "--no-services", "--state-dir", str(up_stack.dir.root)]
    result = CliRunner().invoke(up_cmd, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "finishing inventory" in result.output
    done = api.seed([inventory], target, dry_run=True, check=True)
    assert not done.violations, done.violations
    assert up_stack.dir.load().unseeded == []
    # and a later `up` leaves the (now user-owned) data alone
    again = CliRunner().invoke(up_cmd, args, catch_exceptions=False)
    assert "finishing" not in again.output and "seeded" not in again.output
