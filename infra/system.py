"""SystemDeployment: every component one system of the topology needs, wired together.

Order matters only where one thing admits or grants another: identities (security group
and roles of each service, of the Debezium worker) come first, then the stores that admit
them, then the links, then the services with grants built from store ownership, then the
backup selection over every store. Every resource is tagged system/service/environment
through the default tags of a per-service provider (``service: shared`` for the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from cdc.plan import sink_spec
from infra import access, outputs
from infra.backup import BackupPlan, BackupPlanArgs
from infra.cdc_sink import CdcSink, CdcSinkArgs
from infra.common import (
    ROLE_CDC_CONNECTOR,
    ROLE_DB_SETUP,
    ROLE_KAFKA_ADMIN,
    ROLE_REINDEX,
    ROLE_SERVICE,
    SHARED_SERVICE,
    TAG_ENVIRONMENT,
    TAG_ROTATION,
    TAG_SERVICE,
    TAG_SYSTEM,
    Context,
    assume_role_policy,
    ecr_image,
    role_tags,
    statement,
)
from infra.config import StackSettings
from infra.dynamo import DynamoTable, DynamoTableArgs
from infra.kms import KmsKeys, KmsKeysArgs
from infra.network import Network, NetworkArgs
from infra.postgres import PostgresDatabase, PostgresDatabaseArgs
from infra.reindex_task import ReindexTask, ReindexTaskArgs
from infra.search import SearchDomain, SearchDomainArgs
from infra.service_runtime import (
    EcsCluster,
    EcsClusterArgs,
    FargateService,
    FargateServiceArgs,
    ServiceIdentity,
    ServiceIdentityArgs,
)
from infra.stream_to_search import StreamToSearch, StreamToSearchArgs
from infra.streaming import (
    StreamingPlatform,
    StreamingPlatformArgs,
    client_statements,
    connect_worker_env,
    connector_env,
    debezium_connector,
    topics_command,
)
from polystore.naming import (
    replication_role_name,
    service_role_name,
    store_env_var,
    store_physical_name,
)
from polystore.topology.model import System
from sync.link_config import link_config

CONNECT = "kafka-connect"
KAFKA_ADMIN = "kafka-admin"
DB_SETUP = "dbsetup"  # one-off task per PostgreSQL store: dbsetup-<store>


@dataclass(frozen=True)
class SystemDeploymentArgs:
    system: System
    settings: StackSettings
    account_id: pulumi.Output[str]
    cidr: str


class SystemDeployment(pulumi.ComponentResource):
    outputs: dict[str, Any]

    def __init__(self, name: str, args: SystemDeploymentArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:system:SystemDeployment", name, None, opts)
        system, st = args.system, args.settings
        p = st.profile
        ctx = Context(system.name, st.environment, st.region, args.account_id)
        self.ctx, self.system = ctx, system

        def provider(service: str, region: str = st.region, suffix: str = "") -> aws.Provider:
            return aws.Provider(f"{name}-{service}{suffix}", region=region, default_tags={"tags": {
                TAG_SYSTEM: system.name, TAG_SERVICE: service, TAG_ENVIRONMENT: st.environment,
                "managed-by": "polystore"}}, opts=pulumi.ResourceOptions(parent=self))

        shared_p = provider(SHARED_SERVICE)
        svc_p = {svc: provider(svc) for svc in system.services}

        def shared() -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, providers={"aws": shared_p})

        def owned(service: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, providers={"aws": svc_p[service]})

        keys = KmsKeys(f"{name}-kms", KmsKeysArgs(ctx, 7 if p.name == "dev" else 30), shared())
        net = Network(f"{name}-net", NetworkArgs(
            ctx=ctx, cidr=args.cidr, zones=st.zones(), nat_gateways=p.nat_gateways,
            logs_key_arn=keys.logs_key_arn, log_retention_days=p.log_retention_days), shared())
        cluster = EcsCluster(f"{name}-ecs", EcsClusterArgs(ctx), shared())

        def identity(service: str, o: pulumi.ResourceOptions, role: str) -> ServiceIdentity:
            return ServiceIdentity(f"{name}-{service}", ServiceIdentityArgs(
                ctx=ctx, service=service, vpc_id=net.vpc_id, vpc_cidr=args.cidr,
                tags=role_tags(role)), o)

        idents = {svc: identity(svc, owned(svc), ROLE_SERVICE) for svc in system.services}
        cdc_links = system.cdc_links()
        if len(cdc_links) > 1:
            raise ValueError(f"{system.name}: {len(cdc_links)} CDC links; the Kafka Connect "
                             "worker reads one replication login (PGUSER/PGPASSWORD)")
        connect = identity(CONNECT, shared(), ROLE_CDC_CONNECTOR) if cdc_links else None
        # Each PostgreSQL store's setup task (python -m dbsetup), as its owner.
        setups = {store: identity(f"{DB_SETUP}-{store}", owned(pg.owner), ROLE_DB_SETUP)
                  for store, pg in system.postgres_stores().items()}

        # --- stores ------------------------------------------------------------------------
        databases: dict[str, PostgresDatabase] = {}
        if system.postgres_stores():
            monitoring = aws.iam.Role(
                f"{name}-rds-monitoring", name=f"{ctx.prefix}-rds-monitoring",
                description="RDS enhanced monitoring",
                assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
                opts=shared())
            aws.iam.RolePolicyAttachment(
                f"{name}-rds-monitoring", role=monitoring.name, policy_arn=(
                    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
                opts=shared().merge(pulumi.ResourceOptions(parent=monitoring)))
        for store_name, pg in system.postgres_stores().items():
            clients: dict[str, pulumi.Input[str]] = {
                f"owner service {pg.owner}": idents[pg.owner].security_group_id,
                f"its setup task ({DB_SETUP}-{store_name})": setups[store_name].security_group_id}
            cdc_source = store_name in system.cdc_sources()
            if cdc_source and connect is not None:
                clients["declared CDC connector (Debezium)"] = connect.security_group_id
            databases[store_name] = PostgresDatabase(f"{name}-{store_name}", PostgresDatabaseArgs(
                store_name=store_name, store=pg, identifier=f"{ctx.prefix}-{store_name}"[:63],
                environment=st.environment, profile=p, vpc_id=net.vpc_id,
                subnet_ids=net.isolated_subnet_ids, kms_key_arn=keys.data_key_arn,
                monitoring_role_arn=monitoring.arn, cdc_source=cdc_source or pg.logical_replication,
                zones=st.zones(), clients=clients), owned(pg.owner))
        tables: dict[str, DynamoTable] = {}
        for store_name, t in system.dynamodb_stores().items():
            tables[store_name] = DynamoTable(f"{name}-{store_name}", DynamoTableArgs(
                store_name=store_name, store=t,
                physical_name=store_physical_name(system, st.environment, store_name),
                kms_key_arn=keys.data_key_arn,
                deletion_protection=t.deletion_protection and p.table_deletion_protection),
                owned(t.owner))
        search = None
        if system.search_stores():
            search = SearchDomain(f"{name}-search", SearchDomainArgs(
                ctx=ctx, profile=p, vpc_id=net.vpc_id, subnet_ids=net.isolated_subnet_ids,
                lambda_subnet_ids=net.private_subnet_ids, vpc_cidr=args.cidr,
                kms_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn,
                clients={f"owner service {o}": idents[o].security_group_id for o in sorted(
                    {s.owner for s in system.search_stores().values()})},
                stores=list(system.search_stores())), shared())
        streaming = None
        if system.topic_stores():
            users = sorted({s.owner for s in system.topic_stores().values()} | {
                svc for svc in system.services if system.consumed_topics(svc)})
            clients = {f"service {u}": idents[u].security_group_id for u in users}
            if connect is not None:
                clients["Kafka Connect (Debezium)"] = connect.security_group_id
            streaming = StreamingPlatform(f"{name}-kafka", StreamingPlatformArgs(
                ctx=ctx, vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids,
                clients=clients, stores=list(system.topic_stores())), shared())

        # --- links -------------------------------------------------------------------------
        index_readers: dict[str, list[pulumi.Input[str]]] = {
            s: [idents[spec.owner].task_role_arn] for s, spec in system.search_stores().items()}
        index_rebuilders: dict[str, list[pulumi.Input[str]]] = {
            s: [] for s in system.search_stores()}
        reindexers: dict[str, ServiceIdentity] = {}
        for link_name, link in system.stream_links().items():
            assert search is not None  # the topology check guarantees a search target
            src, dst = system.stores[link.source], system.stores[link.target]
            index = store_physical_name(system, st.environment, link.target)
            sync = StreamToSearch(f"{name}-{link_name}", StreamToSearchArgs(
                ctx=ctx, link=link_name, batch_size=link.batch_size,
                stream_arn=tables[link.source].table.stream_arn,
                table_arn=tables[link.source].table_arn,
                table_env=(store_env_var(link.source, src) or "",
                           tables[link.source].table_name),
                index_env=(store_env_var(link.target, dst) or "", index),
                index_arn=search.index_arn(index), search_url=search.url, vpc_id=net.vpc_id,
                vpc_cidr=args.cidr, subnet_ids=net.private_subnet_ids,
                kms_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn,
                log_retention_days=p.log_retention_days,
                link_config_json=link_config(system, link_name).to_json()), owned(src.owner))
            search.admit(f"stream-to-search Lambda {link_name}", sync.security_group_id)
            index_readers[link.target].append(sync.role_arn)
            # The one-off reindex task of the link (its task definition follows the
            # services, whose image it runs): identity first, so the index admits it.
            reindexers[link_name] = ServiceIdentity(
                f"{name}-reindex-{link_name}", ServiceIdentityArgs(
                    ctx=ctx, service=f"reindex-{link_name}", vpc_id=net.vpc_id,
                    vpc_cidr=args.cidr, tags=role_tags(ROLE_REINDEX, link_name)),
                owned(src.owner))
            search.admit(f"reindex task {link_name}", reindexers[link_name].security_group_id)
            index_rebuilders[link.target].append(reindexers[link_name].task_role_arn)
        if search is not None:
            search.apply_indexes(f"{name}-search-indexes", [{
                "name": store_physical_name(system, st.environment, s),
                "security_role": f"polystore-{store_physical_name(system, st.environment, s)}",
                "body": spec.body(), "dynamic_settings": spec.dynamic_settings(),
                "iam_roles": index_readers[s],
                **({"reindex_roles": index_rebuilders[s]} if index_rebuilders[s] else {}),
            } for s, spec in system.search_stores().items()])

        workers: dict[str, FargateService] = {}
        if streaming is not None:
            topic_specs = {store_physical_name(system, st.environment, n): (t.partitions,
                           t.retention_hours) for n, t in system.topic_stores().items()}
            admin = identity(KAFKA_ADMIN, shared(), ROLE_KAFKA_ADMIN)
            streaming.admit("kafka-admin task", admin.security_group_id)
            workers[KAFKA_ADMIN] = self._worker(KAFKA_ADMIN, admin, cluster, net, keys, p,
                                                st, environment={
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers},
                statements=client_statements(streaming.cluster_arn,
                                             create=tuple(topic_specs)),
                command=topics_command("$KAFKA_BOOTSTRAP_SERVERS", topic_specs), count=0)
        # A CDC link's replication password: generated and stored by the setup task
        # (PutSecretValue), so it never sits in Pulumi state; the Connect worker reads it.
        replication_secrets = {
            link_name: aws.secretsmanager.Secret(
                f"{name}-{link_name}-replication", name=f"{ctx.prefix}/{link_name}/replication",
                description=f"{ctx.prefix}: password of the CDC replication login "
                            f"{replication_role_name(system, link_name)} (set by the "
                            f"{DB_SETUP}-{link.source} task)",
                kms_key_id=keys.data_key_arn, recovery_window_in_days=7,
                tags={TAG_ROTATION: "not-supported: generated by the dbsetup task, which "
                                    "keeps it; rotating = new value, rerun the task, restart "
                                    "Kafka Connect"},
                opts=owned(system.stores[link.source].owner))
            for link_name, link in cdc_links.items()}
        for store_name, pg in system.postgres_stores().items():
            workers[f"{DB_SETUP}-{store_name}"] = self._db_setup(
                store_name, pg.owner, setups[store_name], databases[store_name], cluster, net,
                keys, p, st, {n: replication_secrets[n] for n, link in cdc_links.items()
                              if link.source == store_name})
        if cdc_links and streaming is not None and connect is not None:
            connectors, cdc_topics = [], []
            secrets: dict[str, Any] = {}
            environment: dict[str, Any] = {}
            for link_name, link in cdc_links.items():
                db = databases[link.source]
                topic = store_physical_name(system, st.environment, link.topic)
                cdc_topics.append(topic)
                connectors.append(debezium_connector(system, link_name, st.environment,
                                                     db.endpoint))
                environment["PGUSER"] = replication_role_name(system, link_name)
                secrets["PGPASSWORD"] = replication_secrets[link_name].arn
                target = system.stores[link.target]
                sink = CdcSink(f"{name}-{link_name}", CdcSinkArgs(
                    ctx=ctx, link=link_name, topic=topic, batch_size=100,
                    spec_json=sink_spec(system, link_name).to_json(),
                    cluster_arn=streaming.cluster_arn,
                    table_env=(store_env_var(link.target, target) or "",
                               tables[link.target].table_name),
                    table_arn=tables[link.target].table_arn, vpc_id=net.vpc_id,
                    vpc_cidr=args.cidr, subnet_ids=net.private_subnet_ids,
                    kms_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn,
                    log_retention_days=p.log_retention_days), owned(target.owner))
                streaming.admit(f"CDC sink Lambda {link_name}", sink.security_group_id)
            group = f"{ctx.prefix}-connect"
            internal = [f"{group}-configs", f"{group}-offsets", f"{group}-status"]
            workers[CONNECT] = self._worker(CONNECT, connect, cluster, net, keys, p, st,
                environment={
                    "CONNECT_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                    "CONNECT_GROUP_ID": group, "CONNECT_CONFIG_STORAGE_TOPIC": internal[0],
                    "CONNECT_OFFSET_STORAGE_TOPIC": internal[1],
                    "CONNECT_STATUS_STORAGE_TOPIC": internal[2], **connect_worker_env(),
                    **connector_env(pulumi.Output.json_dumps(connectors)), **environment},
                statements=client_statements(streaming.cluster_arn,
                                             write=(*cdc_topics, *internal),
                                             read=tuple(internal), create=tuple(internal),
                                             group=group),
                secrets=secrets, secret_arns=list(secrets.values()),
                count=1 if p.single_az else 2)

        # --- services ----------------------------------------------------------------------
        services: dict[str, tuple[access.ServiceAccess, FargateService]] = {}
        for svc, spec in system.services.items():
            acc = access.service_access(ctx, system, svc, tables=tables, databases=databases,
                                        search=search, streaming=streaming,
                                        data_key_arn=keys.data_key_arn)
            runtime = FargateService(f"{name}-{svc}", FargateServiceArgs(
                ctx=ctx, service=svc, identity=idents[svc], cluster=cluster,
                subnet_ids=net.private_subnet_ids,
                image=st.images.get(f"{system.name}/{svc}"), environment=acc.environment,
                secrets=acc.secrets, secret_arns=acc.secret_arns,
                task_statements=acc.statements, kms_key_arn=keys.data_key_arn,
                logs_key_arn=keys.logs_key_arn, log_retention_days=p.log_retention_days,
                cpu=p.task_cpu, memory=p.task_memory, desired_count=p.service_desired_count,
                max_count=p.service_max_count, port=spec.port,
                # The services image (infra/docker/services/Dockerfile) runs
                # `python -m services SYSTEM.SERVICE`; /health checks the service's stores.
                command=[f"{system.name}.{svc}", "--port", str(spec.port)],
                health_path="/health"), owned(svc))
            services[svc] = (acc, runtime)

        # --- reindex tasks (one-off; docs/sync.md) ----------------------------------------
        reindex_tasks: dict[str, ReindexTask] = {}
        for link_name, link in system.stream_links().items():
            assert search is not None
            src, dst = system.stores[link.source], system.stores[link.target]
            repo = f"{system.name}/{dst.owner}"  # the services image, as its owner runs it
            index = store_physical_name(system, st.environment, link.target)
            reindex_tasks[link_name] = ReindexTask(f"{name}-reindex-{link_name}", ReindexTaskArgs(
                ctx=ctx, link=link_name, target=f"{system.name}.{link.target}",
                identity=reindexers[link_name],
                image=st.images.get(repo) or ecr_image(ctx, repo), image_repository=repo,
                environment={"AWS_REGION": st.region, "OPENSEARCH_URL": search.url,
                             store_env_var(link.source, src) or "": tables[link.source].table_name,
                             store_env_var(link.target, dst) or "": index},
                table_arn=tables[link.source].table_arn,
                stream_arn=tables[link.source].table.stream_arn, domain_arn=search.domain_arn,
                index=index, kms_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn,
                log_retention_days=p.log_retention_days, cpu=max(p.task_cpu, 1024),
                memory=max(p.task_memory, 2048), subnet_ids=net.private_subnet_ids),
                owned(src.owner))

        # --- backups -----------------------------------------------------------------------
        copy_provider = (provider(SHARED_SERVICE, st.backup_copy_region, "-copy-region")
                         if p.cross_region_copy and st.backup_copy_region else None)
        backup = BackupPlan(f"{name}-backup", BackupPlanArgs(
            ctx=ctx, profile=p, kms_key_arn=keys.data_key_arn,
            resource_arns=[d.resource_arn for d in databases.values()]
            + [t.table_arn for t in tables.values()], copy_provider=copy_provider), shared())

        self.outputs = outputs.system_outputs(
            system=system, environment=st.environment, services=services, databases=databases,
            tables=tables, search=search, streaming=streaming, network=net, cluster=cluster,
            backup=backup, workers=workers)
        if reindex_tasks:
            self.outputs["reindex_tasks"] = {link: {
                "family": t.family, "task_definition_arn": t.task_definition_arn,
                "cluster": cluster.cluster_name, **t.run_network,
            } for link, t in reindex_tasks.items()}
        self.register_outputs(self.outputs)

    def _db_setup(self, store: str, owner: str, ident: ServiceIdentity, db: PostgresDatabase,
                  cluster: EcsCluster, net: Network, keys: KmsKeys, p: Any, st: StackSettings,
                  replication: dict[str, aws.secretsmanager.Secret]) -> FargateService:
        """The store's one-off setup task: ``python -m dbsetup`` on its owner's image.

        As the master user (the RDS-managed secret, injected) it creates the owner's login
        and hands it the database, then migrates as that login with IAM tokens
        (``rds-db:connect`` as it) and sets up the CDC links reading the store, keeping
        their replication passwords in their secrets.
        """
        system = self.ctx.system
        command = ["--system", system, "--store", store, "--environment", self.ctx.environment]
        login = service_role_name(self.system, owner)
        statements = [statement(["rds-db:connect"], [access.db_user_arn(self.ctx, db, login)],
                                sid="MigrateAsOwnerLogin")]
        for link in sorted(replication):
            command += ["--replication-secret", f"{link}={self.ctx.prefix}/{link}/replication"]
        if replication:
            statements += [
                statement(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                          [s.arn for s in replication.values()], sid="KeepReplicationPassword"),
                statement(["kms:Decrypt", "kms:GenerateDataKey"], [keys.data_key_arn],
                          sid="UseDataKey")]
        return self._worker(
            f"{DB_SETUP}-{store}", ident, cluster, net, keys, p, st, environment={
                "PGHOST": db.endpoint, "PGPORT": str(db.port), "PGDATABASE": "postgres",
                "PGSSLMODE": "require"},
            secrets={"PGUSER": pulumi.Output.concat(db.secret_arn, ":username::"),
                     "PGPASSWORD": pulumi.Output.concat(db.secret_arn, ":password::")},
            secret_arns=[db.secret_arn], statements=statements, command=command, count=0,
            image=st.images.get(f"{system}/{owner}") or ecr_image(self.ctx, f"{system}/{owner}"),
            repository=f"{system}/{owner}", entry_point=["python", "-m", "dbsetup"])

    def _worker(self, service: str, ident: ServiceIdentity, cluster: EcsCluster, net: Network,
                keys: KmsKeys, p: Any, st: StackSettings, *, environment: dict[str, Any],
                statements: list[dict[str, Any]], command: list[str] | None = None,
                secrets: dict[str, Any] | None = None, secret_arns: list[Any] | None = None,
                count: int, image: pulumi.Input[str] | None = None,
                repository: str | None = None,
                entry_point: list[str] | None = None) -> FargateService:
        """A platform worker (Kafka Connect, kafka-admin, a store's setup) on the system's
        ECS cluster."""
        return FargateService(f"{self.ctx.system}-{service}", FargateServiceArgs(
            ctx=self.ctx, service=service, identity=ident, cluster=cluster,
            subnet_ids=net.private_subnet_ids,
            image=image or st.images.get(f"{self.ctx.system}/{service}"),
            repository=repository, entry_point=entry_point or [],
            environment={"AWS_REGION": st.region, **environment}, secrets=secrets or {},
            secret_arns=secret_arns or [], task_statements=statements,
            kms_key_arn=keys.data_key_arn, logs_key_arn=keys.logs_key_arn,
            log_retention_days=p.log_retention_days, cpu=max(p.task_cpu, 1024),
            memory=max(p.task_memory, 2048), desired_count=count, max_count=count,
            port=8083 if service == CONNECT else None, command=command or []),
            pulumi.ResourceOptions(parent=ident))
