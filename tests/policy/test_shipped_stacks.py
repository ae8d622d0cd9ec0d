"""The rules over real captured resources: the program's mocked run (infra.preview)."""

from __future__ import annotations

from typing import Any

import pytest

from policy.engine import evaluate

preview_mod = pytest.importorskip("infra.preview", reason="the infra area's offline preview")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped() -> dict[str, dict[str, Any]]:
    return {s: preview_mod.run_preview(s) for s in ("dev", "staging", "prod")}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stack_passes_every_mandatory_rule(topology, shipped, stack: str) -> None:
    report = evaluate(shipped[stack], topology)
    assert [(f.rule_id, f.resource_name, f.message) for f in report.failed("mandatory")] == []


def test_prod_passes_every_rule_with_aurora_spread_over_zones(topology, shipped) -> None:
    """prod Aurora clusters have a reader pinned to another AZ, so PS-RDS-04 is decided."""
    report = evaluate(shipped["prod"], topology)
    assert [(f.rule_id, f.resource_name) for f in report.findings] == []
    insts = [r for r in shipped["prod"]["resources"]
             if r["type"] == "aws:rds/clusterInstance:ClusterInstance"]
    assert insts and all(r["inputs"].get("availabilityZone") for r in insts)


def test_unpinned_aurora_instances_fail_multi_az_in_prod(topology, shipped) -> None:
    import copy

    p = copy.deepcopy(shipped["prod"])
    for r in p["resources"]:
        if r["type"] == "aws:rds/clusterInstance:ClusterInstance":
            r["inputs"].pop("availabilityZone", None)
    failed = {(f.rule_id, f.resource_name) for f in evaluate(p, topology).failed("mandatory")}
    clusters = {r["name"] for r in p["resources"] if r["type"] == "aws:rds/cluster:Cluster"}
    assert clusters and failed == {("PS-RDS-04", c) for c in clusters}


def _without_pitr(topology, system: str, store: str):  # type: ignore[no-untyped-def]
    sys_ = topology.systems[system]
    stores = dict(sys_.stores)
    stores[store] = stores[store].model_copy(update={"pitr": False})
    systems = dict(topology.systems)
    systems[system] = sys_.model_copy(update={"stores": stores})
    return topology.model_copy(update={"systems": systems})


def test_mutated_topology_breaks_the_rule_naming_the_resource(topology) -> None:
    mutated = _without_pitr(topology, "tcgstore", "orders")
    p = preview_mod.run_preview("prod", topology=mutated,
                                config_overrides={"systems": ["tcgstore"]})
    report = evaluate(p, mutated)
    failed = {(f.rule_id, f.resource_name) for f in report.failed("mandatory")}
    assert ("PS-DDB-01", "tcgstore-orders") in failed
    assert ("PS-TOPO-04", "tcgstore-orders") in failed


def test_real_preview_iam_is_checked_not_skipped(topology, shipped) -> None:
    """Grant a real service role another service's table: PS-TOPO-01 must see it."""
    import copy
    import json

    p = copy.deepcopy(shipped["dev"])
    pol = next(r for r in p["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy"
               and r["name"] == "tcgstore-order-task")
    doc = json.loads(pol["inputs"]["policy"])
    doc["Statement"].append({"Effect": "Allow", "Action": "dynamodb:GetItem",
                             "Resource": "arn:aws:dynamodb:eu-west-1:1:table/tcgstore-dev-Cards"})
    pol["inputs"]["policy"] = json.dumps(doc)
    failed = {(f.rule_id, f.resource_name) for f in evaluate(p, topology).failed()}
    assert ("PS-TOPO-01", "tcgstore-order-task") in failed
