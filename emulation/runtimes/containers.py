"""Container specs of the docker runtime (and of the compose export), images pinned here.

One ``ContainerSpec`` per engine, built from the state (ports, admin password); the
docker runtime creates containers from it and ``polystore compose`` writes the same
thing as compose services, with the same names and labels, so a stack started with
``docker compose up`` is adopted by ``polystore up --runtime docker``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from emulation.ports import LOOPBACK
from emulation.state import State, StateDir

# The one place image versions live.
IMAGES = {
    "postgres": "postgres:17.2-bookworm",
    "dynamodb": "amazon/dynamodb-local:2.5.4",
    "search": "opensearchproject/opensearch:2.18.0",
    # Same versions as emulation/kafka/pom.xml (a test keeps them in step).
    "kafka": "apache/kafka:4.3.1",
    "connect": "quay.io/debezium/connect:3.7.0.Final",
}
LABEL_STACK = "dev.polystore.stack"
LABEL_ENGINE = "dev.polystore.engine"
CONTAINER_PORT = {"postgres": 5432, "dynamodb": 8000, "search": 9200}


@dataclass(frozen=True)
class HealthCheck:
    test: list[str]
    interval_s: int = 2
    timeout_s: int = 5
    retries: int = 60

    def docker(self) -> dict[str, Any]:
        ns = 1_000_000_000
        return {"test": self.test, "interval": self.interval_s * ns,
                "timeout": self.timeout_s * ns, "retries": self.retries}  # fmt: skip


@dataclass(frozen=True)
class ContainerSpec:
    engine: str
    name: str
    image: str
    host_port: int
    container_port: int
    volume: str
    volume_path: str
    environment: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    healthcheck: HealthCheck | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def port_binding(self) -> str:
        return f"{LOOPBACK}:{self.host_port}:{self.container_port}"


def stack_id(state_dir: StateDir) -> str:
    """A short id of the state dir: two checkouts never share containers or volumes."""
    return hashlib.sha256(str(state_dir.root).encode()).hexdigest()[:10]


def specs(state_dir: StateDir, state: State) -> dict[str, ContainerSpec]:
    sid = stack_id(state_dir)
    labels = {LABEL_STACK: sid}

    def spec(engine: str, **kw: Any) -> ContainerSpec:
        return ContainerSpec(
            engine=engine, name=f"polystore-{sid}-{engine}", image=IMAGES[engine],
            host_port=state.ports[engine], container_port=CONTAINER_PORT[engine],
            volume=f"polystore-{sid}-{engine}", labels={**labels, LABEL_ENGINE: engine}, **kw,
        )  # fmt: skip

    return {
        "postgres": spec(
            "postgres", volume_path="/var/lib/postgresql/data",
            environment={"POSTGRES_PASSWORD": state.admin_password, "POSTGRES_USER": "postgres"},
            command=["postgres", "-c", "wal_level=logical", "-c", "synchronous_commit=off",
                     "-c", "max_connections=200"],
            healthcheck=HealthCheck(["CMD-SHELL", "pg_isready -U postgres -h 127.0.0.1"]),
        ),
        "dynamodb": spec(
            "dynamodb", volume_path="/home/dynamodblocal/data",
            command=["-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath",
                     "/home/dynamodblocal/data"],
            # The image has no curl; bash's /dev/tcp proves the port, the host-side
            # readiness probe (a real ListTables) proves the API.
            healthcheck=HealthCheck(["CMD-SHELL", "bash -c '</dev/tcp/127.0.0.1/8000'"]),
        ),
        "search": spec(
            "search", volume_path="/usr/share/opensearch/data",
            environment={"discovery.type": "single-node", "DISABLE_SECURITY_PLUGIN": "true",
                         "DISABLE_INSTALL_DEMO_CONFIG": "true",
                         "OPENSEARCH_JAVA_OPTS": "-Xms512m -Xmx512m"},
            healthcheck=HealthCheck(["CMD-SHELL",
                                     "curl -fs http://127.0.0.1:9200/_cluster/health"]),
        ),
    }  # fmt: skip
