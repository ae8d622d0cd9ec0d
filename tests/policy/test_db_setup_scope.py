"""A store's setup task (role ``db-setup``) is scoped like its owner: it may reach and be
admitted by the owner's database only. Mutations of the shipped preview prove both rules
tell it apart from another service's."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policy.engine import evaluate
from polystore.naming import service_role_name

preview_mod = pytest.importorskip("infra.preview", reason="the infra area's offline preview")

pytestmark = pytest.mark.slow
SYSTEM = "ecommerce"  # several PostgreSQL stores with different owners


@pytest.fixture(scope="module")
def shipped(topology: Any) -> dict[str, Any]:
    return preview_mod.run_preview("dev", topology=topology, config_overrides={
        "systems": [SYSTEM]})  # fmt: skip


def named(p: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    [r] = [r for r in p["resources"] if r["type"] == type_ and r["name"] == name]
    return r


def findings(p: dict[str, Any], topology: Any, rule: str) -> list[str]:
    return [f.message for f in evaluate(p, topology).findings if f.rule_id == rule]


def test_setup_tasks_pass_the_topology_rules(shipped: dict[str, Any], topology: Any) -> None:
    for rule in ("PS-TOPO-01", "PS-TOPO-02"):
        assert findings(shipped, topology, rule) == []


def test_a_setup_task_reaching_another_owners_database_is_flagged(
    shipped: dict[str, Any], topology: Any
) -> None:
    system = topology.system(SYSTEM)
    stores = list(system.postgres_stores().items())
    (mine, _), (_, other) = stores[0], next(s for s in stores if s[1].owner != stores[0][1].owner)
    p = copy.deepcopy(shipped)
    task = named(p, "aws:iam/rolePolicy:RolePolicy", f"{SYSTEM}-dbsetup-{mine}-task")
    doc = json.loads(task["inputs"]["policy"])
    resource = doc["Statement"][0]["Resource"][0]
    doc["Statement"][0]["Resource"].append(
        resource.rsplit("/", 1)[0] + "/" + service_role_name(system, other.owner)
    )
    task["inputs"]["policy"] = json.dumps(doc)
    [message] = findings(p, topology, "PS-TOPO-01")
    assert "role of db-setup reaches store" in message and other.owner in message


def test_a_setup_group_of_another_owner_admitted_is_flagged(
    shipped: dict[str, Any], topology: Any
) -> None:
    system = topology.system(SYSTEM)
    stores = list(system.postgres_stores().items())
    (mine, pg) = stores[0]
    other = next(s.owner for _, s in stores if s.owner != pg.owner)
    p = copy.deepcopy(shipped)
    sg = named(p, "aws:ec2/securityGroup:SecurityGroup", f"{SYSTEM}-dbsetup-{mine}-sg")
    sg["inputs"]["tags"] = {**sg["inputs"]["tags"], "polystore:service": other}
    messages = findings(p, topology, "PS-TOPO-02")
    assert any(f"{SYSTEM}-dbsetup-{mine}-sg" in m and "role db-setup" in m for m in messages)
