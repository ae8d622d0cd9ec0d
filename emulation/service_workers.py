"""The declared services as workers of the local stack: ``python -m services S.SVC``.

Each service runs on a port chosen free at first start and kept in ``state.json``
(``service:<system>.<service>``), with exactly the variables ``polystore env`` prints
— the ECS task's list — so the local process is configured as the task is in AWS.
"""

from __future__ import annotations

import sys

from emulation.engines.base import Worker
from emulation.ports import LOOPBACK, free_port
from emulation.state import State, StateDir
from polystore.topology.model import System


def port_key(system: System, service: str) -> str:
    return f"service:{system.name}.{service}"


def assign_ports(systems: list[System], state: State) -> None:
    for system in systems:
        for service in system.services:
            state.ports.setdefault(port_key(system, service), free_port())


def workers(systems: list[System], state: State, state_dir: StateDir) -> list[Worker]:
    from emulation import report

    out = []
    for system in systems:
        for service in sorted(system.services):
            key = port_key(system, service)
            if key not in state.ports or system.name not in state.provisioned:
                continue
            port = state.ports[key]
            url = f"http://{LOOPBACK}:{port}"
            env = report.env(state_dir, system, service)
            out.append(Worker(
                f"svc-{system.name}-{service}",
                [sys.executable, "-m", "services", f"{system.name}.{service}",
                 "--host", LOOPBACK, "--port", str(port)],
                env=env, description=f"{system.name}.{service} at {url}", url=url,
                health=url + "/health"))  # fmt: skip
    return out
