"""One mutation per rule: applied to a compliant preview it must break exactly that rule.

Each entry: rule id → (system, mutate(resources-by-type helper)). Systems are chosen so
the resource kind exists (tcgstore: RDS instance, OpenSearch, streams; bellyfed: Aurora,
CDC; inventory: provisioned table with TTL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Res = dict[str, Any]


def first(preview: dict[str, Any], type_: str, pred: Callable[[Res], bool] = lambda r: True) -> Res:
    return next(r for r in preview["resources"] if r["type"] == type_ and pred(r))


def inputs(preview: dict[str, Any], type_: str, pred: Callable[[Res], bool] = lambda r: True
           ) -> dict[str, Any]:
    return first(preview, type_, pred)["inputs"]


def _containers(p: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> None:
    i = inputs(p, "aws:ecs/taskDefinition:TaskDefinition")
    defs = json.loads(i["containerDefinitions"])
    change(defs[0])
    i["containerDefinitions"] = json.dumps(defs)


def _policy(p: dict[str, Any], statement: dict[str, Any], svc_tag: str | None = None) -> None:
    pol = inputs(p, "aws:iam/rolePolicy:RolePolicy",
                 lambda r: svc_tag is None or svc_tag in r["inputs"]["role"])
    doc = json.loads(pol["policy"])
    doc["Statement"].append(statement)
    pol["policy"] = json.dumps(doc)


CLUSTER, INST, RDS = "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance", \
    "aws:rds/instance:Instance"
TABLE, DOMAIN, SG = "aws:dynamodb/table:Table", "aws:opensearch/domain:Domain", \
    "aws:ec2/securityGroup:SecurityGroup"
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/"


def _set(type_: str, key: str, value: Any, pred: Callable[[Res], bool] = lambda r: True):
    def mutate(p: dict[str, Any]) -> None:
        cur = inputs(p, type_, pred)
        *path, last = key.split(".")
        for part in path:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        if value is DELETE:
            cur.pop(last, None)
        else:
            cur[int(last) if isinstance(cur, list) else last] = value
    return mutate


DELETE = object()
ORDERS = lambda r: r["inputs"].get("name") == "tcgstore-prod-Orders"  # noqa: E731

MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "PS-RDS-01": ("tcgstore", _set(RDS, "kmsKeyId", DELETE)),
    "PS-RDS-02": ("bellyfed", _set(INST, "publiclyAccessible", True)),
    "PS-RDS-03": ("tcgstore", _set(RDS, "backupRetentionPeriod", 3)),
    "PS-RDS-04": ("bellyfed", _set(INST, "availabilityZone", "us-east-1b")),
    "PS-RDS-05": ("bellyfed", _set(CLUSTER, "deletionProtection", False)),
    "PS-RDS-06": ("tcgstore", _set(RDS, "skipFinalSnapshot", True)),
    "PS-RDS-07": ("bellyfed", _set(CLUSTER, "iamDatabaseAuthenticationEnabled", False)),
    "PS-RDS-08": ("tcgstore", _set(RDS, "enabledCloudwatchLogsExports", ["upgrade"])),
    "PS-RDS-09": ("bellyfed", _set(INST, "monitoringInterval", 0)),
    "PS-RDS-10": ("tcgstore", _set(RDS, "performanceInsightsKmsKeyId", DELETE)),
    "PS-RDS-11": ("bellyfed", _set(INST, "autoMinorVersionUpgrade", False)),
    "PS-RDS-12": ("bellyfed", _set(CLUSTER, "copyTagsToSnapshot", False)),
    "PS-RDS-13": ("bellyfed", _set("aws:rds/clusterParameterGroup:ClusterParameterGroup",
                                   "parameters", [{"name": "rds.force_ssl", "value": "0"}])),
    "PS-RDS-14": ("tcgstore", _set(RDS, "password", "hunter2")),
    "PS-RDS-15": ("tcgstore", _set("aws:backup/selection:Selection", "resources", [ARN + "x"])),
    "PS-DDB-01": ("inventory", _set(TABLE, "pointInTimeRecovery.enabled", False)),
    "PS-DDB-02": ("tcgstore", _set(TABLE, "serverSideEncryption.kmsKeyArn", DELETE)),
    "PS-DDB-03": ("tcgstore", _set(TABLE, "deletionProtectionEnabled", False)),
    "PS-DDB-04": ("tcgstore", lambda p: p["resources"].remove(first(
        p, "aws:appautoscaling/target:Target"))),
    "PS-DDB-05": ("tcgstore", _set(TABLE, "streamViewType", "KEYS_ONLY")),
    "PS-DDB-06": ("inventory", _set(TABLE, "ttl.attributeName", "Other")),
    "PS-DDB-07": ("inventory", _set("aws:backup/selection:Selection", "resources", [])),
    "PS-OS-01": ("tcgstore", _set(DOMAIN, "vpcOptions", DELETE)),
    "PS-OS-02": ("tcgstore", _set(DOMAIN, "encryptAtRest.enabled", False)),
    "PS-OS-03": ("tcgstore", _set(DOMAIN, "nodeToNodeEncryption.enabled", False)),
    "PS-OS-04": ("tcgstore", _set(DOMAIN, "domainEndpointOptions.tlsSecurityPolicy",
                                  "Policy-Min-TLS-1-0-2019-07")),
    "PS-OS-05": ("tcgstore", _set(DOMAIN, "advancedSecurityOptions.enabled", False)),
    "PS-OS-06": ("tcgstore", _set(DOMAIN, "advancedSecurityOptions.anonymousAuthEnabled", True)),
    "PS-OS-07": ("tcgstore", _set(DOMAIN, "clusterConfig.dedicatedMasterCount", 2)),
    "PS-OS-08": ("tcgstore", _set(DOMAIN, "clusterConfig.zoneAwarenessEnabled", False)),
    "PS-OS-09": ("tcgstore", _set(DOMAIN, "logPublishingOptions", [])),
    "PS-MSK-01": ("tcgstore", _set("aws:msk/serverlessCluster:ServerlessCluster",
                                   "clientAuthentication.sasl.iam.enabled", False)),
    "PS-MSK-02": ("tcgstore", _set("aws:msk/serverlessCluster:ServerlessCluster", "vpcConfigs",
                                   [{"subnetIds": ["tcgstore-public-a"]}])),
    "PS-SEC-01": ("tcgstore", _set("aws:secretsmanager/secret:Secret", "description", "")),
    "PS-SEC-02": ("tcgstore", lambda p: p["resources"].remove(first(
        p, "aws:secretsmanager/secretRotation:SecretRotation"))),
    "PS-KMS-01": ("tcgstore", _set("aws:kms/key:Key", "enableKeyRotation", False)),
    "PS-KMS-02": ("tcgstore", _set("aws:kms/key:Key", "policy", json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}))),
    "PS-BAK-01": ("tcgstore", _set("aws:backup/vault:Vault", "kmsKeyArn", DELETE)),
    "PS-BAK-02": ("tcgstore", _set("aws:backup/plan:Plan", "rules.2.lifecycle.deleteAfter", 90)),
    "PS-NET-01": ("tcgstore", lambda p: inputs(p, SG)["ingress"].append(
        {"description": "web", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]})),
    "PS-NET-02": ("tcgstore", lambda p: inputs(p, SG, lambda r: "polystore:store" in r[
        "inputs"]["tags"])["ingress"].append({"description": "vpc", "fromPort": 5432,
                                               "toPort": 5432, "cidrBlocks": ["10.0.0.0/16"]})),
    "PS-NET-03": ("tcgstore", _set(SG, "egress.0.description", "")),
    "PS-NET-04": ("tcgstore", lambda p: p["resources"].remove(first(p, "aws:ec2/flowLog:FlowLog"))),
    "PS-NET-05": ("tcgstore", _set("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "egress",
                                   [{"cidrBlocks": ["0.0.0.0/0"], "description": "all"}])),
    "PS-NET-06": ("tcgstore", _set("aws:ec2/subnet:Subnet", "mapPublicIpOnLaunch", True,
                                   lambda r: r["inputs"]["tags"]["polystore:tier"] == "private")),
    "PS-NET-07": ("tcgstore", lambda p: inputs(p, SG, lambda r: "polystore:role" in r[
        "inputs"]["tags"])["egress"].append({"description": "all", "protocol": "-1",
                                              "fromPort": 0, "toPort": 0,
                                              "cidrBlocks": ["0.0.0.0/0"]})),
    "PS-ECS-01": ("tcgstore", lambda p: _containers(p, lambda c: c["environment"].append(
        {"name": "PGPASSWORD", "value": "hunter2"}))),
    "PS-ECS-02": ("tcgstore", lambda p: inputs(p, "aws:ecs/taskDefinition:TaskDefinition").update(
        executionRoleArn=inputs(p, "aws:ecs/taskDefinition:TaskDefinition")["taskRoleArn"])),
    "PS-ECS-03": ("tcgstore", lambda p: _containers(p, lambda c: c.update(privileged=True))),
    "PS-ECS-04": ("tcgstore", lambda p: _containers(p, lambda c: c.pop("readonlyRootFilesystem"))),
    "PS-ECS-05": ("tcgstore", _set("aws:ecs/service:Service", "networkConfiguration.assignPublicIp",
                                   True)),
    "PS-ECS-06": ("tcgstore", lambda p: _containers(p, lambda c: c.pop("logConfiguration"))),
    "PS-ECS-07": ("tcgstore", _set("aws:ecs/cluster:Cluster", "settings", [])),
    "PS-LMB-01": ("tcgstore", _set("aws:lambda/eventSourceMapping:EventSourceMapping",
                                   "maximumRetryAttempts", -1)),
    "PS-IAM-01": ("tcgstore", lambda p: _policy(p, {"Effect": "Allow", "Action": "*",
                                                     "Resource": "*"})),
    "PS-LMB-02": ("tcgstore", _set("aws:lambda/permission:Permission", "sourceArn", DELETE)),
    "PS-LOG-01": ("tcgstore", _set("aws:cloudwatch/logGroup:LogGroup", "retentionInDays", 30)),
    "PS-TOPO-01": ("tcgstore", lambda p: _policy(p, {
        "Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": ARN + "tcgstore-prod-Payments"}, svc_tag="-order-task")),
    "PS-TOPO-02": ("tcgstore", lambda p: inputs(p, SG, lambda r: "polystore:store" in r[
        "inputs"]["tags"])["ingress"].append({"description": "catalog", "fromPort": 5432,
                                               "toPort": 5432,
                                               "securityGroups": ["tcgstore-catalog-sg"]})),
    "PS-TOPO-03": ("tcgstore", lambda p: p["resources"].remove(first(p, TABLE, ORDERS))),
    "PS-TOPO-04": ("tcgstore", _set(TABLE, "pointInTimeRecovery.enabled", False, ORDERS)),
    "PS-TOPO-05": ("tcgstore", _set(TABLE, "globalSecondaryIndexes", [], ORDERS)),
}
