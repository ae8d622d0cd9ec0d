"""Environment profiles: how dev, staging and prod differ, in one typed table.

A stack picks a profile (``polystore:profile``, default: the stack's environment). Every
difference between environments the components need is a field here, so a component never
branches on an environment name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackupRule:
    """One AWS Backup rule: a schedule, how long recovery points live, optional copy."""

    name: str
    schedule: str  # AWS Backup cron expression
    delete_after_days: int
    cold_storage_after_days: int | None = None


@dataclass(frozen=True)
class EnvironmentProfile:
    name: str
    # Network. RDS subnet groups, Aurora and MSK Serverless need subnets in >= 2 AZs, so
    # even dev spans two; ``single_az`` says the workloads themselves run in one.
    az_count: int
    nat_gateways: int
    single_az: bool
    # PostgreSQL.
    aurora_min_acu: float
    aurora_max_acu: float
    rds_instance_class: str
    rds_allocated_storage_gb: int
    rds_max_allocated_storage_gb: int
    rds_multi_az: bool
    reader_autoscaling_max: int  # 0: no reader autoscaling
    # Aurora readers every cluster gets whatever the topology asks: a reader in another AZ
    # is what makes an Aurora cluster survive the loss of one AZ (prod's promise).
    aurora_min_readers: int
    deletion_protection: bool
    final_snapshot: bool
    backup_retention_days: int
    performance_insights_retention_days: int
    monitoring_interval_seconds: int
    # AWS Backup.
    backup_rules: tuple[BackupRule, ...]
    cross_region_copy: bool
    # OpenSearch.
    search_instance_type: str
    search_instance_count: int
    search_dedicated_masters: int  # 0: none
    search_master_type: str
    search_zone_awareness: bool
    search_volume_gb: int
    # ECS.
    service_desired_count: int
    service_max_count: int
    task_cpu: int
    task_memory: int
    # Logs.
    log_retention_days: int
    # DynamoDB (store-level ``deletion_protection`` still applies; the profile can only
    # turn it off for throwaway environments).
    table_deletion_protection: bool


DAILY = "cron(0 3 * * ? *)"
WEEKLY = "cron(0 4 ? * SUN *)"
MONTHLY = "cron(0 5 1 * ? *)"

PROFILES: dict[str, EnvironmentProfile] = {
    "dev": EnvironmentProfile(
        name="dev", az_count=2, nat_gateways=1, single_az=True,
        aurora_min_acu=0.5, aurora_max_acu=2, rds_instance_class="db.t4g.micro",
        rds_allocated_storage_gb=20, rds_max_allocated_storage_gb=50, rds_multi_az=False,
        reader_autoscaling_max=0, aurora_min_readers=0,
        deletion_protection=False, final_snapshot=False,
        backup_retention_days=7, performance_insights_retention_days=7,
        monitoring_interval_seconds=60,
        backup_rules=(BackupRule("daily", DAILY, 7),), cross_region_copy=False,
        search_instance_type="t3.small.search", search_instance_count=1,
        search_dedicated_masters=0, search_master_type="", search_zone_awareness=False,
        search_volume_gb=10,
        service_desired_count=1, service_max_count=2, task_cpu=256, task_memory=512,
        log_retention_days=30, table_deletion_protection=False,
    ),
    "staging": EnvironmentProfile(
        name="staging", az_count=2, nat_gateways=1, single_az=False,
        aurora_min_acu=0.5, aurora_max_acu=8, rds_instance_class="db.t4g.medium",
        rds_allocated_storage_gb=50, rds_max_allocated_storage_gb=200, rds_multi_az=True,
        reader_autoscaling_max=2, aurora_min_readers=0,
        deletion_protection=True, final_snapshot=True,
        backup_retention_days=14, performance_insights_retention_days=7,
        monitoring_interval_seconds=30,
        backup_rules=(BackupRule("daily", DAILY, 14), BackupRule("weekly", WEEKLY, 56)),
        cross_region_copy=False,
        search_instance_type="m6g.large.search", search_instance_count=2,
        search_dedicated_masters=0, search_master_type="", search_zone_awareness=True,
        search_volume_gb=50,
        service_desired_count=2, service_max_count=4, task_cpu=512, task_memory=1024,
        log_retention_days=90, table_deletion_protection=True,
    ),
    "prod": EnvironmentProfile(
        name="prod", az_count=3, nat_gateways=3, single_az=False,
        aurora_min_acu=2, aurora_max_acu=64, rds_instance_class="db.m7g.large",
        rds_allocated_storage_gb=100, rds_max_allocated_storage_gb=1000, rds_multi_az=True,
        reader_autoscaling_max=5, aurora_min_readers=1,
        deletion_protection=True, final_snapshot=True,
        backup_retention_days=30, performance_insights_retention_days=731,
        monitoring_interval_seconds=15,
        backup_rules=(
            BackupRule("daily", DAILY, 30),
            BackupRule("weekly", WEEKLY, 84),
            BackupRule("monthly", MONTHLY, 365, cold_storage_after_days=90),
        ),
        cross_region_copy=True,
        search_instance_type="r6g.large.search", search_instance_count=3,
        search_dedicated_masters=3, search_master_type="m6g.large.search",
        search_zone_awareness=True, search_volume_gb=200,
        service_desired_count=3, service_max_count=12, task_cpu=1024, task_memory=2048,
        log_retention_days=365, table_deletion_protection=True,
    ),
}  # fmt: skip


def profile(name: str) -> EnvironmentProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(
            f"unknown sizing profile {name!r} (polystore:profile); use one of: {known}"
        ) from None
