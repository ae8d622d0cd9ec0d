"""Attribution by tags on real captured resources (the program's mocked run).

The connector, the owner's workload and every store are recognised by their
``polystore:*`` tags, not by their names: an untagged or mis-tagged resource fails the
topology rules even when its name looks right.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policy.engine import evaluate
from polystore.naming import store_physical_name

preview_mod = pytest.importorskip("infra.preview", reason="the infra area's offline preview")

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@pytest.fixture(scope="module")
def cdc_system(topology) -> str:
    """A system with a CDC link (its source database admits the connector)."""
    return next(n for n, s in sorted(topology.systems.items()) if s.cdc_links())


@pytest.fixture(scope="module")
def captured(cdc_system: str) -> dict[str, Any]:
    return preview_mod.run_preview("prod", config_overrides={"systems": [cdc_system]})


def _fresh(captured: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(captured)


def _one(p: dict[str, Any], type_: str, **tags: str) -> dict[str, Any]:
    hits = [r for r in p["resources"] if r["type"] == type_ and all(
        (r["inputs"].get("tags") or {}).get(f"polystore:{k}") == v for k, v in tags.items())]
    assert len(hits) == 1, (type_, tags, [h["name"] for h in hits])
    return hits[0]


def _failed(p: dict[str, Any], topology) -> set[tuple[str, str | None]]:
    return {(f.rule_id, f.resource_name) for f in evaluate(p, topology).failed()}


def _ingress_from(p: dict[str, Any], sg: dict[str, Any]) -> dict[str, Any]:
    """The database ingress rule referencing ``sg`` (ids as the mocked engine gave them)."""
    from infra.mock_state import computed_state

    sg_id = computed_state(sg["type"], sg["name"], sg["inputs"], "eu-west-1")[0]
    return next(r for r in p["resources"] if r["type"] == INGRESS
                and r["inputs"].get("referencedSecurityGroupId") == sg_id
                and r["inputs"].get("fromPort") == 5432)


def test_captured_stack_is_clean(captured: dict[str, Any], topology) -> None:
    assert _failed(_fresh(captured), topology) == set()


def test_connector_sg_without_its_role_tag_is_caught(captured, topology) -> None:
    p = _fresh(captured)
    connector = _one(p, SG, role="cdc-connector")
    assert "connect" in connector["name"]  # the old name heuristic would have let it pass
    del connector["inputs"]["tags"]["polystore:role"]
    rule = _ingress_from(p, connector)
    assert ("PS-TOPO-02", rule["name"]) in _failed(p, topology)


def _owner_sg(p: dict[str, Any], topology, system: str) -> dict[str, Any]:
    """The owner's workload group a CDC source database admits (found by its ingress rule)."""
    from infra.mock_state import computed_state

    store = next(iter(topology.systems[system].cdc_sources()))
    db_sg = _one(p, SG, store=store)
    db_id = computed_state(SG, db_sg["name"], db_sg["inputs"], "eu-west-1")[0]
    refs = {r["inputs"]["referencedSecurityGroupId"] for r in p["resources"]
            if r["type"] == INGRESS and r["inputs"].get("securityGroupId") == db_id}
    owners = [r for r in p["resources"] if r["type"] == SG
              and computed_state(SG, r["name"], r["inputs"], "eu-west-1")[0] in refs
              and (r["inputs"].get("tags") or {}).get("polystore:role") == "service"]
    assert len(owners) == 1, [o["name"] for o in owners]
    return owners[0]


def test_connector_role_from_another_system_is_caught(captured, topology, cdc_system) -> None:
    p = _fresh(captured)
    owner_sg = _owner_sg(p, topology, cdc_system)
    owner_sg["inputs"]["tags"]["polystore:role"] = "cdc-connector"
    owner_sg["inputs"]["tags"]["polystore:system"] = "elsewhere"
    rule = _ingress_from(p, owner_sg)
    assert ("PS-TOPO-02", rule["name"]) in _failed(p, topology)


def test_group_of_another_service_is_caught(
        captured, topology, cdc_system) -> None:
    p = _fresh(captured)
    owner_sg = _owner_sg(p, topology, cdc_system)
    owner_sg["inputs"]["tags"]["polystore:service"] = "someone-else"
    rule = _ingress_from(p, owner_sg)
    assert ("PS-TOPO-02", rule["name"]) in _failed(p, topology)


