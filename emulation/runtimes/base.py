"""What every runtime provides, and the shapes runtimes hand back.

The rest of the local stack (provisioning, env, parity, status) talks only to these
endpoints, never to a runtime's internals, so both runtimes provision identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulation import probes
from emulation.ports import LOOPBACK
from emulation.state import State, StateDir

Progress = Callable[[str], None]
ENGINE_NAMES = ("postgres", "dynamodb", "search")


@dataclass(frozen=True)
class Endpoints:
    """How to reach the engines as their administrator."""

    postgres_port: int
    admin_user: str
    admin_password: str
    dynamodb_port: int
    search_port: int
    host: str = LOOPBACK

    @property
    def postgres_url(self) -> str:
        return f"postgresql://{self.host}:{self.postgres_port}"

    @property
    def dynamodb_url(self) -> str:
        return f"http://{self.host}:{self.dynamodb_port}"

    @property
    def search_url(self) -> str:
        return f"http://{self.host}:{self.search_port}"

    def url(self, engine: str) -> str:
        return {"postgres": self.postgres_url, "dynamodb": self.dynamodb_url,
                "search": self.search_url}[engine]  # fmt: skip

    def probe(self, engine: str) -> None:
        """A real request to ``engine``; raises if it does not answer properly."""
        if engine == "postgres":
            probes.postgres(self.host, self.postgres_port, self.admin_user, self.admin_password)
        elif engine == "dynamodb":
            probes.dynamodb(self.dynamodb_url)
        else:
            probes.search(self.search_url)

    def healthy(self, engine: str) -> bool:
        try:
            self.probe(engine)
        except Exception:
            return False
        return True


def endpoints_of(state: State) -> Endpoints:
    return Endpoints(
        postgres_port=state.ports.get("postgres", 0),
        admin_user="postgres",
        admin_password=state.admin_password,
        dynamodb_port=state.ports.get("dynamodb", 0),
        search_port=state.ports.get("search", 0),
    )


@dataclass(frozen=True)
class EngineStatus:
    endpoint: str
    healthy: bool
    pid: int | None = None
    container: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoint": self.endpoint, "healthy": self.healthy}
        if self.container is not None:
            out["container"] = self.container
        else:
            out["pid"] = self.pid
        return out


class Runtime(Protocol):
    """Starts, stops and reports the engines; both runtimes implement it."""

    name: str

    def start(self, engines: list[str], progress: Progress) -> list[str]:
        """Start the engines not running, wait until each answers; return those started."""

    def stop(self, progress: Progress) -> None:
        """Stop every engine (and helper) this state dir started; leave nothing running."""

    def running(self, engine: str) -> bool:
        """Whether the engine's process or container exists (it may still be unhealthy)."""

    def status(self) -> dict[str, EngineStatus]:
        """Every engine, with its endpoint, pid or container and whether it answers."""

    def wipe(self) -> None:
        """Delete the engines' data (after ``stop``)."""


RuntimeFactory = Callable[[StateDir, State], Runtime]
