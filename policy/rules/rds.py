"""Aurora / RDS PostgreSQL rules: encryption, exposure, backups, availability, auth, logs."""

from __future__ import annotations

from collections.abc import Iterator

from policy.attribution import resolve
from policy.model import Resource, Rule, StackContext, UnknownValue, as_list
from policy.rules._common import (
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_CLUSTER_PG,
    RDS_INSTANCE,
    RDS_PG,
    covered_by_backup,
)

DATABASES = (RDS_CLUSTER, RDS_INSTANCE)


def _replica(r: Resource) -> bool:
    """Read replicas inherit encryption, credentials and backups from their source."""
    return r.type == RDS_INSTANCE and bool(r.get("replicateSourceDb"))


class RdsEncryptedWithCmk(Rule):
    """Storage encrypted with a customer-managed KMS key.

    Checkov CKV_AWS_16 (instance), CKV_AWS_96 (Aurora), CKV_AWS_327 (cluster CMK);
    AWSGuard rds-storage-encrypted; cdk-nag AwsSolutions-RDS2.
    """

    id, name, group = "PS-RDS-01", "rds-storage-encrypted-cmk", "rds"
    types = DATABASES
    reason = "Data at rest, snapshots and replicas must be encrypted with a key we control."
    remediation = "Set storageEncrypted: true and kmsKeyId to the system's data CMK."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if _replica(r):
            return
        if r.get("storageEncrypted") is not True:
            yield "storageEncrypted is not true"
        if not r.get("kmsKeyId"):
            yield "no kmsKeyId: encrypted with the AWS-managed key, not a CMK"


class RdsNotPublic(Rule):
    """Not publicly accessible.

    Checkov CKV_AWS_17; AWSGuard rds-instance-public-access-check.
    """

    id, name, group = "PS-RDS-02", "rds-not-publicly-accessible", "rds"
    types = (RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE)
    reason = "A database endpoint must never resolve to a public address."
    remediation = "Set publiclyAccessible: false and place the database in isolated subnets."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("publiclyAccessible") is True:
            yield "publiclyAccessible is true"


class RdsBackupRetention(Rule):
    """Automated backup retention at least the environment's minimum.

    Checkov CKV_AWS_133; AWSGuard rds-instance-backup-enabled; cdk-nag AwsSolutions-RDS13.
    """

    id, name, group = "PS-RDS-03", "rds-backup-retention", "rds"
    types = DATABASES
    reason = "Point-in-time restore reaches back only as far as the retained backups."
    remediation = "Raise backupRetentionPeriod to the environment's minimum (see config)."
    params = {"minimumDays": {"dev": 1, "staging": 7, "prod": 14}}

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if _replica(r):
            return
        days = r.get("backupRetentionPeriod", 1)
        minimum = int(self.param(ctx, "minimumDays"))
        if int(days) < minimum:
            yield f"backupRetentionPeriod {days} < {minimum} days required in {ctx.environment}"


class RdsMultiAz(Rule):
    """Multi-AZ in prod: RDS instances multiAz, Aurora clusters with instances in ≥ 2 AZs.

    Checkov CKV_AWS_157 (instance); cdk-nag: none found in the current AwsSolutions pack.
    """

    id, name, group = "PS-RDS-04", "rds-multi-az", "rds"
    cross_resource = True
    types = DATABASES
    reason = "One AZ failure must not take a production database down."
    remediation = ("RDS: multiAz: true. Aurora: at least two cluster instances, each with an "
                   "availabilityZone, in distinct AZs.")
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == RDS_INSTANCE:
            if not _replica(r) and r.get("multiAz") is not True:
                yield "multiAz is not true"
            return
        members = cluster_instances(r, ctx)
        if len(members) < 2:
            yield f"{len(members)} cluster instance(s): a writer and a reader in another AZ needed"
            return
        # Unpinned instances go wherever AWS puts them, which may be one AZ: the spread is
        # only proven when every instance names its zone.
        unpinned = sorted(m.name for m in members if not m.get("availabilityZone"))
        zones = {m.get("availabilityZone") for m in members} - {None, ""}
        if unpinned:
            yield (f"cluster instance(s) {', '.join(unpinned)} set no availabilityZone: the "
                   "spread over AZs is AWS's choice and cannot be reviewed")
        elif len(zones) < 2:
            yield f"all cluster instances pinned to {zones.pop()}"


