"""Secrets Manager, KMS and AWS Backup rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policy.attribution import references
from policy.model import Resource, Rule, StackContext, UnknownValue, as_list, is_unknown
from policy.rules._common import (
    BACKUP_PLAN,
    BACKUP_VAULT,
    KMS_KEY,
    KMS_KEY_POLICY,
    RDS_CLUSTER,
    RDS_INSTANCE,
    SECRET,
    SECRET_ROTATION,
    listed,
    statements,
)
from polystore.tags import TAG_ROTATION  # "not-supported: <why>" exempts a secret from rotation


class SecretCmkDescribed(Rule):
    """Secrets encrypted with a CMK and described.

    RDS-managed master secrets are no stack resources: they are checked through the
    cluster or instance that owns them (``manageMasterUserPassword`` needs
    ``masterUserSecretKmsKeyId``, else the secret uses the aws/secretsmanager key).
    Their rotation is RDS's own (every 7 days by default), so PS-SEC-02 has none to check.

    Checkov CKV_AWS_149.
    """

    id, name, group = "PS-SEC-01", "secret-cmk-and-description", "secrets_kms_backup"
    types = (SECRET, RDS_CLUSTER, RDS_INSTANCE)
    reason = "Secret reads are auditable through our key; a description says what it unlocks."
    remediation = ("Set kmsKeyId to the system CMK and a description (RDS-managed: "
                   "masterUserSecretKmsKeyId).")

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type != SECRET:
            if r.get("manageMasterUserPassword") is True and not r.get(
                    "masterUserSecretKmsKeyId"):
                yield "RDS-managed master secret without masterUserSecretKmsKeyId"
            return
        if not r.get("kmsKeyId"):
            yield "no kmsKeyId (aws/secretsmanager key)"
        if not r.get("description"):
            yield "no description"


class SecretRotation(Rule):
    """Rotation configured where supported (exempt: tag polystore:rotation=not-supported:...).

    Checkov CKV2_AWS_57; cdk-nag AwsSolutions-SMG4.
    """

    id, name, group = "PS-SEC-02", "secret-rotation", "secrets_kms_backup"
    types = (SECRET,)
    cross_resource = True
    level = "advisory"
    reason = "Long-lived credentials leak; rotated ones expire."
    remediation = "Add a SecretRotation, or tag polystore:rotation='not-supported: <why>'."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.tags().get(TAG_ROTATION, "").startswith("not-supported"):
            return
        for rot in ctx.of_type(SECRET_ROTATION):
            ref = rot.inputs.get("secretId")
            if is_unknown(ref) and rot.parent == r.parent:
                return
            if references(ref, r):
                return
        yield "no SecretRotation for this secret"


class KmsKeyRotation(Rule):
    """Automatic key rotation on.

    Checkov CKV_AWS_7; AWSGuard cmk-backing-key-rotation-enabled; cdk-nag AwsSolutions-KMS5.
    """

    id, name, group = "PS-KMS-01", "kms-key-rotation", "secrets_kms_backup"
    types = (KMS_KEY,)
    reason = "Rotation limits how much data one key version protects."
    remediation = "Set enableKeyRotation: true."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        spec = r.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
        if spec == "SYMMETRIC_DEFAULT" and r.get("enableKeyRotation") is not True:
            yield "enableKeyRotation is not true"


class KmsNoStarPrincipal(Rule):
    """No ``*`` principal in a key policy (unless conditioned).

    Checkov CKV_AWS_33.
    """

    id, name, group = "PS-KMS-02", "kms-no-star-principal", "secrets_kms_backup"
    types = (KMS_KEY, KMS_KEY_POLICY)
    reason = "A * principal lets any AWS account use or manage the key."
    remediation = "Name the account root and the service roles as principals."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        for i, s in enumerate(statements(r.inputs.get("policy"), "policy")):
            p = s.get("Principal")
            star = p == "*" or (isinstance(p, dict) and "*" in listed(p.get("AWS")))
            if s.get("Effect") == "Allow" and star and not s.get("Condition"):
                yield f"statement {s.get('Sid', i)} allows principal *"


class BackupVaultCmk(Rule):
    """Backup vault encrypted with a CMK.

    Checkov CKV_AWS_166.
    """

    id, name, group = "PS-BAK-01", "backup-vault-cmk", "secrets_kms_backup"
    types = (BACKUP_VAULT,)
    reason = "Recovery points are full copies of the data."
    remediation = "Set kmsKeyArn to the backup CMK."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not r.get("kmsKeyArn"):
            yield "no kmsKeyArn"


_CRON = re.compile(r"^cron\((.+)\)$")


def cadence(expression: str | None) -> str | None:
    """daily / weekly / monthly from an AWS cron(min hour dom month dow year) schedule."""
    m = _CRON.match(expression or "")
    if not m:
        return None
    fields = m.group(1).split()
    if len(fields) != 6:
        return None
    _, _, dom, month, dow, _ = fields
    if dom in ("*", "?") and dow in ("*", "?"):
        return "daily"
    if dom in ("*", "?"):
        return "weekly"
    return "monthly" if month in ("*", "?") else "yearly"


class BackupLifecycle(Rule):
    """Backup plans keep daily/weekly/monthly points for the environment's minimum, and copy
    to another region where required (prod: 30 d daily, 12 w weekly, 12 m monthly, a copy).

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-BAK-02", "backup-lifecycle-retention", "secrets_kms_backup"
    types = (BACKUP_PLAN,)
    reason = "Retention is what decides how far back a restore can go after silent corruption."
    remediation = "Add rules per cadence with lifecycle.deleteAfter ≥ the minimum and a copyAction."
    params = {
        "dailyDays": {"dev": 7, "staging": 14, "prod": 30},
        "weeklyDays": {"dev": 0, "staging": 28, "prod": 84},
        "monthlyDays": {"dev": 0, "staging": 0, "prod": 365},
        "crossRegionCopy": {"dev": False, "staging": False, "prod": True},
    }

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        kept: dict[str, int] = {}
        copies = False
        for rule in as_list(r.get("rules")):
            if not isinstance(rule, dict):
                continue
            kind = cadence(rule.get("schedule"))
            days = (rule.get("lifecycle") or {}).get("deleteAfter")
            if kind and isinstance(days, int | float):
                kept[kind] = max(kept.get(kind, 0), int(days))
            for action in as_list(rule.get("copyActions")):
                dest = action.get("destinationVaultArn") if isinstance(action, dict) else None
                if is_unknown(dest):
                    raise UnknownValue("rules.copyActions.destinationVaultArn")
                copies = copies or bool(dest)
        for kind in ("daily", "weekly", "monthly"):
            need = int(self.param(ctx, f"{kind}Days") or 0)
            # A longer cadence with enough retention also satisfies a shorter one's need.
            longer = {"daily": ("daily",), "weekly": ("daily", "weekly"),
                      "monthly": ("monthly",)}[kind]
            have = max((kept.get(k, 0) for k in longer), default=0)
            if need and have < need:
                yield f"{kind} recovery points kept {have} d < {need} d required"
        if self.param(ctx, "crossRegionCopy") and not copies:
            yield "no copyActions: no cross-region copy"


RULES: list[type[Rule]] = [SecretCmkDescribed, SecretRotation, KmsKeyRotation,
                           KmsNoStarPrincipal, BackupVaultCmk, BackupLifecycle]
