"""bellyfed's CDC pipeline on this machine, for end-to-end tests and bench/bench_cdc.py.

PostgreSQL and DynamoDB come from the embedded local stack (a fresh state dir); Kafka and
Kafka Connect (with Debezium) from ``KAFKA_BOOTSTRAP_SERVERS`` / ``KAFKA_CONNECT_URL``.
Everything CDC-specific runs as in ``polystore up``: ``emulation.cdc_link`` (login,
publication, slot, connector from ``cdc.connector``) and the sink consumer process
``python -m cdc.consumer``. The expected read model is computed from the tables by the
declared transform, so "converged" means: every row's item, and nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from cdc.plan import sink_spec
from cdc.transform import SinkSpec, build_item
from emulation import cdc_link, workers
from emulation.engines.base import Endpoints
from emulation.stack import LocalStack
from polystore.naming import local_name
from polystore.topology.model import System, Topology

SYSTEM, LINK = "bellyfed", "bellyfed-cdc"
CONNECTOR = LINK


def engines_from_env() -> tuple[str, str] | None:
    bootstrap, connect = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get(
        "KAFKA_CONNECT_URL")  # fmt: skip
    return (bootstrap, connect.rstrip("/")) if bootstrap and connect else None


def start_kafka(root: Path) -> Any:
    """A Kafka broker and a Connect worker from ``emulation/kafka`` under ``root``
    (``tests.kafka.conftest.KafkaProcesses``: started like engines, kill-able)."""
    from emulation.kafka import engine
    from emulation.ports import free_port
    from tests.kafka.conftest import KafkaProcesses

    ports = {engine.KAFKA: free_port(), engine.CONTROLLER_PORT_KEY: free_port(),
             engine.CONNECT: free_port()}  # fmt: skip
    procs = KafkaProcesses(root, ports)
    engine.prepare(procs.data(engine.KAFKA), progress=lambda _: None)
    procs.start()
    return procs


def _wait_slot_released(ep: Endpoints, system: System, timeout: float = 60.0) -> None:
    """A deleted connector's task lets go of the replication slot a moment later; a new
    connector started before that fails ("replication slot ... is active")."""
    from polystore.naming import LOCAL_ENVIRONMENT, replication_slot_name

    slot = replication_slot_name(system, LOCAL_ENVIRONMENT, LINK)
    admin = {"host": ep.host, "port": ep.port("postgres"), "user": ep.admin_user,
             "password": ep.admin_password, "dbname": "postgres", "sslmode": "disable"}  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(**admin) as conn:  # type: ignore[arg-type]
            row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                               (slot,)).fetchone()  # fmt: skip
        if row is None or not row[0]:
            return
        time.sleep(0.2)
    raise AssertionError(f"replication slot {slot} still active {timeout:.0f}s after the "
                         "stack's connector was deleted")


def reset_connector(connect_url: str, name: str) -> None:
    """Remove the connector and its stored offsets (a fresh database needs a snapshot)."""
    if httpx.get(f"{connect_url}/connectors/{name}", timeout=30).status_code == 404:
        return
    httpx.put(f"{connect_url}/connectors/{name}/stop", timeout=30).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = httpx.get(f"{connect_url}/connectors/{name}/status", timeout=30).json()
        if state["connector"]["state"] == "STOPPED":
            break
        time.sleep(0.2)
    httpx.delete(f"{connect_url}/connectors/{name}/offsets", timeout=60).raise_for_status()
    httpx.delete(f"{connect_url}/connectors/{name}", timeout=30).raise_for_status()


def recreate_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    if topic in admin.list_topics(timeout=10).topics:
        admin.delete_topics([topic])[topic].result()
        deadline = time.monotonic() + 30
        while topic in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
            time.sleep(0.2)
    for _ in range(50):  # deletion completes asynchronously
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()
            return
        except Exception as exc:  # TOPIC_ALREADY_EXISTS while the delete finishes
            if "already exists" not in str(exc).lower() and "marked for deletion" not in str(
                    exc).lower():  # fmt: skip
                raise
            time.sleep(0.2)
    raise RuntimeError(f"could not recreate topic {topic}")


@dataclass
class Pipeline:
    stack: LocalStack
    system: System
    ep: Endpoints
    bootstrap: str
    connect_url: str
    spec: SinkSpec
    topic: str
    table: str
    logs: Path
    group: str = field(default_factory=lambda: f"cdc-test-{uuid.uuid4().hex[:8]}")
    consumer: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, topology: Topology, state_dir: Path, bootstrap: str,
              connect_url: str) -> Pipeline:  # fmt: skip
        system = topology.system(SYSTEM)
        stack = LocalStack(state_dir)
        result = stack.up([system], runtime="embedded")  # provisions the link's PostgreSQL side
        # `up` also runs the link as a user gets it: its own Kafka, Connect, connector and
        # sink worker. The pipeline here runs its own (the ones the tests kill -9), so the
        # stack's connector (which would hold the one replication slot) and sink worker are
        # removed first; else they carry every change and a kill here proves nothing.
        workers.stop(stack.dir, lambda _: None, [f"cdc-sink-{system.name}-{LINK}"])
        if result.endpoints.port(cdc_link.CONNECT):
            stack_connect = cdc_link.connect_url(result.endpoints)
            httpx.delete(f"{stack_connect}/connectors/{CONNECTOR}", timeout=30)
            _wait_slot_released(result.endpoints, system)
        link = system.cdc_links()[LINK]
        topic = local_name(system, link.topic)
        recreate_topic(bootstrap, topic, system.topic_stores()[link.topic].partitions)
        reset_connector(connect_url, CONNECTOR)
        cdc_link.register([system], result.endpoints, connect_url, print)
        p = cls(stack, system, result.endpoints, bootstrap, connect_url,
                sink_spec(system, LINK), topic, local_name(system, link.target),
                state_dir / "logs")  # fmt: skip
        p.wait_running()
        return p

    def wait_running(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        status: Any = None
        while time.monotonic() < deadline:
            resp = httpx.get(f"{self.connect_url}/connectors/{CONNECTOR}/status", timeout=30)
            status = resp.json() if resp.status_code == 200 else resp.text
            tasks = status.get("tasks", []) if isinstance(status, dict) else []
            if tasks and all(t["state"] == "RUNNING" for t in tasks):
                return
            if any(t["state"] == "FAILED" for t in tasks):
                raise RuntimeError(f"connector failed: {tasks[0].get('trace', '')[:2000]}")
            time.sleep(0.2)
        raise RuntimeError(f"connector not running after {timeout}s: {status}")

    # -- the sink consumer process ---------------------------------------------------
    def consumer_env(self) -> dict[str, str]:
        return {
            **os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "AWS_ENDPOINT_URL_DYNAMODB": self.ep.url("dynamodb"), "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", self.spec.table_env: self.table,
        }  # fmt: skip

    def start_consumer(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / "cdc-consumer.log").open("ab") as log:  # the child keeps its copy
            self.consumer = subprocess.Popen(
                [sys.executable, "-m", "cdc.consumer", "--system", SYSTEM, "--link", LINK,
                 "--group", self.group, "--dead-letter",
                 str(self.logs / "cdc-dead-letter.jsonl")],
                env=self.consumer_env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # fmt: skip

    def kill_consumer(self, sig: int = signal.SIGKILL) -> None:
        if self.consumer is not None:
            self.consumer.send_signal(sig)
            self.consumer.wait(30)
            self.consumer = None

    # -- both sides ------------------------------------------------------------------
    def connect_db(self) -> psycopg.Connection[Any]:
        return psycopg.connect(host=self.ep.host, port=self.ep.port("postgres"),
                               user=self.ep.admin_user, password=self.ep.admin_password,
                               dbname="bellyfed", autocommit=True)  # fmt: skip

    def expected(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The read model the tables' current rows make, by the declared transform."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.connect_db() as conn:
            for table, tspec in self.spec.tables.items():
                cur = conn.execute(f"SELECT * FROM {table}")
                cols = [d.name for d in cur.description or ()]
                for row in cur:
                    values = {c: _wire(v) for c, v in zip(cols, row, strict=True)}
                    item = build_item(tspec, values, table)
                    out[(item["PK"], item["SK"])] = item
        return out

    def read_model(self) -> dict[tuple[str, str], dict[str, Any]]:
        """What readers see: items without the sink's version attribute, no delete markers."""
        import boto3
        from boto3.dynamodb.types import TypeDeserializer

        client = boto3.client("dynamodb", endpoint_url=self.ep.url("dynamodb"),
                              region_name="us-east-1", aws_access_key_id="local",
                              aws_secret_access_key="local")  # fmt: skip
        des = TypeDeserializer()
        out = {}
        for page in client.get_paginator("scan").paginate(TableName=self.table):
            for raw in page["Items"]:
                item = {k: des.deserialize(v) for k, v in raw.items()
                        if k != self.spec.version_attribute}  # fmt: skip
                if not item["PK"].startswith(self.spec.deleted_prefix):
                    out[(item["PK"], item["SK"])] = item
        return out

    def diff(self) -> tuple[int, int, int]:
        """(missing, extra, different) items of the read model against the tables."""
        want, have = self.expected(), self.read_model()
        missing = len(want.keys() - have.keys())
        extra = len(have.keys() - want.keys())
        different = sum(1 for k in want.keys() & have.keys() if want[k] != have[k])
        return missing, extra, different

    def wait_converged(self, timeout: float = 120) -> float:
        t0 = time.monotonic()
        last = (-1, -1, -1)
        while time.monotonic() - t0 < timeout:
            last = self.diff()
            if last == (0, 0, 0):
                return time.monotonic() - t0
            time.sleep(0.5)
        raise AssertionError(f"read model not converged after {timeout}s: "
                             f"missing/extra/different = {last}")  # fmt: skip

    def close(self) -> None:
        self.kill_consumer(signal.SIGTERM)
        try:
            reset_connector(self.connect_url, CONNECTOR)
        finally:
            self.stack.reset()


def _wire(value: Any) -> Any:
    """A value as Debezium's JSON carries it (uuid and numeric as strings)."""
    from decimal import Decimal
    from uuid import UUID

    if isinstance(value, UUID | Decimal):
        return str(value)
    return value
