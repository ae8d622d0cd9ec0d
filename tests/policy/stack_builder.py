"""A hand-built, compliant preview of one system in one environment.

Shaped like ``infra.preview.run_preview`` output (pulumi-aws 7.51.1 input names) and read
from the topology, so every store, key and index comes from stacks/<system>.yaml. Tests
mutate it to break exactly one rule.
"""

from __future__ import annotations

import json
from typing import Any

from polystore.naming import service_role_name, store_physical_name
from polystore.topology.model import DynamoStore, PostgresStore, System

ACCOUNT, REGION = "123456789012", "us-east-1"
STREAM_VIEW = {"new-image": "NEW_IMAGE", "old-image": "OLD_IMAGE",
               "new-and-old-images": "NEW_AND_OLD_IMAGES", "keys-only": "KEYS_ONLY"}


class Builder:
    def __init__(self, system: System, env: str) -> None:
        self.system, self.env = system, env
        self.resources: list[dict[str, Any]] = []

    def add(self, type_: str, name: str, inputs: dict[str, Any], **tags: str) -> dict[str, Any]:
        base = {"polystore:system": self.system.name, "polystore:environment": self.env}
        base.update({f"polystore:{k}": v for k, v in tags.items()})
        if "tags" not in inputs and not type_.startswith(("aws:iam/rolePolicy", "aws:ec2/flowLog",
                                                           "aws:lambda/", "aws:backup/selection",
                                                           "aws:rds/clusterInstance",
                                                           "aws:secretsmanager/secretRotation",
                                                           "aws:appautoscaling",
                                                           "aws:kms/keyPolicy")):
            inputs["tags"] = base
        r = {"urn": f"urn:pulumi:{self.env}::polystore::{type_}::{name}", "type": type_,
             "name": name, "parent": None, "custom": True, "inputs": inputs, "options": {}}
        self.resources.append(r)
        return r

    def arn(self, service: str, rest: str) -> str:
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{rest}"