def cluster_instances(cluster: Resource, ctx: StackContext) -> list[Resource]:
    out = []
    for inst in ctx.of_type(RDS_CLUSTER_INSTANCE):
        ref = inst.inputs.get("clusterIdentifier")
        try:
            hit = resolve(ref, [cluster], f"{inst.name}.clusterIdentifier", inst)
        except UnknownValue:
            # Computed reference: fall back on the component tree (same parent).
            hit = cluster if inst.parent and inst.parent in (cluster.parent, cluster.urn) else None
        if hit is not None:
            out.append(inst)
    return out


class RdsDeletionProtection(Rule):
    """Deletion protection on in prod.

    Checkov CKV_AWS_139 (cluster), CKV_AWS_293 (instance); cdk-nag AwsSolutions-RDS10.
    """

    id, name, group = "PS-RDS-05", "rds-deletion-protection", "rds"
    types = DATABASES
    reason = "A production database must not be deletable by one mistaken update."
    remediation = "Set deletionProtection: true for prod."
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not _replica(r) and r.get("deletionProtection") is not True:
            yield "deletionProtection is not true"


class RdsFinalSnapshot(Rule):
    """No skipped final snapshot in prod.

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-RDS-06", "rds-final-snapshot", "rds"
    types = DATABASES
    reason = "Deleting a production database must leave a final snapshot behind."
    remediation = "Set skipFinalSnapshot: false and a finalSnapshotIdentifier."
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if _replica(r):
            return
        if r.get("skipFinalSnapshot") is True:
            yield "skipFinalSnapshot is true"
        elif not r.get("finalSnapshotIdentifier"):
            yield "no finalSnapshotIdentifier: deletion would fail or lose the data"


class RdsIamAuth(Rule):
    """IAM database authentication enabled.

    Checkov CKV_AWS_128 / CKV_AWS_162 (cluster), CKV_AWS_161 (instance);
    cdk-nag AwsSolutions-RDS6.
    """

    id, name, group = "PS-RDS-07", "rds-iam-authentication", "rds"
    types = DATABASES
    reason = "Services log in with short-lived IAM tokens, not long-lived passwords."
    remediation = "Set iamDatabaseAuthenticationEnabled: true."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not _replica(r) and r.get("iamDatabaseAuthenticationEnabled") is not True:
            yield "iamDatabaseAuthenticationEnabled is not true"


class RdsLogExports(Rule):
    """PostgreSQL logs exported to CloudWatch.

    Checkov CKV_AWS_324 (cluster), CKV_AWS_129 (instance).
    """

    id, name, group = "PS-RDS-08", "rds-postgresql-logs-exported", "rds"
    types = DATABASES
    reason = "Connection, error and audit logs must outlive the instance."
    remediation = 'Set enabledCloudwatchLogsExports: ["postgresql"].'

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if "postgresql" not in as_list(r.get("enabledCloudwatchLogsExports")):
            yield "enabledCloudwatchLogsExports does not include postgresql"


class RdsEnhancedMonitoring(Rule):
    """Enhanced monitoring on every instance.

    Checkov CKV_AWS_118.
    """

    id, name, group = "PS-RDS-09", "rds-enhanced-monitoring", "rds"
    types = (RDS_CLUSTER_INSTANCE, RDS_INSTANCE)
    reason = "OS-level metrics are what explain a slow database."
    remediation = "Set monitoringInterval (e.g. 60) and monitoringRoleArn."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if int(r.get("monitoringInterval", 0)) <= 0:
            yield "monitoringInterval is 0 (enhanced monitoring off)"
        elif not r.get("monitoringRoleArn"):
            yield "no monitoringRoleArn"


class RdsPerformanceInsightsCmk(Rule):
    """Performance Insights on and encrypted with a CMK.

    Checkov CKV_AWS_353 (enabled), CKV_AWS_354 (CMK).
    """

    id, name, group = "PS-RDS-10", "rds-performance-insights-cmk", "rds"
    types = (RDS_CLUSTER_INSTANCE, RDS_INSTANCE)
    reason = "Performance Insights captures SQL text, which is data: encrypt it with our key."
    remediation = "Set performanceInsightsEnabled: true and performanceInsightsKmsKeyId."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("performanceInsightsEnabled") is not True:
            yield "performanceInsightsEnabled is not true"
        elif not r.get("performanceInsightsKmsKeyId"):
            yield "no performanceInsightsKmsKeyId"


class RdsAutoMinorUpgrade(Rule):
    """Automatic minor version upgrades on.

    Checkov CKV_AWS_226.
    """

    id, name, group = "PS-RDS-11", "rds-auto-minor-version-upgrade", "rds"
    types = (RDS_CLUSTER_INSTANCE, RDS_INSTANCE)
    reason = "Minor releases carry security fixes."
    remediation = "Leave autoMinorVersionUpgrade unset or true."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("autoMinorVersionUpgrade") is False:
            yield "autoMinorVersionUpgrade is false"


class RdsCopyTagsToSnapshot(Rule):
    """Tags copied to snapshots.

    Checkov CKV_AWS_313 (cluster), CKV2_AWS_60 (instance).
    """

    id, name, group = "PS-RDS-12", "rds-copy-tags-to-snapshot", "rds"
    types = DATABASES
    reason = "Snapshots keep their system, store and data-class tags (backup selection, cost)."
    remediation = "Set copyTagsToSnapshot: true."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not _replica(r) and r.get("copyTagsToSnapshot") is not True:
            yield "copyTagsToSnapshot is not true"


class RdsForceSsl(Rule):
    """TLS forced by the parameter group (rds.force_ssl = 1).

    Checkov CKV2_AWS_69 (instance encryption in transit).
    """

    id, name, group = "PS-RDS-13", "rds-force-ssl", "rds"
    cross_resource = True
    types = DATABASES
    reason = "Clients must not be able to connect in clear text."
    remediation = "Attach a (cluster) parameter group with rds.force_ssl = 1."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if _replica(r):
            return
        key, pg_type = (("dbClusterParameterGroupName", RDS_CLUSTER_PG) if r.type == RDS_CLUSTER
                        else ("parameterGroupName", RDS_PG))
        ref = r.inputs.get(key)
        if ref is None:
            yield f"no {key}: the default group does not force TLS"
            return
        pg = resolve(ref, ctx.of_type(pg_type), key, r)
        if pg is None:
            yield f"{key} {ref!r} is not a parameter group of this stack"
            return
        params = {str(p.get("name")): str(p.get("value")) for p in as_list(pg.get("parameters"))
                  if isinstance(p, dict)}
        if params.get("rds.force_ssl") != "1":
            yield f"parameter group {pg.name} does not set rds.force_ssl = 1"


class RdsManagedMasterPassword(Rule):
    """Master password managed by RDS in Secrets Manager; no plain password anywhere.

    Checkov: none found; cdk-nag: none found (AwsSolutions-DOC3 is the DocumentDB analogue).
    """

    id, name, group = "PS-RDS-14", "rds-managed-master-password", "rds"
    types = DATABASES
    reason = "A password in program inputs ends up in state files and previews."
    remediation = "Set manageMasterUserPassword: true and remove masterPassword/password."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if _replica(r):
            return
        plain = ("masterPassword", "masterPasswordWo") if r.type == RDS_CLUSTER else (
            "password", "passwordWo")
        for key in plain:
            if key in r.inputs and r.inputs[key] is not None:
                yield f"{key} is set in the program"
        if r.get("manageMasterUserPassword") is not True:
            yield "manageMasterUserPassword is not true"


class RdsBackupSelection(Rule):
    """Every database is selected by an AWS Backup plan.

    Checkov CKV2_AWS_8 (RDS cluster in an AWS Backup plan).
    """

    id, name, group = "PS-RDS-15", "rds-backup-selection", "rds"
    cross_resource = True
    types = DATABASES
    reason = "Automated backups die with the cluster; AWS Backup copies outlive it."
    remediation = "Add the cluster/instance ARN (or its backup tag) to a backup selection."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not _replica(r) and not covered_by_backup(r, ctx):
            yield "not selected by any aws:backup/selection:Selection"


RULES: list[type[Rule]] = [
    RdsEncryptedWithCmk, RdsNotPublic, RdsBackupRetention, RdsMultiAz, RdsDeletionProtection,
    RdsFinalSnapshot, RdsIamAuth, RdsLogExports, RdsEnhancedMonitoring,
    RdsPerformanceInsightsCmk, RdsAutoMinorUpgrade, RdsCopyTagsToSnapshot, RdsForceSsl,
    RdsManagedMasterPassword, RdsBackupSelection,
]
