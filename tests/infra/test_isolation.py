"""Database per service, enforced: grants and security groups follow store ownership."""

from __future__ import annotations

import json
import re
from typing import Any

from polystore.naming import replication_role_name, service_role_name, store_physical_name
from tests.infra.conftest import mock_id, of_type, policy, topology

STORE_ARN = re.compile(r":(table/[^/]+|domain/[^/]+/[^/*]+|topic/[^/]+/[^/]+/[^/]+|"
                       r"dbuser:[^/]+/\S+)")


def _task_policies(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """role name -> statements of its inline policies."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rp in of_type(result, "aws:iam/rolePolicy:RolePolicy"):
        out.setdefault(rp["inputs"]["role"], []).extend(policy(rp)["Statement"])
    return out


def _reachable(statements: list[dict[str, Any]]) -> set[str]:
    """Store-level resources (tables, indexes, topics) a set of statements names."""
    found = set()
    for s in statements:
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        for arn in resources:
            m = STORE_ARN.search(arn)
            if m and not arn.endswith(("-configs", "-offsets", "-status")):
                found.add(m.group(1).split("/")[-1] if "topic/" in m.group(1)
                          else m.group(1).split("/")[1] if "/" in m.group(1) else m.group(1))
    return found


def test_no_task_role_reaches_another_services_store(result: dict[str, Any],
                                                    stack: str) -> None:
    policies = _task_policies(result)
    checked = 0
    for system in topology().systems.values():
        for svc in system.services:
            own = {store_physical_name(system, stack, n) for n in system.stores_of(svc)}
            consumed = {store_physical_name(system, stack, t) for t in
                        system.consumed_topics(svc)}
            reach = _reachable(policies.get(f"{system.name}-{stack}-{svc}-task", []))
            physical_of_all = {store_physical_name(system, stack, n) for n in system.stores}
            stray = {r for r in reach if r in physical_of_all} - own - consumed
            assert not stray, f"{system.name}.{svc} task role reaches {sorted(stray)}"
            # and it does reach its own non-postgres stores
            assert {p for p in own if p in physical_of_all} - {
                s.database for s in system.postgres_stores().values()} <= reach | own
            checked += 1
    assert checked == sum(len(s.services) for s in topology().systems.values())


def test_task_roles_name_their_own_tables_explicitly(result: dict[str, Any],
                                                    stack: str) -> None:
    policies = _task_policies(result)
    for system in topology().systems.values():
        for name, store in system.dynamodb_stores().items():
            stmts = policies[f"{system.name}-{stack}-{store.owner}-task"]
            arns = {a for s in stmts for a in s["Resource"]}
            assert any(a.endswith(f":table/{store_physical_name(system, stack, name)}")
                       for a in arns)


def test_no_policy_statement_has_a_wildcard_action_or_resource(result: dict[str, Any]) -> None:
    for rp in of_type(result, "aws:iam/rolePolicy:RolePolicy"):
        for s in policy(rp)["Statement"]:
            assert "*" not in s["Action"], rp["name"]
            if s.get("Sid") != "EcrLoginHasNoResourceLevel":
                assert "*" not in s["Resource"], rp["name"]


def test_databases_admit_only_their_owner_and_declared_connector(result: dict[str, Any],
                                                                stack: str) -> None:
    sgs = {mock_id(r): r["name"] for r in of_type(result, "aws:ec2/securityGroup:SecurityGroup")}
    rules = of_type(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    for system in topology().systems.values():
        for name, store in system.postgres_stores().items():
            db_sg = next(i for i, n in sgs.items() if n == f"{system.name}-{name}-sg")
            mine = [r["inputs"] for r in rules if r["inputs"]["securityGroupId"] == db_sg]
            assert mine, f"{name} admits nobody"
            # the owner, and its setup task (python -m dbsetup: logins, migrations)
            allowed = {f"{system.name}-{store.owner}-sg", f"{system.name}-dbsetup-{name}-sg"}
            if name in system.cdc_sources():
                allowed.add(f"{system.name}-kafka-connect-sg")
            for rule in mine:
                assert "cidrIpv4" not in rule and "cidrIpv6" not in rule
                assert rule["description"]
                assert sgs[rule["referencedSecurityGroupId"]] in allowed


def test_no_ingress_from_anywhere(result: dict[str, Any]) -> None:
    for r in of_type(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert r["inputs"].get("cidrIpv4") != "0.0.0.0/0", r["name"]
        assert r["inputs"].get("description")


def test_no_plain_text_password_in_any_input(result: dict[str, Any]) -> None:
    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if re.search(r"password|secret_?string|passwd", k, re.I) and isinstance(v, str):
                    # a secret, a reference resolved at run time, or a key id: never a value
                    assert v == "<secret>" or v.startswith("${env:") or k.lower().endswith(
                        ("kmskeyid", "arn")), f"{path}.{k} = {v!r}"
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str) and value.startswith(("[", "{")):
            try:
                parsed = json.loads(value)
            except ValueError:
                return  # not JSON after all: a plain string, already checked by its key
            walk(parsed, path + "<json>")

    for r in result["resources"]:
        walk(r["inputs"], r["name"])
    # PGUSER may be plain: a login's name (a service's, IAM-authenticated; a CDC
    # replication login's, its password a secret), never the master user's
    logins = {f(s, n) for s in topology().systems.values()
              for f, names in ((service_role_name, s.services),
                               (replication_role_name, s.cdc_links())) for n in names}
    for td in of_type(result, "aws:ecs/taskDefinition:TaskDefinition"):
        for c in json.loads(td["inputs"]["containerDefinitions"]):
            env = {e["name"]: e["value"] for e in c["environment"]}
            assert "PGPASSWORD" not in env
            assert env.get("PGUSER", next(iter(logins))) in logins, env.get("PGUSER")
            assert c["readonlyRootFilesystem"] is True and c["privileged"] is False
            for s in c["secrets"]:
                assert s["valueFrom"].startswith("arn:aws:secretsmanager:")
        assert td["inputs"]["taskRoleArn"] != td["inputs"]["executionRoleArn"]
