"""StreamToSearch: a DynamoDB stream indexed into a search index by a Lambda.

The event source mapping bisects failing batches, retries a bounded number of times,
drops records older than an hour to the on-failure queue, and lets the handler report
partial batch failures. The role can read that one stream, write that one index, send to
its own queue and write its own logs, and read items of its table back (a late record is
confirmed against the table before it may re-create a deleted document). The handler is
the project's ``sync.stream_to_search`` package, zipped reproducibly by
``infra.lambda_package`` with the link's configuration (``link.json``) from the topology.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import ROLE_STREAM_TO_SEARCH, child, role_tags, statement
from infra.lambda_package import STREAM_TO_SEARCH_HANDLER, stream_to_search_zip
from infra.vpc_function import VpcFunctionSpec, VpcLambdaArgs, build_vpc_function

MAX_RETRIES = 3
MAX_RECORD_AGE_SECONDS = 3600


@dataclass(frozen=True)
class StreamToSearchArgs(VpcLambdaArgs):
    """``table_env`` names the table whose stream is indexed."""

    stream_arn: pulumi.Input[str]
    table_arn: pulumi.Input[str]  # read back, for late records (sync/.../late_records.py)
    index_env: tuple[str, pulumi.Input[str]]
    index_arn: pulumi.Input[str]
    search_url: pulumi.Input[str]
    link_config_json: str  # sync.link_config.link_config(system, link).to_json()


class StreamToSearch(pulumi.ComponentResource):
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    failure_queue_url: pulumi.Output[str]

    def __init__(self, name: str, args: StreamToSearchArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:stream_to_search:StreamToSearch", name, None, opts)
        fn_name = f"{args.ctx.prefix}-{args.link}"[:64]
        tags = role_tags(ROLE_STREAM_TO_SEARCH, args.link)
        built = build_vpc_function(name, args, VpcFunctionSpec(
            fn_name=fn_name, role_name=f"{fn_name}-sync",
            role_description=f"{args.link}: read one stream, write one index", tags=tags,
            egress_ports=(443, 443), egress_description="HTTPS to OpenSearch and VPC endpoints",
            statements=[
                statement(["dynamodb:DescribeStream", "dynamodb:GetRecords",
                           "dynamodb:GetShardIterator"], [args.stream_arn],
                          sid="ReadOwnStream"),
                statement(["dynamodb:ListStreams"], [args.stream_arn], sid="ListOwnStream"),
                # A record older than the index's tombstone lifetime is confirmed against
                # the table before it may re-create a document (late_records.py).
                statement(["dynamodb:BatchGetItem"], [args.table_arn], sid="ConfirmLateRecords"),
                statement(["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpGet"],
                          [args.index_arn, pulumi.Output.concat(args.index_arn, "/*")],
                          sid="WriteOwnIndex"),
            ],
            kms_sid="DecryptStreamAndQueue",
            environment={
                "OPENSEARCH_URL": args.search_url,
                args.table_env[0]: args.table_env[1], args.index_env[0]: args.index_env[1]},
            code=pulumi.FileArchive(str(stream_to_search_zip(args.link_config_json))),
            handler=STREAM_TO_SEARCH_HANDLER),
            self)
        self.sg, dlq = built.security_group, built.failure_queue
        aws.lambda_.EventSourceMapping(
            name, function_name=built.function.arn, event_source_arn=args.stream_arn,
            starting_position="LATEST", batch_size=args.batch_size,
            maximum_batching_window_in_seconds=1,
            bisect_batch_on_function_error=True, maximum_retry_attempts=MAX_RETRIES,
            maximum_record_age_in_seconds=MAX_RECORD_AGE_SECONDS,
            function_response_types=["ReportBatchItemFailures"],
            destination_config={"on_failure": {"destination_arn": dlq.arn}}, tags=tags,
            opts=child(self))
        self.function_arn = built.function.arn
        self.role_arn = built.role.arn
        self.security_group_id = self.sg.id
        self.failure_queue_url = dlq.url
        self.register_outputs({"function_arn": self.function_arn, "role_arn": self.role_arn,
                               "failure_queue_url": self.failure_queue_url})
