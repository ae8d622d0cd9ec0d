"""StreamToSearch: a DynamoDB stream indexed into a search index by a Lambda.

The event source mapping bisects failing batches, retries a bounded number of times,
drops records older than an hour to the on-failure queue, and lets the handler report
partial batch failures. The role can read that one stream, write that one index, send to
its own queue and write its own logs. The handler is packaged from the repository: until
the sync issue lands it is ``infra/handlers/placeholder.py``, which fails every batch on
purpose (records go to the failure queue; nothing is silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.common import (
    ROLE_STREAM_TO_SEARCH,
    Context,
    child,
    inline_policy,
    log_group,
    role,
    role_tags,
    statement,
)

HANDLERS = Path(__file__).resolve().parent / "handlers"
HANDLER_FILE = "placeholder.py"
MAX_RETRIES = 3
MAX_RECORD_AGE_SECONDS = 3600


@dataclass(frozen=True)
class StreamToSearchArgs:
    ctx: Context
    link: str
    batch_size: int
    stream_arn: pulumi.Input[str]
    table_env: tuple[str, pulumi.Input[str]]
    index_env: tuple[str, pulumi.Input[str]]
    index_arn: pulumi.Input[str]
    search_url: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class StreamToSearch(pulumi.ComponentResource):
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    failure_queue_url: pulumi.Output[str]

    def __init__(self, name: str, args: StreamToSearchArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:stream_to_search:StreamToSearch", name, None, opts)
        ctx = args.ctx
        fn_name = f"{ctx.prefix}-{args.link}"[:64]
        tags = role_tags(ROLE_STREAM_TO_SEARCH, args.link)
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{fn_name}: Lambda (no inbound)",
            tags=tags, opts=child(self))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out", security_group_id=self.sg.id, ip_protocol="tcp", from_port=443,
            to_port=443, cidr_ipv4=args.vpc_cidr,
            description="HTTPS to OpenSearch and VPC endpoints", opts=child(self))
        dlq = aws.sqs.Queue(f"{name}-failures", name=f"{fn_name}-failures",
                            kms_master_key_id=args.kms_key_arn,
                            message_retention_seconds=14 * 24 * 3600, tags=tags,
                            opts=child(self))
        logs = log_group(f"{name}-logs", f"/aws/lambda/{fn_name}", args.log_retention_days,
                         args.logs_key_arn, self, tags)
        fn_role = role(f"{name}-role", f"{fn_name}-sync", "lambda.amazonaws.com", self,
                       f"{args.link}: read one stream, write one index", tags)
        aws.iam.RolePolicyAttachment(
            f"{name}-vpc", role=fn_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            opts=child(self))
        inline_policy(f"{name}-policy", fn_role, [
            statement(["dynamodb:DescribeStream", "dynamodb:GetRecords",
                       "dynamodb:GetShardIterator"], [args.stream_arn], sid="ReadOwnStream"),
            statement(["dynamodb:ListStreams"], [args.stream_arn], sid="ListOwnStream"),
            statement(["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpGet"],
                      [args.index_arn, pulumi.Output.concat(args.index_arn, "/*")],
                      sid="WriteOwnIndex"),
            statement(["sqs:SendMessage"], [dlq.arn], sid="OnFailureDestination"),
            statement(["kms:Decrypt", "kms:GenerateDataKey"], [args.kms_key_arn],
                      sid="DecryptStreamAndQueue"),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [pulumi.Output.concat(logs.arn, ":*")], sid="WriteOwnLogs"),
        ], self)
        fn = aws.lambda_.Function(
            name, name=fn_name, runtime="python3.12", handler="handler.handler",
            role=fn_role.arn, timeout=60, memory_size=256,
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(
                str(HANDLERS / HANDLER_FILE))}),
            environment={"variables": {
                "OPENSEARCH_URL": args.search_url,
                args.table_env[0]: args.table_env[1], args.index_env[0]: args.index_env[1]}},
            kms_key_arn=args.kms_key_arn,
            vpc_config={"subnet_ids": args.subnet_ids, "security_group_ids": [self.sg.id]},
            logging_config={"log_format": "JSON", "log_group": logs.name},
            tracing_config={"mode": "Active"}, tags=tags,
            opts=child(self))
        aws.lambda_.EventSourceMapping(
            name, function_name=fn.arn, event_source_arn=args.stream_arn,
            starting_position="LATEST", batch_size=args.batch_size,
            maximum_batching_window_in_seconds=1,
            bisect_batch_on_function_error=True, maximum_retry_attempts=MAX_RETRIES,
            maximum_record_age_in_seconds=MAX_RECORD_AGE_SECONDS,
            function_response_types=["ReportBatchItemFailures"],
            destination_config={"on_failure": {"destination_arn": dlq.arn}}, tags=tags,
            opts=child(self))
        self.function_arn = fn.arn
        self.role_arn = fn_role.arn
        self.security_group_id = self.sg.id
        self.failure_queue_url = dlq.url
        self.register_outputs({"function_arn": self.function_arn, "role_arn": self.role_arn,
                               "failure_queue_url": self.failure_queue_url})
