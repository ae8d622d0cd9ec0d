"""Helpers every component shares: child options, IAM documents, log groups, ARNs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

SHARED_SERVICE = "shared"  # the `service` tag of resources no single service owns


@dataclass(frozen=True)
class Context:
    """What every component of one system needs to know about where it is deployed."""

    system: str
    environment: str
    region: str
    account_id: pulumi.Output[str]

    @property
    def prefix(self) -> str:
        return f"{self.system}-{self.environment}"


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a component's child: parented (provider and tags follow the parent)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def statement(actions: list[str], resources: list[Any], sid: str | None = None,
              **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": "Allow", "Action": sorted(set(actions)),
                           "Resource": resources}
    if sid:
        out["Sid"] = sid
    out.update(extra)
    return out


def policy_document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy JSON whose ARNs may still be Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": service}}]})


def log_group(name: str, path: str, retention_days: int, kms_key_arn: pulumi.Input[str],
              parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """A log group with retention and KMS encryption (never the unbounded default)."""
    return aws.cloudwatch.LogGroup(
        name, name=path, retention_in_days=retention_days, kms_key_id=kms_key_arn,
        opts=child(parent))


def role(name: str, role_name: str, service: str, parent: pulumi.Resource,
         description: str) -> aws.iam.Role:
    return aws.iam.Role(name, name=role_name[:64], description=description,
                        assume_role_policy=assume_role_policy(service), opts=child(parent))


def inline_policy(name: str, role_: aws.iam.Role, statements: list[dict[str, Any]],
                  parent: pulumi.Resource) -> aws.iam.RolePolicy:
    return aws.iam.RolePolicy(name, role=role_.id, policy=policy_document(statements),
                              opts=child(parent))


def arn(ctx: Context, service: str, resource: str) -> pulumi.Output[str]:
    """An ARN in this stack's account and region (for resources named by convention)."""
    return ctx.account_id.apply(lambda acct: f"arn:aws:{service}:{ctx.region}:{acct}:{resource}")
