"""Choose the runtime: docker where an engine answers, else embedded (``auto``)."""

from __future__ import annotations

import os
from pathlib import Path

from emulation.errors import EmulationError
from emulation.runtimes.base import Runtime
from emulation.state import State, StateDir

RUNTIMES = ("auto", "embedded", "docker")


def docker_available() -> bool:
    """Whether a Docker engine answers a ping (within 2 s)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False  # nothing to ask; the SDK would leak a socket finding that out
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def resolve(requested: str, state: State) -> str:
    """The concrete runtime for ``requested``: an existing stack keeps its runtime."""
    if requested not in RUNTIMES:
        raise EmulationError(f"unknown runtime {requested!r}", f"use one of {', '.join(RUNTIMES)}")
    if requested != "auto":
        return requested
    if state.runtime:
        return state.runtime
    return "docker" if docker_available() else "embedded"


def make(name: str, state_dir: StateDir, state: State) -> Runtime:
    if name == "embedded":
        from emulation.runtimes.embedded import EmbeddedRuntime

        return EmbeddedRuntime(state_dir, state)
    if name == "docker":
        from emulation.runtimes.docker import DockerRuntime

        return DockerRuntime(state_dir, state)
    raise EmulationError(f"unknown runtime {name!r}", f"use one of {', '.join(RUNTIMES)}")
