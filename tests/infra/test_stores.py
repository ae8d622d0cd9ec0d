"""Every store of the topology has its resources, with the environment's properties."""

from __future__ import annotations

import json
from typing import Any

from infra.config import read_stack_values, settings_from_values
from polystore.naming import store_physical_name
from tests.infra.conftest import of_type, topology


def test_every_dynamodb_store_is_a_table_as_declared(result: dict[str, Any], stack: str,
                                                     profile: Any) -> None:
    tables = {t["inputs"]["name"]: t["inputs"] for t in of_type(result, "aws:dynamodb/table:Table")}
    for system in topology().systems.values():
        for name, store in system.dynamodb_stores().items():
            t = tables[store_physical_name(system, stack, name)]
            assert t["hashKey"] == store.key.hash and t.get("rangeKey") == store.key.range
            assert {g["name"] for g in t.get("globalSecondaryIndexes", [])} == set(
                store.global_indexes)
            assert {i["name"] for i in t.get("localSecondaryIndexes", [])} == set(
                store.local_indexes)
            assert t["pointInTimeRecovery"] == {"enabled": store.pitr}
            assert t["serverSideEncryption"]["enabled"] is True
            assert t["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")
            assert t["deletionProtectionEnabled"] is (
                store.deletion_protection and profile.table_deletion_protection)
            assert t["streamEnabled"] is bool(store.stream)
            if store.ttl:
                assert t["ttl"] == {"enabled": True, "attributeName": store.ttl}
            assert t["billingMode"] == ("PROVISIONED" if store.billing == "provisioned"
                                        else "PAY_PER_REQUEST")
    assert len(tables) == sum(len(s.dynamodb_stores()) for s in topology().systems.values())


def test_provisioned_tables_autoscale(result: dict[str, Any], stack: str) -> None:
    targets = {t["inputs"]["resourceId"]
               for t in of_type(result, "aws:appautoscaling/target:Target")
               if t["inputs"]["serviceNamespace"] == "dynamodb"}
    for system in topology().systems.values():
        for name, store in system.dynamodb_stores().items():
            if store.billing == "provisioned":
                assert f"table/{store_physical_name(system, stack, name)}" in targets


def _db(result: dict[str, Any], identifier: str) -> tuple[str, dict[str, Any]]:
    for typ, key in (("aws:rds/cluster:Cluster", "clusterIdentifier"),
                     ("aws:rds/instance:Instance", "identifier")):
        for r in of_type(result, typ):
            if r["inputs"][key] == identifier:
                return typ, r["inputs"]
    raise AssertionError(f"no cluster or instance {identifier}")


def test_every_postgres_store_is_a_database_for_the_environment(
        result: dict[str, Any], stack: str, profile: Any) -> None:
    instances = of_type(result, "aws:rds/clusterInstance:ClusterInstance")
    for system in topology().systems.values():
        for name, store in system.postgres_stores().items():
            ident = f"{system.name}-{stack}-{name}"
            typ, db = _db(result, ident)
            aurora = store.engine_for(stack) == "aurora-postgresql"
            assert typ == ("aws:rds/cluster:Cluster" if aurora else "aws:rds/instance:Instance")
            assert db["storageEncrypted"] is True and db["kmsKeyId"].startswith("arn:aws:kms")
            assert db["manageMasterUserPassword"] is True and "masterPassword" not in db
            assert db["iamDatabaseAuthenticationEnabled"] is True
            assert db["enabledCloudwatchLogsExports"] == ["postgresql"]
            assert db["copyTagsToSnapshot"] is True
            assert db["backupRetentionPeriod"] == profile.backup_retention_days
            assert db["deletionProtection"] is profile.deletion_protection
            assert db["skipFinalSnapshot"] is (not profile.final_snapshot)
            if aurora:
                mine = [i["inputs"] for i in instances
                        if i["inputs"]["identifier"].startswith(ident + "-")]
                readers = max(store.read_replicas_for(stack), profile.aurora_min_readers)
                assert len(mine) == 1 + readers
                assert db["serverlessv2ScalingConfiguration"]["minCapacity"] == \
                    profile.aurora_min_acu
                # Pinned round-robin over the environment's AZs: distinct while they last.
                zones = [inst.get("availabilityZone") for inst in mine]
                azs = settings_from_values(stack, read_stack_values(stack)).zones()
                assert all(z in azs for z in zones), zones
                assert len(set(zones)) == min(len(mine), profile.az_count), zones
                for inst in mine:
                    assert inst["performanceInsightsEnabled"] is True
                    assert inst["performanceInsightsKmsKeyId"].startswith("arn:aws:kms")
                    assert inst["publiclyAccessible"] is False
            else:
                assert db["multiAz"] is profile.rds_multi_az
                assert db["performanceInsightsKmsKeyId"].startswith("arn:aws:kms")


