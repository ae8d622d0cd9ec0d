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

from emulation.errors import EmulationError
from emulation.ports import LOOPBACK
from emulation.postgres_version import DEFAULT_MAJOR
from emulation.state import State, StateDir

# The one place image versions live. PostgreSQL: one image per declared major, the same
# minor as the embedded build pinned in emulation/postgres_binaries.py.
IMAGES: dict[str, Any] = {
    "postgres": {
        14: "postgres:14.23-bookworm",
        15: "postgres:15.19-bookworm",
        16: "postgres:16.15-bookworm",
        17: "postgres:17.11-bookworm",
        18: "postgres:18.6-bookworm",
    },
    "dynamodb": "amazon/dynamodb-local:2.5.4",
    "search": "opensearchproject/opensearch:2.18.0",
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


def image(engine: str, state: State) -> str:
    """The pinned image of ``engine``; PostgreSQL's follows the declared major."""
    if engine == "postgres":
        major = state.versions.get("postgres", DEFAULT_MAJOR)
        if major not in IMAGES["postgres"]:
            raise EmulationError(f"no postgres image is pinned for PostgreSQL {major}",
                                 "declare a supported `version:` (14 to 18)")  # fmt: skip
        return str(IMAGES["postgres"][major])
    return str(IMAGES[engine])


def specs(state_dir: StateDir, state: State) -> dict[str, ContainerSpec]:
    sid = stack_id(state_dir)
    labels = {LABEL_STACK: sid}
    # From PostgreSQL 18 the image keeps its cluster in /var/lib/postgresql/<major>/docker
    # and wants the volume one level up.
    pg_volume = ("/var/lib/postgresql" if state.versions.get("postgres", DEFAULT_MAJOR) >= 18
                 else "/var/lib/postgresql/data")  # fmt: skip

    def spec(engine: str, **kw: Any) -> ContainerSpec:
        return ContainerSpec(
            engine=engine, name=f"polystore-{sid}-{engine}", image=image(engine, state),
            host_port=state.ports[engine], container_port=CONTAINER_PORT[engine],
            volume=f"polystore-{sid}-{engine}", labels={**labels, LABEL_ENGINE: engine}, **kw,
        )  # fmt: skip

    return {
        "postgres": spec(
            "postgres", volume_path=pg_volume,
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
