"""Each PostgreSQL store gets a one-off setup task (``python -m dbsetup``) that runs as
the master user, migrates as the owner's login with IAM tokens and keeps the CDC
replication password in a secret the Connect worker reads; services log in as their own
login with IAM tokens, with no password anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from polystore.naming import replication_role_name, service_role_name

from .conftest import of_type, policy, shipped_preview, topology

TASK = "aws:ecs/taskDefinition:TaskDefinition"


def container(result: dict[str, Any], family: str) -> dict[str, Any]:
    [task] = [t for t in of_type(result, TASK) if t["inputs"]["family"] == family]
    [c] = json.loads(task["inputs"]["containerDefinitions"])
    return dict(c)


def statements_of(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [p] = [r for r in of_type(result, "aws:iam/rolePolicy:RolePolicy") if r["name"] == name]
    return list(policy(p)["Statement"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_postgres_store_has_its_setup_task(stack: str) -> None:
    result = shipped_preview(stack)
    outputs = result["outputs"]["systems"]
    for system in topology().systems.values():
        for store, pg in system.postgres_stores().items():
            family = f"{system.name}-{stack}-dbsetup-{store}"
            c = container(result, family)
            assert c["entryPoint"] == ["python", "-m", "dbsetup"]
            assert c["image"].endswith(f"/{system.name}/{pg.owner}:latest")  # the services image
            command = c["command"]
            assert command[:6] == ["--system", system.name, "--store", store,
                                   "--environment", stack]  # fmt: skip
            links = [n for n, link in system.cdc_links().items() if link.source == store]
            assert command[6:] == [
                a
                for n in links
                for a in ("--replication-secret", f"{n}={system.name}-{stack}/{n}/replication")
            ]
            env = {e["name"]: e["value"] for e in c["environment"]}
            assert env["PGDATABASE"] == "postgres" and env["PGSSLMODE"] == "require"
            assert "rds.amazonaws.com" in env["PGHOST"]
            secrets = {s["name"]: s["valueFrom"] for s in c["secrets"]}
            assert secrets["PGUSER"].endswith(":username::")  # the RDS-managed master secret
            assert secrets["PGPASSWORD"].endswith(":password::")
            assert ":secret:rds!" in secrets["PGPASSWORD"]
            [svc] = [r for r in of_type(result, "aws:ecs/service:Service")
                     if r["inputs"]["name"] == f"dbsetup-{store}"
                     and r["name"].startswith(system.name)]  # fmt: skip
            assert svc["inputs"]["desiredCount"] == 0
            task = statements_of(result, f"{system.name}-dbsetup-{store}-task")
            connect = [s for s in task if "rds-db:connect" in s["Action"]]
            assert [r.rsplit("/", 1)[1] for s in connect for r in s["Resource"]] == [
                service_role_name(system, pg.owner)
            ]
            puts = [r for s in task if "secretsmanager:PutSecretValue" in s["Action"]
                    for r in s["Resource"]]  # fmt: skip
            assert [p.split(":secret:")[1].rsplit("-", 1)[0] for p in puts] == [
                f"{system.name}-{stack}/{n}/replication" for n in links
            ]
            execution = statements_of(result, f"{system.name}-dbsetup-{store}-exec")
            [inject] = [s for s in execution if s.get("Sid") == "InjectOwnSecrets"]
            assert inject["Resource"] == [secrets["PGUSER"].rsplit(":username::")[0]]
            run = outputs[system.name]["workers"][f"dbsetup-{store}"]["run_task"]
            assert run.startswith(
                f"aws ecs run-task --cluster {system.name}-{stack} "
                f"--task-definition {family} --launch-type FARGATE"
            )


def test_the_replication_secret_is_kms_described_exempt_and_read_by_connect() -> None:
    result = shipped_preview("prod")
    system = topology().system("bellyfed")
    [secret] = [r for r in of_type(result, "aws:secretsmanager/secret:Secret")
                if r["inputs"]["name"] == "bellyfed-prod/bellyfed-cdc/replication"]  # fmt: skip
    assert secret["inputs"]["kmsKeyId"].startswith("arn:aws:kms:")
    assert "replication login" in secret["inputs"]["description"]
    assert secret["inputs"]["tags"]["polystore:rotation"].startswith("not-supported:")
    assert "secretString" not in secret["inputs"]  # the password is never in Pulumi state
    [task] = [t for t in of_type(result, TASK) if t["name"].startswith("bellyfed-kafka-connect")]
    [c] = json.loads(task["inputs"]["containerDefinitions"])
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert env["PGUSER"] == replication_role_name(system, "bellyfed-cdc")
    secrets = {s["name"]: s["valueFrom"] for s in c["secrets"]}
    assert set(secrets) == {"PGPASSWORD"}
    assert ":secret:bellyfed-prod/bellyfed-cdc/replication-" in secrets["PGPASSWORD"]


def test_services_log_in_as_their_own_login_with_iam_and_no_password() -> None:
    result = shipped_preview("dev")
    for system in topology().systems.values():
        for store, pg in system.postgres_stores().items():
            c = container(result, f"{system.name}-dev-{pg.owner}")
            env = {e["name"]: e["value"] for e in c["environment"]}
            assert env["PGUSER"] == service_role_name(system, pg.owner)
            names = {e["name"] for e in c["environment"]} | {s["name"] for s in c["secrets"]}
            assert "PGPASSWORD" not in names, (system.name, store)
            task = statements_of(result, f"{system.name}-{pg.owner}-task")
            [connect] = [s for s in task if s.get("Sid") == "IamAuthOwnDatabase"]
            assert connect["Resource"][0].endswith(f"/{service_role_name(system, pg.owner)}")
            assert not any("secretsmanager:GetSecretValue" in s["Action"] for s in task)


def test_each_database_admits_its_setup_task() -> None:
    result = shipped_preview("dev")
    descriptions = {
        r["inputs"].get("description")
        for r in of_type(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    }
    for system in topology().systems.values():
        for store in system.postgres_stores():
            assert f"PostgreSQL from its setup task (dbsetup-{store})" in descriptions