def test_untagged_store_resource_fails_topology_with_a_name_hint(captured, topology) -> None:
    p = _fresh(captured)
    table = next(r for r in p["resources"] if r["type"] == "aws:dynamodb/table:Table")
    store = table["inputs"]["tags"].pop("polystore:store")
    findings = [f for f in evaluate(p, topology).failed() if f.rule_id == "PS-TOPO-03"]
    mine = [f.message for f in findings if f.resource_name == table["name"]]
    assert mine and "carries no polystore:store tag" in mine[0]
    assert mine[0].endswith(f"/{store})")  # the name is only a hint in the message
    assert any(f"/{store} (dynamodb) has no resource" in f.message for f in findings)


def test_domain_or_cluster_must_list_the_stores_it_hosts(captured, topology) -> None:
    p = _fresh(captured)
    msk = next(r for r in p["resources"]
               if r["type"] == "aws:msk/serverlessCluster:ServerlessCluster")
    hosted = msk["inputs"]["tags"]["polystore:stores"].split()
    msk["inputs"]["tags"]["polystore:stores"] = " ".join([*hosted[1:], "not-a-store"])
    messages = [f.message for f in evaluate(p, topology).failed() if f.rule_id == "PS-TOPO-03"]
    assert any(f"/{hosted[0]} is hosted by no" in m for m in messages), messages
    assert any("not-a-store" in m for m in messages), messages


def test_link_lambda_reaching_beyond_its_link_is_caught(captured, topology, cdc_system) -> None:
    """The CDC sink's role (tagged role+link) may touch only its link's stores."""
    p = _fresh(captured)
    system = topology.systems[cdc_system]
    link = next(iter(system.cdc_links().values()))
    other = next(n for n, s in sorted(system.stores.items()) if s.kind in ("dynamodb", "topic")
                 and n not in (link.source, link.target, link.topic))
    sink_role = _one(p, "aws:iam/role:Role", role="cdc-sink")
    pol = next(r for r in p["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy"
               and r["inputs"]["role"] == sink_role["inputs"]["name"])
    doc = json.loads(pol["inputs"]["policy"])
    phys = store_physical_name(system, "prod", other)
    arn = ("arn:aws:dynamodb:eu-west-1:123456789012:table/" + phys
           if system.stores[other].kind == "dynamodb"
           else f"arn:aws:kafka:eu-west-1:123456789012:topic/{cdc_system}-prod/u-1/{phys}")
    doc["Statement"].append({"Effect": "Allow", "Action": ["dynamodb:GetItem",
                             "kafka-cluster:ReadData"], "Resource": arn})
    pol["inputs"]["policy"] = json.dumps(doc)
    assert ("PS-TOPO-01", pol["name"]) in _failed(p, topology)


def _policy_resources(p: dict[str, Any]) -> list[Any]:
    """The captured preview as CrossGuard hands it to a stack policy: tags on providers."""
    from pulumi_policy import PolicyProviderResource, PolicyResource, PolicyResourceOptions

    by_urn = {r["urn"]: r for r in p["resources"]}
    providers = {u: PolicyProviderResource(r["type"], r["inputs"], u, r["name"])
                 for u, r in by_urn.items() if r["type"].startswith("pulumi:providers:")}
    opts = PolicyResourceOptions(False, [], False, [], None, None, None)
    return [PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], opts,
                           providers.get((r.get("options") or {}).get("provider")), None, [], {})
            for r in p["resources"] if not r["type"].startswith("pulumi:providers:")]


def test_crossguard_reads_default_tags_from_providers(captured, topology) -> None:
    """In CrossGuard the service of a role comes from its provider's default tags: with
    the providers every service role is attributed and clean; without them none is."""
    from pulumi_policy import StackValidationArgs

    from policy.crossguard import policies

    pack = {pol.name: pol for pol in policies()}
    seen: list[str] = []
    pack["PS-TOPO-01"].validate(StackValidationArgs(_policy_resources(_fresh(captured)), {}),
                                lambda m, u: seen.append(m))
    assert seen == []
    p = _fresh(captured)
    for r in p["resources"]:
        (r.get("options") or {}).pop("provider", None)
    pack["PS-TOPO-01"].validate(StackValidationArgs(_policy_resources(p), {}),
                                lambda m, u: seen.append(m))
    assert seen and all("has no polystore:system tag" in m for m in seen), seen
