"""What an engine plug-in is: every face of one engine, in one class.

An engine (PostgreSQL, DynamoDB, search, Kafka, ...) serves one or more store kinds.
Each has one package under ``emulation/engines/`` whose ``ENGINE`` object knows how to
start it on the embedded runtime, describe its container for the docker runtime, probe
it, provision and check (parity) the stores it serves, and what a service that owns
such stores finds in its environment. Runtimes, ``status``, ``env``, ``parity`` and
provisioning iterate the registry (``emulation.engines.ENGINES``) and never name an
engine, so adding one is adding a package and one line in the registry.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from emulation.ports import LOOPBACK

if TYPE_CHECKING:
    from emulation.runtimes.containers import ContainerSpec
    from emulation.state import State, StateDir
    from polystore.topology.model import Store, System

Progress = Callable[[str], None]

ADMIN_USER = "postgres"


@dataclass(frozen=True)
class Endpoints:
    """How to reach the running engines as their administrator.

    Built from the state (the ports chosen at first start, the admin password); the
    state itself rides along because some faces need what it keeps (service passwords).
    """

    state: State
    host: str = LOOPBACK

    @property
    def admin_user(self) -> str:
        return ADMIN_USER

    @property
    def admin_password(self) -> str:
        return self.state.admin_password

    def port(self, engine: str) -> int:
        return self.state.ports.get(engine, 0)

    def url(self, engine: str) -> str:
        from emulation.engines import get

        return get(engine).url(self)

    def probe(self, engine: str) -> None:
        """A real request to ``engine``; raises if it does not answer properly."""
        from emulation.engines import get

        get(engine).probe(self)

    def healthy(self, engine: str) -> bool:
        try:
            self.probe(engine)
        except Exception:
            return False
        return True


def endpoints_of(state: State) -> Endpoints:
    return Endpoints(state)


@dataclass(frozen=True)
class Launch:
    """How the embedded runtime starts an engine: the command, as whom, extra env."""

    command: list[str]
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Worker:
    """A long-running host process of the stack that is not an engine.

    Stream pollers, CDC sink consumers, the TTL sweeper next to DynamoDB Local: they
    run beside the engines on both runtimes, tracked by pid files like the engines,
    started after provisioning and stopped before the engines.
    """

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""
    url: str = ""  # where it serves, for `up` and `status` (services)
    health: str = ""  # a URL that answers 200 once it is ready (waited for by `up`)


class Engine:
    """Base of every engine plug-in. Subclasses set the class attributes and faces."""

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ()  # store kinds this engine serves
    scheme: ClassVar[str] = "http"
    stop_signal: ClassVar[int] = signal.SIGTERM
    startup_timeout: ClassVar[float] = 60.0
    # Engines that must answer before this one starts (Kafka Connect needs Kafka).
    after: ClassVar[tuple[str, ...]] = ()

    # -- when ------------------------------------------------------------------------
    def needed(self, systems: list[System]) -> bool:
        """Whether any of ``systems`` needs this engine (default: a store of its kinds)."""
        return any(s.kind in self.kinds for system in systems for s in system.stores.values())

    def configure(self, systems: list[System], state: State) -> None:
        """Record in ``state`` what the declaration decides about this engine before it
        starts (PostgreSQL: the declared major, which picks binaries and image)."""

    # -- where -----------------------------------------------------------------------
    def url(self, ep: Endpoints) -> str:
        return f"{self.scheme}://{ep.host}:{ep.port(self.name)}"

    def probe(self, ep: Endpoints) -> None:
        """A real request the engine must answer correctly; raise otherwise."""
        raise NotImplementedError

    # -- embedded runtime ------------------------------------------------------------
    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        """Prepare ``data`` (first start) and say how to start the engine."""
        raise NotImplementedError

    def recover(self, data: Path) -> list[str]:
        """Clear what a killed process left in ``data`` that would stop a restart.

        Called before the supervisor starts a dead engine again (``launch`` does the
        same on ``up``); returns lines saying what it did. Most engines need nothing.
        """
        return []

    def wipe(self, data: Path) -> None:
        """Delete the engine's data dir (embedded runtime, after ``stop``)."""
        import shutil

        shutil.rmtree(data, ignore_errors=True)

    def workers(self, runtime: str, ep: Endpoints) -> list[Worker]:
        """Helper processes this engine needs on ``runtime`` (none by default)."""
        return []

    # -- docker runtime --------------------------------------------------------------
    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        raise NotImplementedError

    # -- stores ----------------------------------------------------------------------
    def provision(self, systems: list[System], ep: Endpoints, progress: Progress) -> None:
        """Create what the topology declares for this engine; idempotent."""

    def parity(self, systems: list[System], ep: Endpoints) -> list[str]:
        """Drift lines between the live engine and the topology."""
        return []

    def reset(self, ep: Endpoints, progress: Progress) -> None:
        """Undo what lives outside the engine's data dir before a wipe (rarely needed)."""

    # -- what a service sees -----------------------------------------------------------
    def service_env(self, system: System, service: str, ep: Endpoints) -> dict[str, str]:
        """Variables for ``service`` beyond its stores' names (clients' standard ones)."""
        return {}

    def store_status(self, system: System, name: str, store: Store, ep: Endpoints
                     ) -> dict[str, Any]:  # fmt: skip
        """How ``status`` tells a user to reach one store this engine serves."""
        return {"endpoint": self.url(ep)}