def build(system: System, env: str) -> dict[str, Any]:
    b = Builder(system, env)
    s = system.name
    key = b.arn("kms", f"key/{s}-data")
    b.add("aws:kms/key:Key", f"{s}-data-key", {
        "description": "data", "enableKeyRotation": True,
        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:*",
                                             "Resource": "*", "Principal": {
                                                 "AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]})})
    b.add("aws:ec2/vpc:Vpc", f"{s}-vpc", {"cidrBlock": "10.0.0.0/16", "name": f"{s}-vpc"})
    for tier, public in (("public", True), ("private", False), ("isolated", False)):
        b.add("aws:ec2/subnet:Subnet", f"{s}-{tier}-a", {"vpcId": f"{s}-vpc",
              "cidrBlock": "10.0.1.0/24", "mapPublicIpOnLaunch": public}, tier=tier)
    b.add("aws:ec2/flowLog:FlowLog", f"{s}-flow", {"vpcId": f"{s}-vpc", "trafficType": "ALL"})
    b.add("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", f"{s}-default-sg",
          {"vpcId": f"{s}-vpc", "ingress": [], "egress": []})
    b.add("aws:ecs/cluster:Cluster", f"{s}-cluster",
          {"settings": [{"name": "containerInsights", "value": "enabled"}]})
    egress = [{"description": "to AWS endpoints", "protocol": "tcp", "fromPort": 443,
               "toPort": 443, "cidrBlocks": ["10.0.0.0/16"]}]
    for svc in system.services:
        b.add("aws:ec2/securityGroup:SecurityGroup", f"{s}-{svc}-sg",
              {"name": f"{s}-{svc}-sg", "description": f"{svc} tasks", "egress": egress,
               "ingress": []}, service=svc, role="service")
        b.add("aws:iam/role:Role", f"{s}-{svc}-task", {"name": f"{s}-{env}-{svc}-task"},
              service=svc, role="service")
        b.add("aws:iam/role:Role", f"{s}-{svc}-exec", {"name": f"{s}-{env}-{svc}-exec"},
              service=svc, role="service")
        b.add("aws:iam/rolePolicy:RolePolicy", f"{s}-{svc}-data", {
            "role": f"{s}-{env}-{svc}-task",
            "policy": json.dumps({"Statement": _grants(b, system, env, svc)})})
        container = {"name": svc, "image": f"{s}/{svc}", "readonlyRootFilesystem": True,
                     "environment": [{"name": "PGSSLMODE", "value": "require"}],
                     "secrets": [{"name": "PGPASSWORD", "valueFrom": b.arn(
                         "secretsmanager", f"secret:{s}-{svc}")}],
                     "logConfiguration": {"logDriver": "awslogs", "options": {}}}
        b.add("aws:ecs/taskDefinition:TaskDefinition", f"{s}-{svc}-task", {
            "family": f"{s}-{svc}", "containerDefinitions": json.dumps([container]),
            "taskRoleArn": b.arn("iam", f"role/{s}-{env}-{svc}-task").replace(REGION, ""),
            "executionRoleArn": b.arn("iam", f"role/{s}-{env}-{svc}-exec").replace(REGION, "")},
              service=svc, role="service")
        b.add("aws:ecs/service:Service", f"{s}-{svc}", {"networkConfiguration": {
            "assignPublicIp": False, "subnets": [f"{s}-private-a"]}}, service=svc)
        b.add("aws:secretsmanager/secret:Secret", f"{s}-{svc}-secret", {
            "name": f"{s}-{svc}", "kmsKeyId": key, "description": f"{svc} app secret"},
              service=svc)
        b.add("aws:secretsmanager/secretRotation:SecretRotation", f"{s}-{svc}-rotation", {
            "secretId": f"{s}-{svc}", "rotationRules": {"automaticallyAfterDays": 30}})
    backup: list[str] = []
    for name, spec in system.stores.items():
        phys = store_physical_name(system, env, name)
        if isinstance(spec, DynamoStore):
            backup.append(_table(b, name, spec, phys, key))
        elif isinstance(spec, PostgresStore):
            backup.append(_postgres(b, name, spec, key, egress))
    if system.search_stores():
        b.add("aws:opensearch/domain:Domain", f"{s}-search", {
            "domainName": f"{s}-{env}", "vpcOptions": {"subnetIds": [f"{s}-private-a"],
                                                        "securityGroupIds": []},
            "encryptAtRest": {"enabled": True, "kmsKeyId": key},
            "nodeToNodeEncryption": {"enabled": True},
            "domainEndpointOptions": {"enforceHttps": True,
                                      "tlsSecurityPolicy": "Policy-Min-TLS-1-2-2019-07"},
            "advancedSecurityOptions": {"enabled": True, "anonymousAuthEnabled": False},
            "clusterConfig": {"dedicatedMasterEnabled": True, "dedicatedMasterCount": 3,
                              "zoneAwarenessEnabled": True},
            "logPublishingOptions": [{"logType": t, "cloudwatchLogGroupArn": b.arn(
                "logs", f"log-group:{s}-{t}")} for t in
                ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS")]},
              stores=" ".join(sorted(system.search_stores())))
    if system.topic_stores():
        b.add("aws:msk/serverlessCluster:ServerlessCluster", f"{s}-kafka", {
            "clusterName": f"{s}-{env}",
            "clientAuthentication": {"sasl": {"iam": {"enabled": True}}},
            "vpcConfigs": [{"subnetIds": [f"{s}-private-a"], "securityGroupIds": []}]},
              stores=" ".join(sorted(system.topic_stores())))
    for link_name, link in system.cdc_links().items():
        b.add("aws:ec2/securityGroup:SecurityGroup", f"{s}-{link_name}-connector-sg", {
            "name": f"{s}-{link_name}-connector-sg", "description": "CDC connector",
            "egress": egress}, role="cdc-connector")
        b.add("aws:mskconnect/connector:Connector", f"{s}-{link_name}", {
            "kafkaClusterClientAuthentication": {"authenticationType": "IAM"},
            "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
            "kafkaCluster": {"apacheKafkaCluster": {"vpc": {"subnets": [f"{s}-private-a"]}}}})
        sg = next(r for r in b.resources if r["inputs"].get("tags", {}).get("polystore:store")
                  == link.source and r["type"] == "aws:ec2/securityGroup:SecurityGroup")
        sg["inputs"]["ingress"].append({"description": "CDC connector", "protocol": "tcp",
                                        "fromPort": 5432, "toPort": 5432,
                                        "securityGroups": [f"{s}-{link_name}-connector-sg"]})
    for link_name, link in system.stream_links().items():
        phys = store_physical_name(system, env, link.source)
        b.add("aws:lambda/function:Function", f"{s}-{link_name}", {
            "environment": {"variables": {"OPENSEARCH_URL": "https://search"}}})
        b.add("aws:lambda/eventSourceMapping:EventSourceMapping", f"{s}-{link_name}-esm", {
            "eventSourceArn": b.arn("dynamodb", f"table/{phys}/stream/2024-01-01T00:00:00.000"),
            "startingPosition": "LATEST", "bisectBatchOnFunctionError": True,
            "maximumRetryAttempts": 3, "destinationConfig": {"onFailure": {
                "destinationArn": b.arn("sqs", f"{s}-{link_name}-dlq")}}})
        b.add("aws:cloudwatch/logGroup:LogGroup", f"{s}-{link_name}-logs",
              {"retentionInDays": 400, "kmsKeyId": key})
        b.add("aws:lambda/permission:Permission", f"{s}-{link_name}-invoke", {
            "action": "lambda:InvokeFunction", "principal": "events.amazonaws.com",
            "sourceArn": b.arn("events", f"rule/{s}")})
    b.add("aws:backup/vault:Vault", f"{s}-vault", {"name": f"{s}-{env}", "kmsKeyArn": key})
    b.add("aws:backup/plan:Plan", f"{s}-plan", {"name": f"{s}-{env}", "rules": [
        {"ruleName": "daily", "targetVaultName": f"{s}-{env}", "schedule": "cron(0 5 * * ? *)",
         "lifecycle": {"deleteAfter": 35},
         "copyActions": [{"destinationVaultArn": b.arn("backup", "backup-vault:dr").replace(
             REGION, "us-west-2"), "lifecycle": {"deleteAfter": 35}}]},
        {"ruleName": "weekly", "targetVaultName": f"{s}-{env}", "schedule": "cron(0 5 ? * SUN *)",
         "lifecycle": {"deleteAfter": 90}},
        {"ruleName": "monthly", "targetVaultName": f"{s}-{env}", "schedule": "cron(0 5 1 * ? *)",
         "lifecycle": {"deleteAfter": 400}}]})
    b.add("aws:backup/selection:Selection", f"{s}-selection", {
        "name": f"{s}-{env}", "planId": f"{s}-plan", "resources": backup,
        "iamRoleArn": b.arn("iam", "role/backup").replace(REGION, "")})
    return {"stack": f"{s}-{env}", "project": "polystore", "resources": b.resources,
            "outputs": {}}


def _grants(b: Builder, system: System, env: str, svc: str) -> list[dict[str, Any]]:
    out = []
    for name, spec in system.stores_of(svc).items():
        phys = store_physical_name(system, env, name)
        if spec.kind == "dynamodb":
            out.append({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                        "Resource": [b.arn("dynamodb", f"table/{phys}"),
                                     b.arn("dynamodb", f"table/{phys}/index/*")]})
        elif spec.kind == "postgres":
            out.append({"Effect": "Allow", "Action": "rds-db:connect", "Resource": b.arn(
                "rds-db", f"dbuser:cluster-{name}/{service_role_name(system, svc)}")})
        elif spec.kind == "topic":
            out.append({"Effect": "Allow", "Action": "kafka-cluster:WriteData",
                        "Resource": b.arn("kafka", f"topic/{system.name}-{env}/uuid/{phys}")})
    return out or [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]


def _table(b: Builder, name: str, spec: DynamoStore, phys: str, key: str) -> str:
    inputs: dict[str, Any] = {
        "name": phys, "hashKey": spec.key.hash, "rangeKey": spec.key.range,
        "attributes": [{"name": a, "type": t} for a, t in spec.attributes.items()],
        "billingMode": "PROVISIONED" if spec.billing == "provisioned" else "PAY_PER_REQUEST",
        "globalSecondaryIndexes": [{"name": n, "hashKey": g.hash, "rangeKey": g.range,
                                    "projectionType": g.projection.upper().replace("-", "_")}
                                   for n, g in spec.global_indexes.items()],
        "localSecondaryIndexes": [{"name": n, "rangeKey": li.range, "projectionType": "ALL"}
                                  for n, li in spec.local_indexes.items()],
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": key},
        "deletionProtectionEnabled": True,
    }
    if spec.stream:
        inputs.update(streamEnabled=True, streamViewType=STREAM_VIEW[spec.stream])
    if spec.ttl:
        inputs["ttl"] = {"enabled": True, "attributeName": spec.ttl}
    b.add("aws:dynamodb/table:Table", f"{b.system.name}-{name}", inputs, store=name,
          service=spec.owner)
    if spec.billing == "provisioned":
        ids = [f"table/{phys}"] + [f"table/{phys}/index/{g}" for g in spec.global_indexes]
        for rid in ids:
            kind = "index" if "/index/" in rid else "table"
            for op in ("Read", "Write"):
                b.add("aws:appautoscaling/target:Target", f"{rid}-{op}".replace("/", "-"), {
                    "serviceNamespace": "dynamodb", "resourceId": rid,
                    "scalableDimension": f"dynamodb:{kind}:{op}CapacityUnits",
                    "minCapacity": 5, "maxCapacity": 100})
    return b.arn("dynamodb", f"table/{phys}")


def _postgres(b: Builder, name: str, spec: PostgresStore, key: str,
              egress: list[dict[str, Any]]) -> str:
    s, env = b.system.name, b.env
    ident = f"{s}-{env}-{name}"
    b.add("aws:ec2/securityGroup:SecurityGroup", f"{s}-{name}-sg", {
        "name": f"{s}-{name}-sg", "description": f"{name} database", "egress": egress,
        "ingress": [{"description": f"from {spec.owner}", "protocol": "tcp", "fromPort": 5432,
                     "toPort": 5432, "securityGroups": [f"{s}-{spec.owner}-sg"]}]},
          store=name, service=spec.owner)
    common = {
        "storageEncrypted": True, "kmsKeyId": key, "backupRetentionPeriod": 35,
        "deletionProtection": True, "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": f"{ident}-final", "iamDatabaseAuthenticationEnabled": True,
        "enabledCloudwatchLogsExports": ["postgresql"], "copyTagsToSnapshot": True,
        "manageMasterUserPassword": True, "masterUserSecretKmsKeyId": key,
        "vpcSecurityGroupIds": [f"{s}-{name}-sg"],
    }
    instance = {"monitoringInterval": 60, "monitoringRoleArn": "arn:aws:iam::1:role/mon",
                "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": key,
                "publiclyAccessible": False}
    if spec.engine_for(env) == "aurora-postgresql":
        b.add("aws:rds/clusterParameterGroup:ClusterParameterGroup", f"{ident}-pg", {
            "name": f"{ident}-pg", "family": "aurora-postgresql16",
            "parameters": [{"name": "rds.force_ssl", "value": "1"}]})
        b.add("aws:rds/cluster:Cluster", f"{s}-{name}", {
            **common, "clusterIdentifier": ident, "engine": "aurora-postgresql",
            "databaseName": spec.database, "dbClusterParameterGroupName": f"{ident}-pg"},
              store=name, service=spec.owner)
        for i, az in enumerate(("us-east-1a", "us-east-1b")):
            b.add("aws:rds/clusterInstance:ClusterInstance", f"{s}-{name}-{i}", {
                **instance, "clusterIdentifier": ident, "availabilityZone": az,
                "instanceClass": "db.serverless"})
        return b.arn("rds", f"cluster:{ident}")
    b.add("aws:rds/parameterGroup:ParameterGroup", f"{ident}-pg", {
        "name": f"{ident}-pg", "family": "postgres16",
        "parameters": [{"name": "rds.force_ssl", "value": "1"}]})
    b.add("aws:rds/instance:Instance", f"{s}-{name}", {
        **common, **instance, "identifier": ident, "engine": "postgres", "dbName": spec.database,
        "multiAz": True, "parameterGroupName": f"{ident}-pg"}, store=name, service=spec.owner)
    return b.arn("rds", f"db:{ident}")
