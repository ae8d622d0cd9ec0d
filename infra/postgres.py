"""PostgresDatabase: one postgres store — Aurora Serverless v2 or RDS PostgreSQL.

The engine is the store's for the environment (``engine_for``). Isolated subnets; a
security group admitting port 5432 only from the security groups named in ``clients``
(the owning service, a declared CDC connector); a parameter group forcing TLS, loading
pg_stat_statements and enabling logical replication on CDC sources; CMK encryption;
RDS-managed master password (Secrets Manager only); IAM auth; Performance Insights with the
CMK; enhanced monitoring; log export; backups per profile. Aurora readers scale on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.common import child, store_tags
from infra.environments import EnvironmentProfile
from polystore.topology.model import PostgresStore

PORT = 5432
ADMIN_USER = "postgres_admin"
BACKUP_WINDOW = "02:00-03:00"
MAINTENANCE_WINDOW = "sun:04:00-sun:05:00"


@dataclass(frozen=True)
class PostgresDatabaseArgs:
    store_name: str  # the topology's name for it (the polystore:store tag)
    store: PostgresStore
    identifier: str  # cluster / instance identifier
    environment: str
    profile: EnvironmentProfile
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    monitoring_role_arn: pulumi.Input[str]
    cdc_source: bool
    # The environment's AZs: cluster instances are pinned round-robin over them, so the
    # writer and its readers sit in distinct AZs (and a reviewer can see that they do).
    zones: tuple[str, ...] = ()
    # description -> security group id allowed to connect (owner first, then CDC connector)
    clients: dict[str, pulumi.Input[str]] = field(default_factory=dict)


class PostgresDatabase(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    database: str
    secret_arn: pulumi.Output[str]
    resource_arn: pulumi.Output[str]
    dbi_resource_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    engine: str

    def __init__(self, name: str, args: PostgresDatabaseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:postgres:PostgresDatabase", name, None, opts)
        s, p = args.store, args.profile
        self.engine = s.engine_for(args.environment)
        aurora = self.engine == "aurora-postgresql"
        major = s.version.split(".")[0]
        self.port, self.database = PORT, s.database
        tags = store_tags(args.store_name)  # on every taggable child: all of it is the store

        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"{args.identifier}: PostgreSQL from its owner service only",
            tags=tags, opts=child(self))
        for i, (who, sg_id) in enumerate(args.clients.items()):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-{i}", security_group_id=self.sg.id, ip_protocol="tcp",
                from_port=PORT, to_port=PORT, referenced_security_group_id=sg_id,
                description=f"PostgreSQL from {who}", tags=tags, opts=child(self))
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", name=f"{args.identifier}-isolated", subnet_ids=args.subnet_ids,
            description=f"{args.identifier}: isolated subnets", tags=tags, opts=child(self))

        params = [
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "shared_preload_libraries", "value": "pg_stat_statements",
             "apply_method": "pending-reboot"},
            {"name": "log_min_duration_statement", "value": "1000"},
        ]
        if args.cdc_source:
            params.append({"name": "rds.logical_replication", "value": "1",
                           "apply_method": "pending-reboot"})
        family = f"{'aurora-postgresql' if aurora else 'postgres'}{major}"
        common = {
            "storage_encrypted": True, "kms_key_id": args.kms_key_arn,
            "manage_master_user_password": True,
            "master_user_secret_kms_key_id": args.kms_key_arn,
            "iam_database_authentication_enabled": True,
            "backup_retention_period": p.backup_retention_days,
            "copy_tags_to_snapshot": True,
            "deletion_protection": p.deletion_protection,
            "skip_final_snapshot": not p.final_snapshot,
            "final_snapshot_identifier": f"{args.identifier}-final" if p.final_snapshot else None,
            "vpc_security_group_ids": [self.sg.id],
            "db_subnet_group_name": subnets.name,
            "enabled_cloudwatch_logs_exports": ["postgresql"],
            "port": PORT,
            "tags": tags,
        }
        instance_common = {
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": args.kms_key_arn,
            "performance_insights_retention_period": p.performance_insights_retention_days,
            "monitoring_interval": p.monitoring_interval_seconds,
            "monitoring_role_arn": args.monitoring_role_arn,
            "auto_minor_version_upgrade": True,
            "publicly_accessible": False,
        }
        protect = p.deletion_protection
        if aurora:
            pg = aws.rds.ClusterParameterGroup(
                f"{name}-params", family=family, parameters=params,
                description=f"{args.identifier}: TLS, pg_stat_statements, replication",
                tags=tags, opts=child(self))
            cluster = aws.rds.Cluster(
                name, cluster_identifier=args.identifier, engine="aurora-postgresql",
                engine_mode="provisioned", engine_version=s.version,
                db_cluster_parameter_group_name=pg.name,
                serverlessv2_scaling_configuration={
                    "min_capacity": p.aurora_min_acu, "max_capacity": p.aurora_max_acu},
                database_name=s.database, master_username=ADMIN_USER,
                preferred_backup_window=BACKUP_WINDOW,
                preferred_maintenance_window=MAINTENANCE_WINDOW,
                **common, opts=child(self, protect=protect))
            replicas = max(s.read_replicas_for(args.environment), p.aurora_min_readers)
            for i in range(1 + replicas):
                aws.rds.ClusterInstance(
                    f"{name}-{i}", identifier=f"{args.identifier}-{i}",
                    cluster_identifier=cluster.id, instance_class="db.serverless",
                    engine="aurora-postgresql", engine_version=s.version,
                    availability_zone=args.zones[i % len(args.zones)] if args.zones else None,
                    promotion_tier=i, tags=tags, **instance_common,
                    opts=child(self, protect=protect))
            if replicas and p.reader_autoscaling_max > replicas:
                target = aws.appautoscaling.Target(
                    f"{name}-readers", service_namespace="rds",
                    scalable_dimension="rds:cluster:ReadReplicaCount",
                    resource_id=pulumi.Output.concat("cluster:", cluster.cluster_identifier),
                    min_capacity=replicas, max_capacity=p.reader_autoscaling_max,
                    tags=tags, opts=child(self))
                aws.appautoscaling.Policy(
                    f"{name}-readers-cpu", policy_type="TargetTrackingScaling",
                    service_namespace=target.service_namespace,
                    scalable_dimension=target.scalable_dimension, resource_id=target.resource_id,
                    target_tracking_scaling_policy_configuration={
                        "target_value": 60, "scale_in_cooldown": 300, "scale_out_cooldown": 120,
                        "predefined_metric_specification": {
                            "predefined_metric_type": "RDSReaderAverageCPUUtilization"}},
                    opts=child(self))
            self.endpoint = cluster.endpoint
            self.reader_endpoint = cluster.reader_endpoint
            self.secret_arn = cluster.master_user_secrets[0].secret_arn
            self.resource_arn = cluster.arn
            self.dbi_resource_id = cluster.cluster_resource_id
        else:
            pg_rds = aws.rds.ParameterGroup(
                f"{name}-params", family=family, parameters=params,
                description=f"{args.identifier}: TLS, pg_stat_statements, replication",
                tags=tags, opts=child(self))
            db = aws.rds.Instance(
                name, identifier=args.identifier, engine="postgres", engine_version=s.version,
                instance_class=p.rds_instance_class, storage_type="gp3",
                allocated_storage=p.rds_allocated_storage_gb,
                max_allocated_storage=p.rds_max_allocated_storage_gb,
                multi_az=p.rds_multi_az, parameter_group_name=pg_rds.name,
                db_name=s.database, username=ADMIN_USER, backup_window=BACKUP_WINDOW,
                maintenance_window=MAINTENANCE_WINDOW,
                **common, **instance_common, opts=child(self, protect=protect))
            self.endpoint = db.address
            self.reader_endpoint = db.address
            self.secret_arn = db.master_user_secrets[0].secret_arn
            self.resource_arn = db.arn
            self.dbi_resource_id = db.resource_id
        self.security_group_id = self.sg.id
        self.register_outputs({
            "endpoint": self.endpoint, "reader_endpoint": self.reader_endpoint,
            "secret_arn": self.secret_arn, "resource_arn": self.resource_arn,
            "security_group_id": self.security_group_id, "engine": self.engine,
        })
