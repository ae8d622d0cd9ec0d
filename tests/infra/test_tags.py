"""Attribution tags: every store's resources, every workload identity, one vocabulary.

system/service/environment come from the provider's default tags (one provider per
service); store, stores, role and link are set on the resource by its component. The
policy pack reads exactly these keys (policy/attribution.py).
"""

from __future__ import annotations

import json
from typing import Any

from infra import common
from tests.infra.conftest import of_type, topology

STORE_TYPES = (
    "aws:dynamodb/table:Table", "aws:rds/cluster:Cluster", "aws:rds/instance:Instance",
    "aws:rds/clusterInstance:ClusterInstance", "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    "aws:rds/parameterGroup:ParameterGroup",
)


def _tags(r: dict[str, Any]) -> dict[str, str]:
    return dict(r["inputs"].get("tags") or {})


def _defaults(result: dict[str, Any], r: dict[str, Any]) -> dict[str, str]:
    """The default tags of the provider a resource is created with."""
    urn = (r.get("options") or {}).get("provider")
    provider = next(p for p in result["resources"] if p["urn"] == urn)
    return dict(json.loads(provider["inputs"]["defaultTags"])["tags"])


def _effective(result: dict[str, Any], r: dict[str, Any]) -> dict[str, str]:
    return {**_defaults(result, r), **_tags(r)}


def test_policy_reads_the_keys_infra_writes() -> None:
    from policy import attribution as a

    for key in ("TAG_SYSTEM", "TAG_SERVICE", "TAG_ENVIRONMENT", "TAG_STORE", "TAG_STORES",
                "TAG_ROLE", "TAG_LINK", "ROLE_SERVICE", "ROLE_CDC_CONNECTOR",
                "ROLE_KAFKA_ADMIN", "ROLE_STREAM_TO_SEARCH", "ROLE_CDC_SINK",
                "ROLE_SEARCH_BOOTSTRAP"):
        assert getattr(common, key) == getattr(a, key), key
    from policy.rules.network import TAG_TIER

    assert common.TAG_TIER == TAG_TIER


def test_providers_carry_system_service_environment(result: dict[str, Any], stack: str) -> None:
    providers = of_type(result, "pulumi:providers:aws")
    assert providers
    systems = set(topology().systems)
    for p in providers:
        tags = json.loads(p["inputs"]["defaultTags"])["tags"]
        assert set(tags) == {common.TAG_SYSTEM, common.TAG_SERVICE, common.TAG_ENVIRONMENT,
                             "managed-by"}, p["name"]
        assert tags[common.TAG_SYSTEM] in systems and tags[common.TAG_ENVIRONMENT] == stack
        services = set(topology().systems[tags[common.TAG_SYSTEM]].services)
        assert tags[common.TAG_SERVICE] in services | {common.SHARED_SERVICE}


def test_every_store_resource_names_its_store_and_owner(result: dict[str, Any]) -> None:
    seen: set[tuple[str, str]] = set()
    for typ in STORE_TYPES:
        for r in of_type(result, typ):
            tags = _effective(result, r)
            system = topology().systems[tags[common.TAG_SYSTEM]]
            store = tags.get(common.TAG_STORE)
            assert store in system.stores, (r["name"], tags)
            assert tags[common.TAG_SERVICE] == system.stores[store].owner, r["name"]
            seen.add((system.name, store))
    expected = {(s.name, n) for s in topology().systems.values()
                for n, st in s.stores.items() if st.kind in ("dynamodb", "postgres")}
    assert seen == expected


def test_database_groups_and_their_rules_are_the_store(result: dict[str, Any]) -> None:
    stores = [r for r in of_type(result, "aws:ec2/securityGroup:SecurityGroup")
              if common.TAG_STORE in _tags(r)]
    assert len(stores) == sum(len(s.postgres_stores()) for s in topology().systems.values())
    ingress = [r for r in of_type(result, "aws:vpc/securityGroupIngressRule:"
                                          "SecurityGroupIngressRule")
               if r["inputs"].get("fromPort") == 5432]
    assert ingress and all(common.TAG_STORE in _tags(r) for r in ingress)


def test_domains_and_clusters_list_the_stores_they_host(result: dict[str, Any]) -> None:
    for typ, kind in (("aws:opensearch/domain:Domain", "search"),
                      ("aws:msk/serverlessCluster:ServerlessCluster", "topic")):
        for r in of_type(result, typ):
            tags = _effective(result, r)
            system = topology().systems[tags[common.TAG_SYSTEM]]
            assert set(tags[common.TAG_STORES].split()) == {
                n for n, s in system.stores.items() if s.kind == kind}, r["name"]


def test_workload_identities_say_what_they_are(result: dict[str, Any]) -> None:
    """Service SGs, roles and task definitions: role=service under their own service;
    a store's setup task: role=db-setup under the store's owner; the Debezium worker's:
    role=cdc-connector; link Lambdas: their role and link."""
    kinds = ("aws:ec2/securityGroup:SecurityGroup", "aws:iam/role:Role",
             "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service")
    by_role: dict[str, set[tuple[str, str]]] = {}
    for typ in kinds:
        for r in of_type(result, typ):
            tags = _effective(result, r)
            role = tags.get(common.TAG_ROLE)
            if role is None:
                continue
            if role == common.ROLE_SERVICE:
                system = topology().systems[tags[common.TAG_SYSTEM]]
                assert tags[common.TAG_SERVICE] in system.services, r["name"]
            elif role == common.ROLE_DB_SETUP:
                system = topology().systems[tags[common.TAG_SYSTEM]]
                assert tags[common.TAG_SERVICE] in {
                    s.owner for s in system.postgres_stores().values()}, r["name"]
            else:
                assert tags[common.TAG_SERVICE] == common.SHARED_SERVICE or tags.get(
                    common.TAG_LINK), r["name"]
            by_role.setdefault(role, set()).add((typ, tags[common.TAG_SYSTEM]))
    for system in topology().systems.values():
        for typ in kinds:
            assert (typ, system.name) in by_role[common.ROLE_SERVICE]
        if system.cdc_links():
            for typ in kinds:
                assert (typ, system.name) in by_role[common.ROLE_CDC_CONNECTOR], typ
            assert ("aws:iam/role:Role", system.name) in by_role[common.ROLE_CDC_SINK]
        if system.stream_links():
            assert ("aws:iam/role:Role", system.name) in by_role[common.ROLE_STREAM_TO_SEARCH]
        if system.postgres_stores():
            for typ in kinds:
                assert (typ, system.name) in by_role[common.ROLE_DB_SETUP], typ
    services = {(r["inputs"]["tags"].get(common.TAG_ROLE), r["name"])
                for r in of_type(result, "aws:ecs/taskDefinition:TaskDefinition")}
    assert all(role for role, _ in services)
