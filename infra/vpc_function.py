"""vpc_function: the scaffolding every link Lambda in the VPC shares.

A stream-to-search Lambda and a CDC sink differ only in what they read and write; the rest
is one shape: a security group with no inbound and one egress rule into the VPC, an
encrypted SQS queue for failed batches, a role (VPC access, plus an inline policy that ends
with the queue, the key and the function's own log stream), a KMS-encrypted log group, and
the traced function packaged from ``infra/handlers``. :func:`build_vpc_function` creates
those as children of the calling component (resource names derive from its name, so a
component built here has the same URNs it had when it built them itself); the caller adds
its event source mapping, pointing its on-failure destination at ``failure_queue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import HANDLERS, Context, Tags, child, inline_policy, log_group, role, statement

HANDLER_FILE = "placeholder.py"  # the CDC sink's until its handler lands: fails every batch
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600  # SQS maximum: time to inspect and redrive
VPC_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


@dataclass(frozen=True)
class VpcLambdaArgs:
    """What every link Lambda component is given; its own args class extends this."""

    ctx: Context
    link: str
    batch_size: int
    table_env: tuple[str, pulumi.Input[str]]  # (variable, physical table name)
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


@dataclass(frozen=True)
class VpcFunctionSpec:
    """What one kind of link Lambda says about itself (the rest is :class:`VpcLambdaArgs`)."""

    fn_name: str  # physical function name; also names its queue and log group
    role_name: str
    role_description: str
    tags: Tags
    egress_ports: tuple[int, int]  # TCP from/to port of the one egress rule (to the VPC CIDR)
    egress_description: str
    statements: list[dict[str, Any]]  # its own grants; the shared ones follow them
    kms_sid: str  # the key statement's Sid says what the key protects for this function
    environment: dict[str, pulumi.Input[str]]
    # The function's code and entry point; default: the placeholder that fails every batch.
    code: pulumi.Archive | None = None
    handler: str = "handler.handler"


@dataclass(frozen=True)
class VpcFunction:
    """The children :func:`build_vpc_function` created that its caller goes on to use."""

    security_group: aws.ec2.SecurityGroup
    failure_queue: aws.sqs.Queue
    role: aws.iam.Role
    function: aws.lambda_.Function


def build_vpc_function(name: str, args: VpcLambdaArgs, spec: VpcFunctionSpec,
                       parent: pulumi.Resource) -> VpcFunction:
    """Create the function and its scaffolding under ``parent``, named after ``name``."""
    fn_name, tags = spec.fn_name, spec.tags
    sg = aws.ec2.SecurityGroup(
        f"{name}-sg", vpc_id=args.vpc_id, description=f"{fn_name}: Lambda (no inbound)",
        tags=tags, opts=child(parent))
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-out", security_group_id=sg.id, ip_protocol="tcp",
        from_port=spec.egress_ports[0], to_port=spec.egress_ports[1], cidr_ipv4=args.vpc_cidr,
        description=spec.egress_description, opts=child(parent))
    dlq = aws.sqs.Queue(f"{name}-failures", name=f"{fn_name}-failures",
                        kms_master_key_id=args.kms_key_arn,
                        message_retention_seconds=FAILURE_RETENTION_SECONDS, tags=tags,
                        opts=child(parent))
    logs = log_group(f"{name}-logs", f"/aws/lambda/{fn_name}", args.log_retention_days,
                     args.logs_key_arn, parent, tags)
    fn_role = role(f"{name}-role", spec.role_name, "lambda.amazonaws.com", parent,
                   spec.role_description, tags)
    aws.iam.RolePolicyAttachment(f"{name}-vpc", role=fn_role.name, policy_arn=VPC_ACCESS_POLICY,
                                 opts=child(parent))
    inline_policy(f"{name}-policy", fn_role, [
        *spec.statements,
        statement(["sqs:SendMessage"], [dlq.arn], sid="OnFailureDestination"),
        statement(["kms:Decrypt", "kms:GenerateDataKey"], [args.kms_key_arn], sid=spec.kms_sid),
        statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                  [pulumi.Output.concat(logs.arn, ":*")], sid="WriteOwnLogs"),
    ], parent)
    fn = aws.lambda_.Function(
        name, name=fn_name, runtime="python3.12", handler=spec.handler,
        role=fn_role.arn, timeout=60, memory_size=256,
        code=spec.code or pulumi.AssetArchive({"handler.py": pulumi.FileAsset(
            str(HANDLERS / HANDLER_FILE))}),
        environment={"variables": spec.environment},
        kms_key_arn=args.kms_key_arn,
        vpc_config={"subnet_ids": args.subnet_ids, "security_group_ids": [sg.id]},
        logging_config={"log_format": "JSON", "log_group": logs.name},
        tracing_config={"mode": "Active"}, tags=tags, opts=child(parent))
    return VpcFunction(security_group=sg, failure_queue=dlq, role=fn_role, function=fn)
