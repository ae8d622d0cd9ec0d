"""``polystore compose``: the docker runtime's containers as a docker-compose.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from emulation.engines import needed as needed_engines
from emulation.ports import free_port
from emulation.runtimes.containers import specs, stack_id
from emulation.state import StateDir
from polystore.topology.model import System


def compose_document(state_dir: StateDir, systems: list[System]) -> dict[str, Any]:
    """The compose document; ports and passwords come from (and are kept in) the state."""
    with state_dir.locked():
        state = state_dir.load()
        engines = needed_engines(systems)
        for engine in engines:
            state.ports.setdefault(engine, free_port())
        state_dir.save(state)
    all_specs = specs(state_dir, state, engines)
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for engine in engines:
        s = all_specs[engine]
        service: dict[str, Any] = {
            "image": s.image,
            "container_name": s.name,
            "ports": [s.port_binding],
            "volumes": [f"{s.volume}:{s.volume_path}"],
            "labels": s.labels,
        }
        if s.environment:
            service["environment"] = s.environment
        if s.command:
            service["command"] = s.command
        if s.healthcheck:
            hc = s.healthcheck
            service["healthcheck"] = {"test": hc.test, "interval": f"{hc.interval_s}s",
                                      "timeout": f"{hc.timeout_s}s", "retries": hc.retries}
        services[engine] = service
        volumes[s.volume] = {"name": s.volume, "labels": s.labels}
    return {"name": f"polystore-{stack_id(state_dir)}",
            "services": services, "volumes": volumes}  # fmt: skip


def write_compose(state_dir: StateDir, systems: list[System], output: Path) -> Path:
    doc = compose_document(state_dir, systems)
    header = ("# Written by `polystore compose`: the engines of the docker runtime.\n"
              "# docker compose up -d, then `polystore up --runtime docker` provisions them.\n")
    output.write_text(header + yaml.safe_dump(doc, sort_keys=False))
    return output
