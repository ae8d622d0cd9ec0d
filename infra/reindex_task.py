"""ReindexTask: ``polystore reindex`` for one stream-to-search link, as a one-off ECS task.

The same code as locally (``python -m sync.reindex SYSTEM.INDEX``), in the services image
(which carries ``sync/`` and ``stacks/``): it scans the link's table, catches up from its
stream and swaps the index alias. Nothing runs it on deploy; an operator starts it with
``aws ecs run-task`` (docs/sync.md, "Reindex in AWS"). Its environment is what
``sync.endpoints.resolve`` reads in AWS — ``OPENSEARCH_URL``, the table's and the index's
variables (from ``polystore.naming``), ``AWS_REGION`` — and its role may do exactly what a
reindex does: scan and describe that table, read its stream, read items back
(``BatchGetItem``, for late records), decrypt with the data key, and call the domain's
HTTP API on the index, its generations (``<index>-*``) and the alias endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import Context, arn, child, inline_policy, log_group, statement
from infra.service_runtime import TMP_VOLUME, ServiceIdentity

REINDEX_MODULE = ("python", "-m", "sync.reindex")
STATE_DIR = "/tmp/polystore"  # the root filesystem is read-only; /tmp is the task's volume
ES_ACTIONS = ["es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost",
              "es:ESHttpPut"]  # fmt: skip


def task_family(ctx: Context, link: str) -> str:
    return f"{ctx.prefix}-reindex-{link}"


@dataclass(frozen=True)
class ReindexTaskArgs:
    ctx: Context
    link: str
    target: str  # SYSTEM.INDEX, the argument of sync.reindex
    identity: ServiceIdentity  # tagged polystore:role=reindex, polystore:link=<link>
    image: pulumi.Input[str]  # the services image
    image_repository: str  # its ECR repository (the execution role pulls from it)
    environment: dict[str, pulumi.Input[str]]
    table_arn: pulumi.Input[str]
    stream_arn: pulumi.Input[str]
    domain_arn: pulumi.Input[str]
    index: str  # physical name of the alias
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    cpu: int
    memory: int
    subnet_ids: list[pulumi.Input[str]]


def task_statements(args: ReindexTaskArgs) -> list[dict[str, Any]]:
    """What ``sync.reindex`` calls, on this link's table, stream, index and nothing else."""
    d = args.domain_arn
    return [
        statement(["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:Scan"],
                  [args.table_arn], sid="ScanOwnTable"),
        statement(["dynamodb:DescribeStream", "dynamodb:GetRecords",
                   "dynamodb:GetShardIterator"], [args.stream_arn], sid="ReadOwnStream"),
        statement(["kms:Decrypt"], [args.kms_key_arn], sid="DecryptTableAndStream"),
        statement(ES_ACTIONS, [pulumi.Output.concat(d, "/", args.index),
                               pulumi.Output.concat(d, "/", args.index, "/*"),
                               pulumi.Output.concat(d, "/", args.index, "-*"),
                               pulumi.Output.concat(d, "/_alias/", args.index),
                               pulumi.Output.concat(d, "/_aliases")],
                  sid="RebuildOwnIndex"),
    ]  # fmt: skip


class ReindexTask(pulumi.ComponentResource):
    task_definition_arn: pulumi.Output[str]
    family: str

    def __init__(self, name: str, args: ReindexTaskArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:  # fmt: skip
        super().__init__("polystore:reindex_task:ReindexTask", name, None, opts)
        ctx, ident = args.ctx, args.identity
        self.family = task_family(ctx, args.link)
        log_path = f"/polystore/{ctx.prefix}/reindex-{args.link}"
        logs = log_group(name, log_path, args.log_retention_days, args.logs_key_arn, self,
                         ident.tags)  # fmt: skip
        inline_policy(f"{name}-exec", ident.execution_role, [
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLoginHasNoResourceLevel"),
            statement(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                       "ecr:GetDownloadUrlForLayer"],
                      [arn(ctx, "ecr", f"repository/{args.image_repository}")],
                      sid="PullServicesImage"),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [arn(ctx, "logs", f"log-group:{log_path}:*")], sid="WriteOwnLogs"),
        ], self)  # fmt: skip
        inline_policy(f"{name}-task", ident.task_role, task_statements(args), self)
        container: dict[str, Any] = {
            "name": "reindex", "image": args.image, "essential": True,
            "entryPoint": list(REINDEX_MODULE),
            "command": [args.target, "--state-dir", STATE_DIR],
            "readonlyRootFilesystem": True, "privileged": False, "user": "1000",
            "environment": [{"name": k, "value": v} for k, v in sorted(args.environment.items())],
            "secrets": [],
            "mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp"}],
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_path, "awslogs-region": ctx.region,
                "awslogs-stream-prefix": "reindex"}},
        }  # fmt: skip
        task = aws.ecs.TaskDefinition(
            name, family=self.family, requires_compatibilities=["FARGATE"],
            network_mode="awsvpc", cpu=str(args.cpu), memory=str(args.memory),
            task_role_arn=ident.task_role_arn, execution_role_arn=ident.execution_role_arn,
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "ARM64"},
            volumes=[{"name": TMP_VOLUME}], tags=ident.tags,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child(self, depends_on=[logs, *ident.roles]))  # fmt: skip
        self.task_definition_arn = task.arn
        self.run_network = {"subnets": args.subnet_ids,
                            "security_groups": [ident.security_group_id]}  # fmt: skip
        self.register_outputs({"task_definition_arn": self.task_definition_arn,
                               "family": self.family})  # fmt: skip
