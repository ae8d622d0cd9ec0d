"""What a service may reach, derived from store ownership in the topology.

``service_access`` returns the task-role statements, the plain environment, the secrets
(``valueFrom``) and the secret ARNs for one service (none for its database: it logs in
as its own login with IAM tokens, ``services.clients``): its own tables, indexes, database and
topics, and the topics it consumes as an event consumer — nothing else. The variable names
are the standard ones of DESIGN.md and ``polystore.naming`` (the same ``polystore env``
prints for the local stack).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.common import Context, statement
from infra.streaming import client_statements
from polystore.naming import service_role_name, store_env_var, store_physical_name
from polystore.topology.model import System

TABLE_ACTIONS = [
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:Query", "dynamodb:UpdateItem",
]  # fmt: skip
INDEX_ACTIONS = ["es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost",
                 "es:ESHttpPut"]


@dataclass
class ServiceAccess:
    statements: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_arns: list[pulumi.Input[str]] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    consumes: dict[str, str] = field(default_factory=dict)


def db_user_arn(ctx: Context, db: Any, login: str) -> pulumi.Output[str]:
    """What ``rds-db:connect`` names: ``login`` on the database ``db`` (a PostgresDatabase)."""
    return pulumi.Output.concat("arn:aws:rds-db:", ctx.region, ":", ctx.account_id,
                                ":dbuser:", db.dbi_resource_id, "/", login)


def service_access(ctx: Context, system: System, service: str, *, tables: dict[str, Any],
                   databases: dict[str, Any], search: Any, streaming: Any,
                   data_key_arn: pulumi.Input[str]) -> ServiceAccess:
    """Grants and variables of ``service``; ``tables``/``databases`` are components by store."""
    acc = ServiceAccess(environment={"AWS_REGION": ctx.region})
    own = system.stores_of(service)
    table_arns: list[pulumi.Input[str]] = []
    index_arns: list[pulumi.Input[str]] = []
    postgres = [n for n, s in own.items() if s.kind == "postgres"]
    if len(postgres) > 1:
        raise ValueError(f"{system.name}: service {service} owns {len(postgres)} databases "
                         f"({', '.join(postgres)}); PGDATABASE can name only one")
    for store_name, store in own.items():
        physical = store_physical_name(system, ctx.environment, store_name)
        var = store_env_var(store_name, store)
        if var:
            acc.environment[var] = physical
        if store.kind == "dynamodb":
            acc.tables[store_name] = physical
            arn = tables[store_name].table_arn
            table_arns += [arn, pulumi.Output.concat(arn, "/index/*")]
        elif store.kind == "search":
            acc.indexes[store_name] = physical
            arn = search.index_arn(physical)
            index_arns += [arn, pulumi.Output.concat(arn, "/*")]
            acc.environment["OPENSEARCH_URL"] = search.url
        elif store.kind == "topic":
            acc.topics[store_name] = physical
        elif store.kind == "postgres":
            db = databases[store_name]
            # Its own login (created by the store's setup task, ``dbsetup``), authenticated
            # with an IAM token the service makes per connection: no password anywhere.
            acc.environment.update({"PGHOST": db.endpoint, "PGPORT": str(db.port),
                                    "PGDATABASE": store.database, "PGSSLMODE": "require",
                                    "PGUSER": service_role_name(system, service)})
            acc.statements.append(statement(
                ["rds-db:connect"], [db_user_arn(ctx, db, service_role_name(system, service))],
                sid="IamAuthOwnDatabase"))
    for topic_store in system.consumed_topics(service):
        physical = store_physical_name(system, ctx.environment, topic_store)
        acc.consumes[topic_store] = physical
        var = store_env_var(topic_store, system.stores[topic_store])
        if var:
            acc.environment[var] = physical
    if table_arns:
        acc.statements.append(statement(TABLE_ACTIONS, table_arns, sid="OwnTables"))
    if index_arns:
        acc.statements.append(statement(INDEX_ACTIONS, index_arns, sid="OwnIndexes"))
    if acc.topics or acc.consumes:
        acc.environment["KAFKA_BOOTSTRAP_SERVERS"] = streaming.bootstrap_brokers
        acc.statements += client_statements(
            streaming.cluster_arn, write=tuple(acc.topics.values()),
            read=tuple(acc.consumes.values()),
            group=f"{ctx.prefix}-{service}" if acc.consumes else None)
    if table_arns:
        acc.statements.append(statement(["kms:Decrypt", "kms:GenerateDataKey"],
                                        [data_key_arn], sid="UseDataKey"))
    return acc
