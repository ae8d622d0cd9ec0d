"""Helpers every component shares: child options, IAM documents, log groups, ARNs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from polystore.tags import (  # noqa: F401  (re-exported: the components import them here)
    ROLE_CDC_CONNECTOR,
    ROLE_CDC_SINK,
    ROLE_DB_SETUP,
    ROLE_KAFKA_ADMIN,
    ROLE_REINDEX,
    ROLE_SEARCH_BOOTSTRAP,
    ROLE_SERVICE,
    ROLE_STREAM_TO_SEARCH,
    TAG_ENVIRONMENT,
    TAG_LINK,
    TAG_ROLE,
    TAG_ROTATION,
    TAG_SERVICE,
    TAG_STORE,
    TAG_STORES,
    TAG_SYSTEM,
    TAG_TIER,
)

HANDLERS = Path(__file__).resolve().parent / "handlers"  # Lambda sources the components package
SHARED_SERVICE = "shared"  # the `service` tag of resources no single service owns

# Attribution tags (docs/infra.md, "Tags"): one vocabulary with policy/, in polystore.tags.

Tags = dict[str, str]


def store_tags(store: str) -> Tags:
    return {TAG_STORE: store}


def stores_tags(stores: list[str]) -> Tags:
    return {TAG_STORES: " ".join(sorted(stores))}


def role_tags(role_: str, link: str | None = None) -> Tags:
    return {TAG_ROLE: role_, **({TAG_LINK: link} if link else {})}


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
              parent: pulumi.Resource, tags: Tags | None = None) -> aws.cloudwatch.LogGroup:
    """A log group with retention and KMS encryption (never the unbounded default)."""
    return aws.cloudwatch.LogGroup(
        name, name=path, retention_in_days=retention_days, kms_key_id=kms_key_arn,
        tags=tags or None, opts=child(parent))


def role(name: str, role_name: str, service: str, parent: pulumi.Resource,
         description: str, tags: Tags | None = None) -> aws.iam.Role:
    return aws.iam.Role(name, name=role_name[:64], description=description,
                        assume_role_policy=assume_role_policy(service), tags=tags or None,
                        opts=child(parent))


def inline_policy(name: str, role_: aws.iam.Role, statements: list[dict[str, Any]],
                  parent: pulumi.Resource) -> aws.iam.RolePolicy:
    return aws.iam.RolePolicy(name, role=role_.id, policy=policy_document(statements),
                              opts=child(parent))


def arn(ctx: Context, service: str, resource: str) -> pulumi.Output[str]:
    """An ARN in this stack's account and region (for resources named by convention).

    Known at preview (the account comes from an invoke), unlike a new resource's ``arn``
    output: documents built from it (task definitions, policies) stay reviewable.
    """
    return ctx.account_id.apply(lambda acct: f"arn:aws:{service}:{ctx.region}:{acct}:{resource}")


def role_arn(ctx: Context, role_name: str) -> pulumi.Output[str]:
    """The ARN of a role created with this name (IAM ARNs have no region; no path here)."""
    return ctx.account_id.apply(lambda acct: f"arn:aws:iam::{acct}:role/{role_name[:64]}")


def ecr_image(ctx: Context, repository: str, tag: str = "latest") -> pulumi.Output[str]:
    """The image URI of a private ECR repository, as ``repository_url`` will be."""
    return ctx.account_id.apply(
        lambda acct: f"{acct}.dkr.ecr.{ctx.region}.amazonaws.com/{repository}:{tag}")
