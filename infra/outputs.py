"""Stack outputs: per system, per service, everything its runtime needs.

Per service: the plain environment and the secret references its task gets (the same
names ``polystore env`` prints locally), its tables, indexes, topics, database endpoint and
secret ARN, task role, ECS service and log group. Per system: network, cluster, brokers,
search endpoint, backup vault, platform workers -- for the one-off ones (kafka-admin,
each PostgreSQL store's ``dbsetup-<store>``) the ``aws ecs run-task`` command that runs them.
"""

from __future__ import annotations

from typing import Any

import pulumi

from polystore.topology.model import System


def system_outputs(*, system: System, environment: str, services: dict[str, Any],
                   databases: dict[str, Any], tables: dict[str, Any], search: Any,
                   streaming: Any, network: Any, cluster: Any, backup: Any,
                   workers: dict[str, Any]) -> dict[str, Any]:
    out_services: dict[str, Any] = {}
    for svc, (acc, runtime) in services.items():
        entry: dict[str, Any] = {
            "environment": dict(acc.environment),
            "secrets": dict(acc.secrets),
            "secret_arns": list(acc.secret_arns),
            "tables": dict(acc.tables),
            "indexes": dict(acc.indexes),
            "topics": dict(acc.topics),
            "consumed_topics": dict(acc.consumes),
            "ecs_service": runtime.service_name,
            "log_group": runtime.log_group_name,
            "image": runtime.image,
            "task_role_arn": runtime.args_identity.task_role_arn,
        }
        for store_name, store in system.stores_of(svc).items():
            if store.kind == "postgres":
                db = databases[store_name]
                entry["database"] = {
                    "store": store_name, "name": db.database, "engine": db.engine,
                    "endpoint": db.endpoint, "reader_endpoint": db.reader_endpoint,
                    "port": db.port, "secret_arn": db.secret_arn}
        out_services[svc] = entry
    return {
        "environment": environment,
        "vpc_id": network.vpc_id,
        "private_subnet_ids": network.private_subnet_ids,
        "ecs_cluster": cluster.cluster_name,
        "search_url": search.url if search is not None else None,
        "kafka_bootstrap_servers": streaming.bootstrap_brokers if streaming else None,
        "backup_vault_arn": backup.vault_arn,
        "stores": sorted(system.stores),
        "services": out_services,
        "workers": {w: {"ecs_service": f.service_name, "log_group": f.log_group_name,
                        **({"run_task": run_task(f, cluster, network)}
                           if f.desired_count == 0 else {})}
                    for w, f in workers.items()},
    }


def run_task(worker: Any, cluster: Any, network: Any) -> pulumi.Output[str]:
    """The command that runs a one-off worker's task once, in the private subnets."""

    def text(cluster_name: str, sg: str, subnets: list[str]) -> str:
        net = (f"awsvpcConfiguration={{subnets=[{','.join(subnets)}],securityGroups=[{sg}],"
               "assignPublicIp=DISABLED}")
        return (f"aws ecs run-task --cluster {cluster_name} --task-definition {worker.family} "
                f"--launch-type FARGATE --network-configuration '{net}'")

    return pulumi.Output.all(cluster.cluster_name, worker.args_identity.security_group_id,
                             pulumi.Output.all(*network.private_subnet_ids)
                             ).apply(lambda v: text(v[0], v[1], list(v[2])))  # fmt: skip
