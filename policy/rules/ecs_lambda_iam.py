"""ECS, Lambda, IAM and CloudWatch Logs rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policy.attribution import resolve
from policy.model import Resource, Rule, StackContext, as_list, parse_json
from policy.rules._common import (
    ECS_CLUSTER,
    ECS_SERVICE,
    ECS_TASK,
    IAM_ATTACHMENT,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    KMS_KEY,
    KMS_KEY_POLICY,
    LAMBDA_ESM,
    LAMBDA_FUNCTION,
    LAMBDA_PERMISSION,
    LOG_GROUP,
    listed,
    policy_documents,
    statements,
)
from policy.rules._exemptions import (
    STAR_RESOURCE_ACTIONS,
    is_kafka_mapping,
    key_policy_star_resource,
    managed_policy_problem,
)

SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL|ACCESS_KEY)", re.IGNORECASE)


def containers(r: Resource) -> list[dict[str, Any]]:
    defs = parse_json(r.inputs.get("containerDefinitions"), "containerDefinitions")
    return [c for c in as_list(defs) if isinstance(c, dict)]


class NoPlainSecrets(Rule):
    """No secrets in plain environment variables (ECS containers, Lambda functions).

    Checkov CKV_AWS_45 (Lambda); cdk-nag AwsSolutions-ECS2 (ECS environment variables).
    """

    id, name, group = "PS-ECS-01", "no-secrets-in-environment", "ecs_lambda_iam"
    types = (ECS_TASK, LAMBDA_FUNCTION)
    reason = "Environment values appear in task definitions, consoles and previews."
    remediation = "Pass PGPASSWORD and other secrets through `secrets` (Secrets Manager ARNs)."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == LAMBDA_FUNCTION:
            env = r.get("environment.variables", {}) or {}
            names = [(str(k), v) for k, v in env.items()]
        else:
            names = [(str(e.get("name")), e.get("value")) for c in containers(r)
                     for e in as_list(c.get("environment")) if isinstance(e, dict)]
        for name, value in names:
            if SECRET_NAME.search(name) and value not in (None, ""):
                yield f"environment variable {name} carries a secret in plain text"


class TaskRoleNotExecutionRole(Rule):
    """Task role differs from the execution role.

    Checkov CKV_AWS_249.
    """

    id, name, group = "PS-ECS-02", "ecs-task-role-not-execution-role", "ecs_lambda_iam"
    types = (ECS_TASK,)
    reason = "The agent pulling images and secrets must not be the identity the code runs as."
    remediation = "Give the task its own taskRoleArn, distinct from executionRoleArn."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        task, execution = r.get("taskRoleArn"), r.get("executionRoleArn")
        if not task:
            yield "no taskRoleArn"
        elif task == execution:
            yield "taskRoleArn == executionRoleArn"


class NoPrivilegedContainers(Rule):
    """No privileged containers.

    Checkov: none found verified; cdk-nag: none found.
    """

    id, name, group = "PS-ECS-03", "ecs-no-privileged-containers", "ecs_lambda_iam"
    types = (ECS_TASK,)
    reason = "A privileged container is root on the host."
    remediation = "Remove privileged: true."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        for c in containers(r):
            if c.get("privileged") is True:
                yield f"container {c.get('name')} is privileged"


class ReadOnlyRootFs(Rule):
    """Read-only root filesystems.

    Checkov CKV_AWS_336.
    """

    id, name, group = "PS-ECS-04", "ecs-read-only-root-filesystem", "ecs_lambda_iam"
    types = (ECS_TASK,)
    reason = "A writable root lets an intruder persist tools in the container."
    remediation = "Set readonlyRootFilesystem: true (mount a volume for scratch space)."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        for c in containers(r):
            if c.get("readonlyRootFilesystem") is not True:
                yield f"container {c.get('name')} has a writable root filesystem"


class NoPublicIp(Rule):
    """ECS services get no public IP.

    Checkov CKV_AWS_333.
    """

    id, name, group = "PS-ECS-05", "ecs-no-public-ip", "ecs_lambda_iam"
    types = (ECS_SERVICE,)
    reason = "Tasks sit in private subnets and leave through NAT or endpoints."
    remediation = "Set networkConfiguration.assignPublicIp: false."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("networkConfiguration.assignPublicIp") is True:
            yield "networkConfiguration.assignPublicIp is true"


class ContainerLogging(Rule):
    """Every container has a log configuration.

    cdk-nag AwsSolutions-ECS7.
    """

    id, name, group = "PS-ECS-06", "ecs-container-logging", "ecs_lambda_iam"
    types = (ECS_TASK,)
    reason = "Without a log driver, a crashed task takes its story with it."
    remediation = "Set logConfiguration {logDriver: awslogs, options: {...}} on every container."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        for c in containers(r):
            if not (c.get("logConfiguration") or {}).get("logDriver"):
                yield f"container {c.get('name')} has no logConfiguration.logDriver"


class ContainerInsights(Rule):
    """Container Insights on for ECS clusters.

    Checkov CKV_AWS_65; cdk-nag AwsSolutions-ECS4.
    """

    id, name, group = "PS-ECS-07", "ecs-container-insights", "ecs_lambda_iam"
    types = (ECS_CLUSTER,)
    reason = "Per-task CPU/memory metrics are needed to size and debug services."
    remediation = 'Add settings [{name: containerInsights, value: "enabled"}].'

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        values = {s.get("name"): s.get("value") for s in as_list(r.get("settings"))
                  if isinstance(s, dict)}
        if values.get("containerInsights") not in ("enabled", "enhanced"):
            yield "containerInsights is not enabled"


class StreamMappingFailureHandling(Rule):
    """Stream event source mappings bisect on error, bound retries, send failures somewhere.

    DynamoDB/Kinesis streams: bisect, retries within the limit and an on-failure
    destination. Kafka (MSK, self-managed) mappings: an on-failure destination only — AWS
    rejects bisect and retry settings for Kafka sources (exemption, docs/policy.md). SQS
    and MQ mappings have no stream position and are out of scope (their queue's redrive
    policy bounds retries).

    Checkov: none found (CKV_AWS_116 is the function-level DLQ); cdk-nag: none found.
    """

    id, name, group = "PS-LMB-01", "lambda-stream-failure-handling", "ecs_lambda_iam"
    types = (LAMBDA_ESM,)
    reason = "One poison record otherwise blocks its shard until the record expires."
    remediation = ("Set bisectBatchOnFunctionError: true, maximumRetryAttempts ≤ the limit and "
                   "destinationConfig.onFailure.destinationArn (Kafka: the destination).")
    params = {"maximumRetryAttempts": 10}

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if is_kafka_mapping(r):
            if not r.get("destinationConfig.onFailure.destinationArn"):
                yield "Kafka mapping without destinationConfig.onFailure.destinationArn"
            return
        if r.get("queues") or not r.get("startingPosition"):
            return  # SQS / MQ: no stream position; the queue's redrive policy applies
        if r.get("bisectBatchOnFunctionError") is not True:
            yield "bisectBatchOnFunctionError is not true"
        retries = r.get("maximumRetryAttempts", -1)
        limit = int(self.param(ctx, "maximumRetryAttempts"))
        if int(retries) < 0 or int(retries) > limit:
            yield f"maximumRetryAttempts {retries} is not within 0..{limit} (-1 retries forever)"
        if not r.get("destinationConfig.onFailure.destinationArn"):
            yield "no destinationConfig.onFailure.destinationArn"


class NoStarInPolicies(Rule):
    """No ``*`` action and no ``*`` resource in any Allow statement; no unreviewed
    AWS-managed policy.

    Exemptions (docs/policy.md), each a precise condition: ``Resource: "*"`` when every
    action of the statement is in ``starResourceActions`` (actions without resource-level
    permissions, e.g. ``ecr:GetAuthorizationToken``), or inside a KMS key policy when every
    action is a ``kms:`` action ("*" there means the key itself); an AWS-managed policy of
    the reviewed list attached to a role that only its service assumes.

    Checkov CKV_AWS_62 / CKV_AWS_63 (actions), CKV_AWS_355 (resources), CKV_AWS_274
    (AdministratorAccess); cdk-nag AwsSolutions-IAM4 (managed policies), AwsSolutions-IAM5.
    """

    id, name, group = "PS-IAM-01", "iam-no-star", "ecs_lambda_iam"
    types = (IAM_ROLE_POLICY, IAM_POLICY, IAM_ROLE, IAM_ATTACHMENT, KMS_KEY, KMS_KEY_POLICY)
    cross_resource = True  # attachments are judged with the role's trust policy
    reason = "Database-per-service is only as strong as the narrowest grant."
    remediation = ("List the actions and the table/topic/index ARNs the service needs; attach "
                   "only reviewed AWS-managed policies, to roles of their own service.")
    params = {"starResourceActions": STAR_RESOURCE_ACTIONS}

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type in (KMS_KEY, KMS_KEY_POLICY):
            yield from self._key_policy(r)
            return
        if r.type == IAM_ATTACHMENT:
            role = resolve(r.inputs.get("role"), ctx.of_type(IAM_ROLE), f"{r.name}.role", r)
            problem = managed_policy_problem(r.inputs.get("policyArn"), role)
            if problem:
                yield problem
            return
        if r.type == IAM_ROLE:
            for arn in as_list(r.inputs.get("managedPolicyArns")):
                problem = managed_policy_problem(arn, r)
                if problem:
                    yield problem
        allowed = set(self.param(ctx, "starResourceActions"))
        for label, doc in policy_documents(r):
            for i, s in enumerate(statements(doc, label)):
                if s.get("Effect", "Allow") != "Allow":
                    continue
                actions = listed(s.get("Action"))
                if "*" in actions or "NotAction" in s:
                    yield f"{label} statement {s.get('Sid', i)} allows every action"
                if "*" in listed(s.get("Resource")) and not (actions and set(actions) <= allowed):
                    yield f"{label} statement {s.get('Sid', i)} applies to resource *"

    def _key_policy(self, r: Resource) -> Iterator[str]:
        for i, s in enumerate(statements(r.inputs.get("policy"), "policy")):
            if s.get("Effect", "Allow") != "Allow":
                continue
            if "*" in listed(s.get("Action")) or "NotAction" in s:
                yield f"key policy statement {s.get('Sid', i)} allows every action"
            elif "*" in listed(s.get("Resource")) and not key_policy_star_resource(s):
                yield (f"key policy statement {s.get('Sid', i)} applies non-KMS actions to "
                       "resource *")


class LambdaPermissionSourceArn(Rule):
    """Lambda permissions for AWS services are scoped by source ARN.

    Checkov CKV_AWS_364.
    """

    id, name, group = "PS-LMB-02", "lambda-permission-source-arn", "ecs_lambda_iam"
    types = (LAMBDA_PERMISSION,)
    reason = "Without SourceArn any account's resource of that service can invoke the function."
    remediation = "Set sourceArn (and sourceAccount)."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        principal = str(r.get("principal", ""))
        if principal == "*" or (principal.endswith(".amazonaws.com") and not r.get("sourceArn")):
            yield f"principal {principal} without sourceArn"


class LogGroupRetentionKms(Rule):
    """Log groups have a retention (≥ the environment's minimum) and a KMS key.

    Checkov CKV_AWS_66 (retention), CKV_AWS_338 (≥ 1 year), CKV_AWS_158 (KMS).
    """

    id, name, group = "PS-LOG-01", "log-group-retention-kms", "ecs_lambda_iam"
    types = (LOG_GROUP,)
    reason = "Logs kept forever cost and leak; logs kept too briefly cannot be audited."
    remediation = "Set retentionInDays ≥ the minimum and kmsKeyId."
    params = {"minimumDays": {"dev": 7, "staging": 30, "prod": 365}}

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        days = int(r.get("retentionInDays", 0) or 0)
        minimum = int(self.param(ctx, "minimumDays"))
        if days == 0:
            yield "no retentionInDays (kept forever)"
        elif days < minimum:
            yield f"retentionInDays {days} < {minimum} required in {ctx.environment}"
        if not r.get("kmsKeyId"):
            yield "no kmsKeyId"


RULES: list[type[Rule]] = [NoPlainSecrets, TaskRoleNotExecutionRole, NoPrivilegedContainers,
                           ReadOnlyRootFs, NoPublicIp, ContainerLogging, ContainerInsights,
                           StreamMappingFailureHandling, NoStarInPolicies,
                           LambdaPermissionSourceArn, LogGroupRetentionKms]
