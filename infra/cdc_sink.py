"""CdcSink: the Lambda that writes a CDC topic into its DynamoDB read model.

Fed by an MSK event source mapping (IAM auth, its own consumer group), on-failure records
to an encrypted SQS queue. Kafka sources accept neither bisect-on-error nor a retry count
(AWS rejects them for MSK); the failure destination is what bounds a poison batch. The
handler is the project's placeholder until the sync issue lands (it fails every batch, so
records reach the failure queue instead of vanishing).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from cdc.handler import SPEC_ENV
from cdc.package import HANDLER, lambda_files
from infra.common import ROLE_CDC_SINK, child, role_tags, statement
from infra.streaming import client_statements
from infra.vpc_function import VpcFunctionSpec, VpcLambdaArgs, build_vpc_function


@dataclass(frozen=True)
class CdcSinkArgs(VpcLambdaArgs):
    """``table_env`` names the read model the sink writes."""

    topic: str  # physical topic name
    spec_json: str  # cdc.plan.sink_spec(system, link).to_json(): the declared transform
    cluster_arn: pulumi.Input[str]
    table_arn: pulumi.Input[str]


class CdcSink(pulumi.ComponentResource):
    function_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CdcSinkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:cdc_sink:CdcSink", name, None, opts)
        fn_name = f"{args.ctx.prefix}-{args.link}-sink"[:64]
        group = fn_name
        tags = role_tags(ROLE_CDC_SINK, args.link)
        built = build_vpc_function(name, args, VpcFunctionSpec(
            fn_name=fn_name, role_name=fn_name,
            role_description=f"{args.link}: read one topic, write one table", tags=tags,
            egress_ports=(0, 65535),
            egress_description="brokers, DynamoDB gateway and VPC endpoints",
            statements=[
                *client_statements(args.cluster_arn, read=(args.topic,), group=group),
                statement(["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
                          [args.cluster_arn], sid="EventSourcePoller"),
                statement(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                           "dynamodb:ConditionCheckItem",
                           "dynamodb:BatchWriteItem"], [args.table_arn], sid="WriteReadModel"),
            ],
            kms_sid="EncryptTableAndQueue",
            environment={args.table_env[0]: args.table_env[1], SPEC_ENV: args.spec_json},
            code=pulumi.AssetArchive({rel: pulumi.FileAsset(str(path))
                                      for rel, path in lambda_files().items()}),
            handler=HANDLER), self)
        self.sg, dlq = built.security_group, built.failure_queue
        aws.lambda_.EventSourceMapping(
            name, function_name=built.function.arn, event_source_arn=args.cluster_arn,
            topics=[args.topic], starting_position="TRIM_HORIZON",
            batch_size=args.batch_size,
            amazon_managed_kafka_event_source_config={"consumer_group_id": group},
            destination_config={"on_failure": {"destination_arn": dlq.arn}}, tags=tags,
            opts=child(self))
        self.function_arn = built.function.arn
        self.security_group_id = self.sg.id
        self.role_arn = built.role.arn
        self.register_outputs({"function_arn": self.function_arn,
                               "failure_queue_url": dlq.url})
