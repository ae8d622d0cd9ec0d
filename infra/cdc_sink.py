"""CdcSink: the Lambda that writes a CDC topic into its DynamoDB read model.

Fed by an MSK event source mapping (IAM auth, its own consumer group), on-failure records
to an encrypted SQS queue. Kafka sources accept neither bisect-on-error nor a retry count
(AWS rejects them for MSK); the failure destination is what bounds a poison batch. The
handler is the project's placeholder until the sync issue lands (it fails every batch, so
records reach the failure queue instead of vanishing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.common import (
    ROLE_CDC_SINK,
    Context,
    child,
    inline_policy,
    log_group,
    role,
    role_tags,
    statement,
)
from infra.streaming import client_statements

HANDLERS = Path(__file__).resolve().parent / "handlers"
HANDLER_FILE = "placeholder.py"


@dataclass(frozen=True)
class CdcSinkArgs:
    ctx: Context
    link: str
    topic: str  # physical topic name
    batch_size: int
    cluster_arn: pulumi.Input[str]
    table_env: tuple[str, pulumi.Input[str]]
    table_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class CdcSink(pulumi.ComponentResource):
    function_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CdcSinkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:cdc_sink:CdcSink", name, None, opts)
        ctx = args.ctx
        fn_name = f"{ctx.prefix}-{args.link}-sink"[:64]
        group = fn_name
        tags = role_tags(ROLE_CDC_SINK, args.link)
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{fn_name}: Lambda (no inbound)",
            tags=tags, opts=child(self))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out", security_group_id=self.sg.id, ip_protocol="tcp", from_port=0,
            to_port=65535, cidr_ipv4=args.vpc_cidr,
            description="brokers, DynamoDB gateway and VPC endpoints", opts=child(self))
        dlq = aws.sqs.Queue(f"{name}-failures", name=f"{fn_name}-failures",
                            kms_master_key_id=args.kms_key_arn,
                            message_retention_seconds=14 * 24 * 3600, tags=tags,
                            opts=child(self))
        logs = log_group(f"{name}-logs", f"/aws/lambda/{fn_name}", args.log_retention_days,
                         args.logs_key_arn, self, tags)
        fn_role = role(f"{name}-role", fn_name, "lambda.amazonaws.com", self,
                       f"{args.link}: read one topic, write one table", tags)
        aws.iam.RolePolicyAttachment(
            f"{name}-vpc", role=fn_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            opts=child(self))
        inline_policy(f"{name}-policy", fn_role, [
            *client_statements(args.cluster_arn, read=(args.topic,), group=group),
            statement(["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
                      [args.cluster_arn], sid="EventSourcePoller"),
            statement(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                       "dynamodb:BatchWriteItem"], [args.table_arn], sid="WriteReadModel"),
            statement(["sqs:SendMessage"], [dlq.arn], sid="OnFailureDestination"),
            statement(["kms:Decrypt", "kms:GenerateDataKey"], [args.kms_key_arn],
                      sid="EncryptTableAndQueue"),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [pulumi.Output.concat(logs.arn, ":*")], sid="WriteOwnLogs"),
        ], self)
        fn = aws.lambda_.Function(
            name, name=fn_name, runtime="python3.12", handler="handler.handler",
            role=fn_role.arn, timeout=60, memory_size=256,
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(
                str(HANDLERS / HANDLER_FILE))}),
            environment={"variables": {args.table_env[0]: args.table_env[1]}},
            kms_key_arn=args.kms_key_arn,
            vpc_config={"subnet_ids": args.subnet_ids, "security_group_ids": [self.sg.id]},
            logging_config={"log_format": "JSON", "log_group": logs.name},
            tracing_config={"mode": "Active"}, tags=tags, opts=child(self))
        aws.lambda_.EventSourceMapping(
            name, function_name=fn.arn, event_source_arn=args.cluster_arn,
            topics=[args.topic], starting_position="TRIM_HORIZON",
            batch_size=args.batch_size,
            amazon_managed_kafka_event_source_config={"consumer_group_id": group},
            destination_config={"on_failure": {"destination_arn": dlq.arn}}, tags=tags,
            opts=child(self))
        self.function_arn = fn.arn
        self.security_group_id = self.sg.id
        self.role_arn = fn_role.arn
        self.register_outputs({"function_arn": self.function_arn,
                               "failure_queue_url": dlq.url})
