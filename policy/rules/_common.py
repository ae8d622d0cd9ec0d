"""Helpers several rule groups share: policy statements, backup coverage, type tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policy.attribution import arn_targets, references
from policy.model import Resource, StackContext, UnknownValue, as_list, is_unknown, parse_json

# Pulumi type tokens of the resources the rules inspect.
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER_PG = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_PG = "aws:rds/parameterGroup:ParameterGroup"
DDB_TABLE = "aws:dynamodb/table:Table"
AUTOSCALING_TARGET = "aws:appautoscaling/target:Target"
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
MSK_SERVERLESS = "aws:msk/serverlessCluster:ServerlessCluster"
MSK_CONNECTOR = "aws:mskconnect/connector:Connector"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ECS_TASK = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
LAMBDA_ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def statements(document: Any, what: str) -> list[dict[str, Any]]:
    """The statements of an IAM/KMS policy given as JSON text or a dict."""
    doc = parse_json(document, what)
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def policy_documents(r: Resource) -> Iterator[tuple[str, Any]]:
    """(label, document) of every policy a resource carries (inline policies included)."""
    if r.type in (IAM_ROLE_POLICY, IAM_POLICY):
        yield "policy", r.inputs.get("policy")
    elif r.type == IAM_ROLE:
        for i, inline in enumerate(as_list(r.inputs.get("inlinePolicies"))):
            if isinstance(inline, dict):
                yield f"inlinePolicies.{i}.policy", inline.get("policy")


def listed(value: Any) -> list[str]:
    """An Action/Resource field: a string or a list of strings."""
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def covered_by_backup(r: Resource, ctx: StackContext) -> bool:
    """Is the resource selected by some AWS Backup selection (by ARN, name or tag)?

    Raises UnknownValue when a selection's resources are computed and none matched.
    """
    unknown: str | None = None
    tags = r.tags()
    for sel in ctx.of_type(BACKUP_SELECTION):
        resources = sel.inputs.get("resources")
        if is_unknown(resources):
            unknown = f"{sel.name}.resources"
            resources = []
        for ref in resources or []:
            if is_unknown(ref):
                unknown = f"{sel.name}.resources"
                continue
            if ref == "*" or references(ref, r) or _arn_names(ref, r):
                return True
        for t in as_list(sel.inputs.get("selectionTags")):
            if isinstance(t, dict) and tags.get(str(t.get("key"))) == str(t.get("value")):
                return True
    if unknown:
        raise UnknownValue(unknown)
    return False


def _arn_names(arn: str, r: Resource) -> bool:
    names = {r.inputs.get(k) for k in ("name", "clusterIdentifier", "identifier")} - {None}
    return any(t in names for t in arn_targets(arn)) or any(
        isinstance(n, str) and (arn.endswith(f":cluster:{n}") or arn.endswith(f":db:{n}"))
        for n in names
    )
