"""What every runtime provides, and the shapes runtimes hand back.

The rest of the local stack (provisioning, env, parity, status) talks only to the
engines' endpoints (``emulation.engines.base.Endpoints``), never to a runtime's
internals, so both runtimes provision identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulation.engines.base import Progress
from emulation.state import State, StateDir

__all__ = ["EngineStatus", "Progress", "Runtime", "RuntimeFactory"]


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
        """Stop every engine this state dir started; leave nothing running."""

    def running(self, engine: str) -> bool:
        """Whether the engine's process or container exists (it may still be unhealthy)."""

    def status(self, engines: list[str]) -> dict[str, EngineStatus]:
        """``engines`` with their endpoint, pid or container and whether they answer."""

    def wipe(self) -> None:
        """Delete the engines' data (after ``stop``)."""


RuntimeFactory = Callable[[StateDir, State], Runtime]
