"""Container specs of the docker runtime (and of the compose export), images pinned here.

One ``ContainerSpec`` per engine, built by the engine's plug-in from the state (ports,
admin password) with ``spec`` below; the
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
}
LABEL_STACK = "dev.polystore.stack"
LABEL_ENGINE = "dev.polystore.engine"


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


def spec(state_dir: StateDir, state: State, engine: str, *, container_port: int,
         volume_path: str, **kw: Any) -> ContainerSpec:
    """The spec of ``engine``'s container: name, labels, volume and port from the state."""
    sid = stack_id(state_dir)
    return ContainerSpec(
        engine=engine, name=f"polystore-{sid}-{engine}", image=IMAGES[engine],
        host_port=state.ports[engine], container_port=container_port,
        volume=f"polystore-{sid}-{engine}", volume_path=volume_path,
        labels={LABEL_STACK: sid, LABEL_ENGINE: engine}, **kw,
    )  # fmt: skip


def specs(state_dir: StateDir, state: State,
          engines: list[str] | None = None) -> dict[str, ContainerSpec]:  # fmt: skip
    """Every engine's container spec (or those of ``engines``), from its plug-in."""
    from emulation.engines import ENGINE_NAMES, get

    return {name: get(name).container(state_dir, state) for name in engines or ENGINE_NAMES}
