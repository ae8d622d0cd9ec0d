"""ServiceRuntime: where a topology service (or a platform worker) runs — ECS on Fargate.

``EcsCluster`` is one per system (Container Insights on). ``ServiceIdentity`` is created
early — its security group and roles are what stores admit and grant — and
``FargateService`` runs it: task definition with a read-only root filesystem, secrets only
through ``secrets.valueFrom``, awslogs to an encrypted log group, no public IP, circuit
breaker with rollback, CPU autoscaling. The task role gets exactly the statements the
caller passes (built from the store ownership in the topology); the execution role only
pulls the image, writes the log group and reads the secrets injected at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import (
    ROLE_SERVICE,
    Context,
    Tags,
    arn,
    child,
    ecr_image,
    inline_policy,
    log_group,
    role,
    role_arn,
    role_tags,
    statement,
)

TMP_VOLUME = "tmp"


@dataclass(frozen=True)
class EcsClusterArgs:
    ctx: Context


class EcsCluster(pulumi.ComponentResource):
    cluster_arn: pulumi.Output[str]
    cluster_name: pulumi.Output[str]

    def __init__(self, name: str, args: EcsClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:service_runtime:EcsCluster", name, None, opts)
        self.cluster = aws.ecs.Cluster(
            name, name=args.ctx.prefix,
            settings=[{"name": "containerInsights", "value": "enabled"}], opts=child(self))
        aws.ecs.ClusterCapacityProviders(
            name, cluster_name=self.cluster.name, capacity_providers=["FARGATE"],
            default_capacity_provider_strategies=[{"capacity_provider": "FARGATE",
                                                   "weight": 1}], opts=child(self))
        self.cluster_arn = self.cluster.arn
        self.cluster_name = self.cluster.name
        self.register_outputs({"cluster_arn": self.cluster_arn,
                               "cluster_name": self.cluster_name})


@dataclass(frozen=True)
class ServiceIdentityArgs:
    ctx: Context
    service: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    # polystore:role (and link) of everything this workload is; a topology service by default
    tags: Tags = field(default_factory=lambda: role_tags(ROLE_SERVICE))


class ServiceIdentity(pulumi.ComponentResource):
    """Security group, task role and execution role of one workload."""

    security_group_id: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceIdentityArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:service_runtime:ServiceIdentity", name, None, opts)
        ctx = args.ctx
        base = f"{ctx.prefix}-{args.service}"
        self.tags = tags = dict(args.tags)
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{base}: workload (no inbound)",
            tags=tags, opts=child(self))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-vpc", security_group_id=self.sg.id, ip_protocol="tcp", from_port=0,
            to_port=65535, cidr_ipv4=args.vpc_cidr,
            description="stores, brokers and endpoints inside the VPC", tags=tags,
            opts=child(self))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out", security_group_id=self.sg.id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
            description="AWS APIs without an interface endpoint (through NAT)", tags=tags,
            opts=child(self))
        self.task_role = role(f"{name}-task", f"{base}-task", "ecs-tasks.amazonaws.com", self,
                              f"{base}: what the service's code may call", tags)
        self.execution_role = role(f"{name}-exec", f"{base}-exec", "ecs-tasks.amazonaws.com",
                                   self, f"{base}: ECS pulls the image, writes logs, injects "
                                   "secrets", tags)
        self.security_group_id = self.sg.id
        # Derived from the names (known at preview) so the task definition and the search
        # role mapping that embed them stay reviewable; dependents wait on ``roles``.
        self.task_role_arn = role_arn(ctx, f"{base}-task")
        self.execution_role_arn = role_arn(ctx, f"{base}-exec")
        self.roles = [self.task_role, self.execution_role]
        self.register_outputs({"security_group_id": self.security_group_id,
                               "task_role_arn": self.task_role_arn,
                               "execution_role_arn": self.execution_role_arn})


@dataclass(frozen=True)
class FargateServiceArgs:
    ctx: Context
    service: str
    identity: ServiceIdentity
    cluster: EcsCluster
    subnet_ids: list[pulumi.Input[str]]
    image: pulumi.Input[str] | None  # None: this service's ECR repository, tag "latest"
    environment: dict[str, pulumi.Input[str]]
    secrets: dict[str, pulumi.Input[str]]  # variable -> valueFrom (secret ARN[:json-key::])
    secret_arns: list[pulumi.Input[str]]  # what the execution role may read
    task_statements: list[dict[str, Any]]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    cpu: int
    memory: int
    desired_count: int
    max_count: int
    port: int | None = 8080
    command: list[str] = field(default_factory=list)
    health_path: str | None = None  # an HTTP path answering 200 when the task is healthy
    # Another workload's image run differently (a one-off task on a service's image): the
    # image's entry point replaced, and the ECR repository (``system/service``) it is
    # pulled from instead of one of its own.
    entry_point: list[str] = field(default_factory=list)
    repository: str | None = None


class FargateService(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    image: pulumi.Output[str]

    def __init__(self, name: str, args: FargateServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:service_runtime:FargateService", name, None, opts)
        ctx, ident = args.ctx, args.identity
        base = f"{ctx.prefix}-{args.service}"
        tags = ident.tags
        # Names, URIs and ARNs below are derived from known inputs, not read from the new
        # resources' outputs: the container definition and the execution policy stay
        # readable at preview (docs/infra.md, "Offline preview").
        repo_name = args.repository or f"{ctx.system}/{args.service}"
        log_path = f"/polystore/{ctx.prefix}/{args.service}"
        own_repo = [] if args.repository else [aws.ecr.Repository(
            name, name=repo_name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS",
                                        "kms_key": args.kms_key_arn}], tags=tags,
            opts=child(self))]
        image = args.image or ecr_image(ctx, repo_name)
        logs = log_group(name, log_path, args.log_retention_days, args.logs_key_arn, self, tags)

        exec_statements = [
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLoginHasNoResourceLevel"),
            statement(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                       "ecr:GetDownloadUrlForLayer"], [arn(ctx, "ecr", f"repository/{repo_name}")],
                      sid="PullOwnImage"),
            statement(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [arn(ctx, "logs", f"log-group:{log_path}:*")], sid="WriteOwnLogs"),
        ]
        if args.secret_arns:
            exec_statements += [
                statement(["secretsmanager:GetSecretValue"], list(args.secret_arns),
                          sid="InjectOwnSecrets"),
                statement(["kms:Decrypt"], [args.kms_key_arn], sid="DecryptOwnSecrets"),
            ]
        inline_policy(f"{name}-exec", ident.execution_role, exec_statements, self)
        if args.task_statements:
            inline_policy(f"{name}-task", ident.task_role, args.task_statements, self)

        container: dict[str, Any] = {
            "name": args.service, "image": image, "essential": True,
            "readonlyRootFilesystem": True, "privileged": False, "user": "1000",
            "environment": [{"name": k, "value": v} for k, v in sorted(args.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(args.secrets.items())],
            "mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp"}],
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_path, "awslogs-region": ctx.region,
                "awslogs-stream-prefix": args.service}},
        }
        if args.port:
            container["portMappings"] = [{"containerPort": args.port, "protocol": "tcp"}]
        if args.entry_point:
            container["entryPoint"] = args.entry_point
        if args.command:
            container["command"] = args.command
        if args.health_path and args.port:
            # The image has Python, not curl: the probe is a one-line urllib GET.
            url = f"http://127.0.0.1:{args.port}{args.health_path}"
            container["healthCheck"] = {
                "command": ["CMD", "python", "-c",
                            f"import urllib.request; urllib.request.urlopen({url!r}, timeout=3)"],
                "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30}  # fmt: skip
        task = aws.ecs.TaskDefinition(
            name, family=base, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
            cpu=str(args.cpu), memory=str(args.memory),
            task_role_arn=ident.task_role_arn, execution_role_arn=ident.execution_role_arn,
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "ARM64"},
            volumes=[{"name": TMP_VOLUME}], tags=tags,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child(self, depends_on=[*own_repo, logs, *ident.roles]))
        svc = aws.ecs.Service(
            name, name=args.service, cluster=args.cluster.cluster_arn,
            task_definition=task.arn, desired_count=args.desired_count, launch_type="FARGATE",
            network_configuration={"subnets": args.subnet_ids,
                                   "security_groups": [ident.security_group_id],
                                   "assign_public_ip": False},
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            propagate_tags="SERVICE", enable_ecs_managed_tags=True, tags=tags,
            opts=child(self, ignore_changes=["desiredCount"]))
        if args.max_count > args.desired_count:
            target = aws.appautoscaling.Target(
                f"{name}-scaling", service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=pulumi.Output.concat("service/", args.cluster.cluster_name, "/",
                                                 svc.name),
                min_capacity=args.desired_count, max_capacity=args.max_count, tags=tags,
                opts=child(self))
            aws.appautoscaling.Policy(
                f"{name}-cpu", policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    "target_value": 60, "predefined_metric_specification": {
                        "predefined_metric_type": "ECSServiceAverageCPUUtilization"}},
                opts=child(self))
        self.service_name = svc.name
        self.family = base
        self.desired_count = args.desired_count
        self.log_group_name = logs.name
        self.image = pulumi.Output.from_input(image)
        self.args_identity = ident
        self.register_outputs({"service_name": self.service_name,
                               "log_group_name": self.log_group_name, "image": self.image})
