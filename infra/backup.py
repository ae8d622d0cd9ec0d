"""BackupPlan: an AWS Backup vault (CMK), the profile's rules, a selection of every store.

The selection lists every PostgreSQL cluster/instance and DynamoDB table by ARN, so a
store cannot exist without being backed up. Where the profile asks for it, every recovery
point is copied to a vault in another region (its own provider, its own CMK).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import Context, child
from infra.environments import EnvironmentProfile
from infra.kms import KmsKeys, KmsKeysArgs


@dataclass(frozen=True)
class BackupPlanArgs:
    ctx: Context
    profile: EnvironmentProfile
    kms_key_arn: pulumi.Input[str]
    resource_arns: list[pulumi.Input[str]]
    copy_provider: aws.Provider | None = None  # provider in the copy region


class BackupPlan(pulumi.ComponentResource):
    vault_arn: pulumi.Output[str]
    plan_id: pulumi.Output[str]

    def __init__(self, name: str, args: BackupPlanArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:backup:BackupPlan", name, None, opts)
        ctx, p = args.ctx, args.profile
        vault = aws.backup.Vault(name, name=ctx.prefix, kms_key_arn=args.kms_key_arn,
                                 opts=child(self))
        copy_vault = None
        if p.cross_region_copy:
            if args.copy_provider is None:
                raise ValueError(f"{ctx.prefix}: profile {p.name} copies backups across "
                                 "regions but no copy-region provider was given")
            copy_opts = child(self, provider=args.copy_provider)
            copy_keys = KmsKeys(f"{name}-copy", KmsKeysArgs(ctx=ctx, deletion_window_days=30),
                                opts=copy_opts)
            copy_vault = aws.backup.Vault(f"{name}-copy", name=f"{ctx.prefix}-copy",
                                          kms_key_arn=copy_keys.data_key_arn, opts=copy_opts)
        rules = []
        for r in p.backup_rules:
            lifecycle: dict[str, int] = {"delete_after": r.delete_after_days}
            if r.cold_storage_after_days:
                lifecycle["cold_storage_after"] = r.cold_storage_after_days
            rule: dict[str, object] = {
                "rule_name": r.name, "target_vault_name": vault.name, "schedule": r.schedule,
                "start_window": 60, "completion_window": 360, "lifecycle": lifecycle,
                "enable_continuous_backup": False,
            }
            if copy_vault is not None:
                rule["copy_actions"] = [{"destination_vault_arn": copy_vault.arn,
                                         "lifecycle": dict(lifecycle)}]
            rules.append(rule)
        plan = aws.backup.Plan(name, name=ctx.prefix, rules=rules, opts=child(self))
        backup_role = aws.iam.Role(
            f"{name}-role", name=f"{ctx.prefix}-backup",
            description="AWS Backup takes and restores recovery points",
            assume_role_policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "backup.amazonaws.com"}}]}), opts=child(self))
        for suffix, policy in (
            ("backup", "service-role/AWSBackupServiceRolePolicyForBackup"),
            ("restore", "service-role/AWSBackupServiceRolePolicyForRestores"),
        ):
            aws.iam.RolePolicyAttachment(f"{name}-{suffix}", role=backup_role.name,
                                         policy_arn=f"arn:aws:iam::aws:policy/{policy}",
                                         opts=child(self))
        if args.resource_arns:
            aws.backup.Selection(f"{name}-stores", name=f"{ctx.prefix}-stores",
                                 plan_id=plan.id, iam_role_arn=backup_role.arn,
                                 resources=args.resource_arns, opts=child(self))
        self.vault_arn = vault.arn
        self.plan_id = plan.id
        self.register_outputs({"vault_arn": self.vault_arn, "plan_id": self.plan_id})
