"""The local stack: ``up``, ``down``, ``reset`` and ``status`` over one state dir.

``up`` holds the state dir's lock, keeps the ports chosen at first start, starts the
engines the selected systems need (in parallel), provisions what changed and saves
the state. It is safe to run again at any time: a running, answering engine is left
alone, and provisioning is skipped when nothing it depends on changed.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulation import fingerprint, postgres_version
from emulation.errors import EmulationError, StaleState
from emulation.ports import free_port
from emulation.runtimes import factory
from emulation.runtimes.base import ENGINE_NAMES, Endpoints, Progress, endpoints_of
from emulation.state import StateDir
from polystore.topology.model import System


def _quiet(_: str) -> None:
    pass


def needed_engines(systems: list[System]) -> list[str]:
    kinds = {store.kind for system in systems for store in system.stores.values()}
    return [e for e in ENGINE_NAMES if e in kinds]


@dataclass
class UpResult:
    runtime: str
    started: list[str]
    provisioned: list[str]
    endpoints: Endpoints
    seconds: float
    engines: list[str] = field(default_factory=list)


class LocalStack:
    """One local stack, identified by its state dir."""

    def __init__(self, state_dir: StateDir | Path | None = None) -> None:
        self.dir = state_dir if isinstance(state_dir, StateDir) else StateDir(state_dir)

    def up(self, systems: list[System], runtime: str = "auto", progress: Progress = _quiet,
           new_ports: bool = False) -> UpResult:  # fmt: skip
        t0 = time.monotonic()
        with self.dir.locked():
            state = self.dir.load()
            name = factory.resolve(runtime, state)
            if state.runtime and state.runtime != name:
                old = factory.make(state.runtime, self.dir, state)
                if any(old.running(e) for e in ENGINE_NAMES):
                    raise StaleState(
                        f"the stack in {self.dir.root} runs on the {state.runtime} runtime, "
                        f"not {name}",
                        "`polystore down` first, then `polystore up --runtime " + name + "`",
                    )
                state.provisioned = {}
            state.runtime = name
            postgres_version.record(state, systems)
            for engine in ENGINE_NAMES:
                if new_ports or engine not in state.ports:
                    state.ports[engine] = free_port()
            self.dir.save(state)
            rt = factory.make(name, self.dir, state)
            engines = needed_engines(systems)
            started = rt.start(engines, progress)
            ep = endpoints_of(state)
            # hashed once: the fingerprint reads every migration file
            prints = {s.name: fingerprint.of_system(s, name) for s in systems}
            stale = [s for s in systems
                     if started or state.provisioned.get(s.name) != prints[s.name]]
            try:
                if stale:
                    self._provision(stale, state, ep, progress)
            finally:
                self.dir.save(state)  # passwords generated while provisioning
            for system in stale:
                state.provisioned[system.name] = prints[system.name]
            self.dir.save(state)
        return UpResult(name, started, [s.name for s in stale], ep, time.monotonic() - t0,
                        engines)  # fmt: skip

    def _provision(self, systems: list[System], state: Any, ep: Endpoints,
                   progress: Progress) -> None:  # fmt: skip
        # Imported here: provisioning pulls in the engines' clients (httpx, psycopg,
        # boto3), which a warm `up` with nothing to provision should not pay for.
        from emulation.provision import dynamodb as dyn_prov
        from emulation.provision import postgres as pg_prov
        from emulation.provision import search as search_prov

        for system in systems:
            pg_prov.targets([system], state)  # create passwords before threads share state
        jobs = []
        with ThreadPoolExecutor(max_workers=3) as pool:
            if any(s.postgres_stores() for s in systems):
                jobs.append(pool.submit(pg_prov.provision, systems, state, ep, progress))
            if any(s.dynamodb_stores() for s in systems):
                jobs.append(pool.submit(dyn_prov.provision, systems, ep, progress))
            if any(s.search_stores() for s in systems):
                jobs.append(pool.submit(search_prov.provision, systems, ep, progress))
        errors = [j.exception() for j in jobs if j.exception() is not None]
        if errors:
            if len(errors) == 1:
                raise errors[0]  # type: ignore[misc]
            raise EmulationError("provisioning failed:\n" + "\n".join(map(str, errors)))

    def down(self, progress: Progress = _quiet) -> bool:
        """Stop every engine; return False when there was no stack here."""
        if not self.dir.exists():
            return False
        with self.dir.locked():
            state = self.dir.load()
            if state.runtime:
                factory.make(state.runtime, self.dir, state).stop(progress)
        return True

    def reset(self, progress: Progress = _quiet) -> None:
        """Stop everything and delete the state dir's contents (data, ports, passwords)."""
        if not self.dir.root.exists():
            return
        with self.dir.locked():
            try:
                state = self.dir.load()
            except StaleState:
                state = None
            if state and state.runtime:
                rt = factory.make(state.runtime, self.dir, state)
                rt.stop(progress)
                rt.wipe()
            for child in self.dir.root.iterdir():
                if child.name == "lock":
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            progress(f"wiped {self.dir.root}")
