"""Customer-managed KMS keys of one system: one for data at rest, one for logs.

Key policies name principals explicitly (the account root for administration, AWS service
principals scoped by source account); no statement has a ``*`` principal. ``Resource: *``
in a key policy means "this key" and is the only form KMS accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import Context, child

ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:Create*", "kms:Delete*", "kms:Describe*", "kms:Disable*",
    "kms:Enable*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:Update*",
]  # fmt: skip
USE_ACTIONS = [
    "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
    "kms:CreateGrant", "kms:ListGrants",
]  # fmt: skip


@dataclass(frozen=True)
class KmsKeysArgs:
    ctx: Context
    deletion_window_days: int


def _key_policy(account: str, region: str, logs: bool) -> str:
    root = f"arn:aws:iam::{account}:root"
    statements: list[dict[str, object]] = [
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root},
         "Action": ADMIN_ACTIONS, "Resource": "*"},
        {"Sid": "AccountPrincipalsUseThroughIam", "Effect": "Allow", "Principal": {"AWS": root},
         "Action": USE_ACTIONS, "Resource": "*"},
    ]
    if logs:
        statements.append({
            "Sid": "CloudWatchLogsEncrypts", "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                       "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:*"}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class KmsKeys(pulumi.ComponentResource):
    data_key_arn: pulumi.Output[str]
    logs_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: KmsKeysArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:kms:KmsKeys", name, None, opts)
        ctx = args.ctx
        self.data_key = aws.kms.Key(
            f"{name}-data",
            description=f"{ctx.prefix}: data at rest (databases, tables, search, secrets, backups)",
            enable_key_rotation=True, deletion_window_in_days=args.deletion_window_days,
            policy=ctx.account_id.apply(lambda a: _key_policy(a, ctx.region, logs=False)),
            opts=child(self))
        aws.kms.Alias(f"{name}-data-alias", name=f"alias/{ctx.prefix}-data",
                      target_key_id=self.data_key.key_id, opts=child(self))
        self.logs_key = aws.kms.Key(
            f"{name}-logs", description=f"{ctx.prefix}: CloudWatch log groups",
            enable_key_rotation=True, deletion_window_in_days=args.deletion_window_days,
            policy=ctx.account_id.apply(lambda a: _key_policy(a, ctx.region, logs=True)),
            opts=child(self))
        aws.kms.Alias(f"{name}-logs-alias", name=f"alias/{ctx.prefix}-logs",
                      target_key_id=self.logs_key.key_id, opts=child(self))
        self.data_key_arn = self.data_key.arn
        self.logs_key_arn = self.logs_key.arn
        self.register_outputs({"data_key_arn": self.data_key_arn,
                               "logs_key_arn": self.logs_key_arn})
