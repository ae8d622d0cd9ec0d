"""SearchDomain: the OpenSearch domain of a system's search stores, in the VPC.

One domain per system hosts every search store (one index each). Encryption at rest with
the CMK, node-to-node encryption, HTTPS only (TLS 1.2+), fine-grained access control with
an IAM master role (the bootstrap Lambda's), slow/error/audit logs published, gp3 volumes;
dedicated masters and zone awareness per profile. Indexes are created by the bootstrap
Lambda from ``SearchStore.body()`` — the mapping is read from the topology, never restated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import (
    HANDLERS,
    ROLE_SEARCH_BOOTSTRAP,
    Context,
    child,
    inline_policy,
    log_group,
    role,
    role_tags,
    statement,
    stores_tags,
)
from infra.environments import EnvironmentProfile

ENGINE_VERSION = "OpenSearch_2.17"
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
LOG_TYPES = ("INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS")


@dataclass(frozen=True)
class SearchDomainArgs:
    ctx: Context
    profile: EnvironmentProfile
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]  # isolated tier, one per zone used
    lambda_subnet_ids: list[pulumi.Input[str]]  # private tier (bootstrap needs STS via NAT)
    vpc_cidr: str
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    # description -> security group admitted on 443 (owners, sync Lambdas)
    clients: dict[str, pulumi.Input[str]]
    stores: list[str] = field(default_factory=list)  # search stores (indexes) it hosts


def domain_name(ctx: Context) -> str:
    """OpenSearch domain names: 3-28 chars, lower case."""
    return ctx.prefix[:28].rstrip("-")


class SearchDomain(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    domain_arn: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: SearchDomainArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:search:SearchDomain", name, None, opts)
        ctx, p = args.ctx, args.profile
        self.ctx = ctx
        self.tags = stores_tags(args.stores)  # the domain and its SG implement these stores
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"{ctx.prefix}: OpenSearch HTTPS from owners and sync handlers only",
            tags=self.tags, opts=child(self))
        boot_tags = role_tags(ROLE_SEARCH_BOOTSTRAP)
        self.bootstrap_sg = aws.ec2.SecurityGroup(
            f"{name}-bootstrap-sg", vpc_id=args.vpc_id,
            description=f"{ctx.prefix}: search bootstrap Lambda (no inbound)", tags=boot_tags,
            opts=child(self))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-bootstrap-out", security_group_id=self.bootstrap_sg.id,
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=args.vpc_cidr,
            description="HTTPS to the domain and VPC endpoints", tags=boot_tags,
            opts=child(self))
        self._base, self._rules = name, 0
        for who, sg_id in {**args.clients, "search bootstrap Lambda": self.bootstrap_sg.id}.items():
            self.admit(who, sg_id)

        self.bootstrap_role = role(f"{name}-bootstrap", f"{ctx.prefix}-search-bootstrap",
                                   "lambda.amazonaws.com", self,
                                   "creates indexes and FGAC role mappings", boot_tags)
        aws.iam.RolePolicyAttachment(
            f"{name}-bootstrap-vpc", role=self.bootstrap_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            opts=child(self))

        logs: dict[str, aws.cloudwatch.LogGroup] = {
            t: log_group(f"{name}-{t.lower().replace('_', '-')}",
                         f"/polystore/{ctx.prefix}/opensearch/{t.lower()}",
                         p.log_retention_days, args.logs_key_arn, self) for t in LOG_TYPES}
        log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-logs", policy_name=f"{ctx.prefix}-opensearch-logs",
            policy_document=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"},
                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                "Resource": [pulumi.Output.concat(g.arn, ":*") for g in logs.values()],
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            }]}), opts=child(self))

        name_ = domain_name(ctx)
        domain_arn_ = ctx.account_id.apply(
            lambda a: f"arn:aws:es:{ctx.region}:{a}:domain/{name_}")
        zones = min(len(args.subnet_ids), 3) if p.search_zone_awareness else 1
        cluster: dict[str, Any] = {
            "instance_type": p.search_instance_type, "instance_count": p.search_instance_count,
            "zone_awareness_enabled": p.search_zone_awareness,
            "dedicated_master_enabled": p.search_dedicated_masters > 0,
        }
        if p.search_zone_awareness:
            cluster["zone_awareness_config"] = {"availability_zone_count": zones}
        if p.search_dedicated_masters:
            cluster["dedicated_master_count"] = p.search_dedicated_masters
            cluster["dedicated_master_type"] = p.search_master_type
        self.domain = aws.opensearch.Domain(
            name, domain_name=name_, engine_version=ENGINE_VERSION, cluster_config=cluster,
            vpc_options={"subnet_ids": args.subnet_ids[:zones],
                         "security_group_ids": [self.sg.id]},
            ebs_options={"ebs_enabled": True, "volume_type": "gp3",
                         "volume_size": p.search_volume_gb},
            encrypt_at_rest={"enabled": True, "kms_key_id": args.kms_key_arn},
            node_to_node_encryption={"enabled": True},
            domain_endpoint_options={"enforce_https": True, "tls_security_policy": TLS_POLICY},
            advanced_security_options={
                "enabled": True, "anonymous_auth_enabled": False,
                "internal_user_database_enabled": False,
                "master_user_options": {"master_user_arn": self.bootstrap_role.arn}},
            # Account principals only; which role reaches which index is decided by their
            # IAM policies and by the FGAC role mapping the bootstrap writes.
            access_policies=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", ctx.account_id,
                                                          ":root")},
                "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut",
                           "es:ESHttpDelete"],
                "Resource": pulumi.Output.concat(domain_arn_, "/*")}]}),
            log_publishing_options=[{"log_type": t, "cloudwatch_log_group_arn": g.arn,
                                     "enabled": True} for t, g in logs.items()],
            tags=self.tags, opts=child(self, depends_on=[log_policy]))
        self.endpoint = self.domain.endpoint
        self.domain_arn = self.domain.arn
        self.url = pulumi.Output.concat("https://", self.domain.endpoint)

        inline_policy(f"{name}-bootstrap", self.bootstrap_role, [
            statement(["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPut"],
                      [pulumi.Output.concat(self.domain.arn, "/*")], sid="CreateIndexes")], self)
        self.bootstrap_logs = log_group(
            f"{name}-bootstrap-logs", f"/aws/lambda/{ctx.prefix}-search-bootstrap",
            p.log_retention_days, args.logs_key_arn, self, boot_tags)
        self.bootstrap_fn = aws.lambda_.Function(
            f"{name}-bootstrap", name=f"{ctx.prefix}-search-bootstrap", runtime="python3.12",
            handler="search_bootstrap.handler", role=self.bootstrap_role.arn, timeout=120,
            code=pulumi.AssetArchive({"search_bootstrap.py": pulumi.FileAsset(
                str(HANDLERS / "search_bootstrap.py"))}),
            kms_key_arn=args.kms_key_arn, reserved_concurrent_executions=1,
            environment={"variables": {"OPENSEARCH_URL": pulumi.Output.concat(
                "https://", self.domain.endpoint)}},
            vpc_config={"subnet_ids": args.lambda_subnet_ids,
                        "security_group_ids": [self.bootstrap_sg.id]},
            logging_config={"log_format": "JSON", "log_group": self.bootstrap_logs.name},
            tags=boot_tags, opts=child(self))
        self.register_outputs({"endpoint": self.endpoint, "domain_arn": self.domain_arn,
                               "url": self.url})

    def admit(self, who: str, sg_id: pulumi.Input[str]) -> None:
        """Let one more security group reach the domain on 443 (owners, sync Lambdas)."""
        aws.vpc.SecurityGroupIngressRule(
            f"{self._base}-from-{self._rules}", security_group_id=self.sg.id,
            ip_protocol="tcp", from_port=443, to_port=443, referenced_security_group_id=sg_id,
            description=f"HTTPS from {who}", tags=self.tags, opts=child(self))
        self._rules += 1

    def index_arn(self, physical_index: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.domain.arn, "/", physical_index)

    def apply_indexes(self, name: str, indexes: list[dict[str, Any]]) -> aws.lambda_.Invocation:
        """Invoke the bootstrap with ``[{name, body, dynamic_settings, security_role, iam_roles}]``.

        Re-runs whenever a body or a role list changes (the input is the trigger).
        """
        # The endpoint travels in the function's environment, so this payload (what a
        # reviewer wants to see) stays known at preview time.
        payload = pulumi.Output.json_dumps({"indexes": indexes})
        return aws.lambda_.Invocation(
            name, function_name=self.bootstrap_fn.name, input=payload, opts=child(self))