def test_parameter_groups_force_tls_and_enable_replication_on_cdc_sources(
        result: dict[str, Any], stack: str) -> None:
    groups = of_type(result, "aws:rds/clusterParameterGroup:ClusterParameterGroup") + \
        of_type(result, "aws:rds/parameterGroup:ParameterGroup")
    by_name = {g["name"]: {p["name"]: p["value"] for p in g["inputs"]["parameters"]}
               for g in groups}
    for system in topology().systems.values():
        for name in system.postgres_stores():
            params = by_name[f"{system.name}-{name}-params"]
            assert params["rds.force_ssl"] == "1"
            assert "pg_stat_statements" in params["shared_preload_libraries"]
            assert (params.get("rds.logical_replication") == "1") is (
                name in system.cdc_sources())


def test_search_domain_and_index_bodies_come_from_the_topology(
        result: dict[str, Any], stack: str, profile: Any) -> None:
    domains = of_type(result, "aws:opensearch/domain:Domain")
    invocations = {json.loads(i["inputs"]["input"])["indexes"][0]["name"]:
                   json.loads(i["inputs"]["input"])["indexes"][0]
                   for i in of_type(result, "aws:lambda/invocation:Invocation")}
    with_search = [s for s in topology().systems.values() if s.search_stores()]
    assert len(domains) == len(with_search)
    for d in domains:
        cc = d["inputs"]["clusterConfig"]
        assert cc["dedicatedMasterEnabled"] is (profile.search_dedicated_masters > 0)
        assert cc["zoneAwarenessEnabled"] is profile.search_zone_awareness
        assert d["inputs"]["nodeToNodeEncryption"] == {"enabled": True}
        assert d["inputs"]["domainEndpointOptions"]["enforceHttps"] is True
        assert d["inputs"]["advancedSecurityOptions"]["enabled"] is True
    for system in with_search:
        for name, store in system.search_stores().items():
            spec = invocations[store_physical_name(system, stack, name)]
            assert spec["body"] == json.loads(json.dumps(store.body()))


def test_topics_have_a_broker_and_are_created_with_their_partitions(
        result: dict[str, Any], stack: str) -> None:
    clusters = of_type(result, "aws:msk/serverlessCluster:ServerlessCluster")
    assert len(clusters) == sum(1 for s in topology().systems.values() if s.topic_stores())
    for c in clusters:
        assert c["inputs"]["clientAuthentication"]["sasl"]["iam"]["enabled"] is True
    commands = " ".join(
        json.dumps(json.loads(t["inputs"]["containerDefinitions"]))
        for t in of_type(result, "aws:ecs/taskDefinition:TaskDefinition")
        if t["inputs"]["family"].endswith("-kafka-admin"))
    for system in topology().systems.values():
        for name, t in system.topic_stores().items():
            assert (f"--topic {store_physical_name(system, stack, name)} "
                    f"--partitions {t.partitions}") in commands


def test_backups_cover_every_store_with_the_profile_rules(
        result: dict[str, Any], stack: str, profile: Any) -> None:
    selected = {arn for s in of_type(result, "aws:backup/selection:Selection")
                for arn in s["inputs"]["resources"]}
    for t in of_type(result, "aws:dynamodb/table:Table"):
        assert any(a.endswith(f":table/{t['inputs']['name']}") for a in selected)
    for c in of_type(result, "aws:rds/cluster:Cluster"):
        assert any(a.endswith(f":cluster:{c['inputs']['clusterIdentifier']}") for a in selected)
    for i in of_type(result, "aws:rds/instance:Instance"):
        assert any(a.endswith(f":db:{i['inputs']['identifier']}") for a in selected)
    for plan in of_type(result, "aws:backup/plan:Plan"):
        rules = {r["ruleName"]: r for r in plan["inputs"]["rules"]}
        assert {n: r["lifecycle"]["deleteAfter"] for n, r in rules.items()} == {
            r.name: r.delete_after_days for r in profile.backup_rules}
        assert all(bool(r.get("copyActions")) is profile.cross_region_copy
                   for r in rules.values())
