"""The Debezium PostgreSQL connector of a CDC link: one function for AWS and local.

:func:`connector_config` builds the connector from the topology; what differs between
places is passed in (:class:`Database`: where PostgreSQL is and the login, which in AWS
is a ``${env:...}`` reference the Connect worker resolves from Secrets Manager). Kafka
authentication belongs to the Connect *worker* (:func:`worker_auth`): plaintext locally,
MSK IAM in AWS.

Choices, and why:

- ``pgoutput`` (built into PostgreSQL ≥ 10, the only plugin RDS/Aurora and our embedded
  server both have); publication and slot named by ``polystore.naming.replication_slot_name``
  and created by provisioning (``emulation/cdc_link.py``) — a publication on named
  tables needs their owner, which the replication login is not.
- every captured table is routed to the link's one topic (``RegexRouter``: the row key
  stays the primary key, so one row's changes stay in one partition, in order). The
  connector's heartbeats (every 10 s, so the slot advances on a quiet database) go there
  too: no extra topic to create and authorise on MSK; the sink skips them.
- JSON keys and values without schemas (smaller records; the sink knows its types from
  the topology), ``decimal.handling.mode=string`` (exact money), tombstones after deletes
  (compaction-friendly; the sink ignores them), TRUNCATE not captured.
- ``snapshot.mode=initial``: the first start copies the tables, then streams from the
  slot; restarts resume from Connect's stored offsets.
- ``poll.interval.ms=50``: the target is commit → read model in ≤ 1 s (p99).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from polystore.naming import replication_slot_name, store_physical_name
from polystore.topology.model import PostgresStore, System

CONNECTOR_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
HEARTBEAT_MS = 10_000
KafkaAuth = Literal["plaintext", "msk-iam"]


@dataclass(frozen=True)
class Database:
    """Where the connector reads the WAL, as whom: the part that differs by place."""

    host: str
    port: int
    user: str
    password: str  # a literal locally; "${env:PGPASSWORD}" in AWS (config provider)
    sslmode: Literal["disable", "require"] = "disable"


def connector_name(link: str) -> str:
    return link


def connector_config(
    system: System, link_name: str, environment: str, db: Database
) -> dict[str, str]:
    """The connector's configuration (the body of ``PUT /connectors/<name>/config``)."""
    link = system.cdc_links()[link_name]
    source = system.stores[link.source]
    assert isinstance(source, PostgresStore)  # the loader's checks guarantee it
    slot = replication_slot_name(system, environment, link_name)
    topic = store_physical_name(system, environment, link.topic)
    return {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",  # one slot, one reader: PostgreSQL decodes a slot serially
        "plugin.name": "pgoutput",
        "database.hostname": db.host,
        "database.port": str(db.port),
        "database.user": db.user,
        "database.password": db.password,
        "database.dbname": source.database,
        "database.sslmode": db.sslmode,
        "topic.prefix": slot,
        "slot.name": slot,
        "slot.drop.on.stop": "false",
        "publication.name": slot,
        "publication.autocreate.mode": "disabled",
        "table.include.list": ",".join(f"public.{t}" for t in link.tables),
        "snapshot.mode": "initial",
        "tombstones.on.delete": "true",
        "skipped.operations": "t",
        "decimal.handling.mode": "string",
        "heartbeat.interval.ms": str(HEARTBEAT_MS),
        "poll.interval.ms": "50",
        "key.converter": JSON_CONVERTER,
        "key.converter.schemas.enable": "false",
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "false",
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": ".*",
        "transforms.route.replacement": topic,
    }


def worker_auth(auth: KafkaAuth) -> dict[str, str]:
    """Kafka client settings of the Connect worker (and its producers and consumers).

    MSK IAM needs the ``aws-msk-iam-auth`` jar on the worker's class path (the Connect
    image in ``infra/docker/kafka-connect`` has it).
    """
    if auth == "plaintext":
        return {"security.protocol": "PLAINTEXT"}
    iam = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "AWS_MSK_IAM",
        "sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
        "sasl.client.callback.handler.class":
            "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
    }  # fmt: skip
    out = dict(iam)
    for client in ("producer", "consumer", "admin"):
        out.update({f"{client}.{k}": v for k, v in iam.items()})
    return out
