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

from emulation import engines as registry
from emulation import fingerprint, links, service_workers, supervisor, workers
from emulation.engines.base import Endpoints, Progress, Worker, endpoints_of
from emulation.errors import EmulationError, StaleState
from emulation.ports import free_port
from emulation.runtimes import factory
from emulation.state import State, StateDir
from polystore.topology.model import System


def _quiet(_: str) -> None:
    pass


def needed_engines(systems: list[System]) -> list[str]:
    return registry.needed(systems)


@dataclass
class UpResult:
    runtime: str
    started: list[str]
    provisioned: list[str]
    endpoints: Endpoints
    seconds: float
    engines: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)


def expected_workers(systems: list[System], state: State, state_dir: StateDir,
                     services: bool = True) -> list[Worker]:  # fmt: skip
    """The workers ``systems`` run: engines' helpers, link workers, and (``services``) the
    declared services that have a port in the state."""
    ep = endpoints_of(state)
    out = [w for e in needed_engines(systems) for w in registry.get(e).workers(state.runtime, ep)]
    out += links.workers(systems, ep, state_dir)
    if services:
        out += service_workers.workers(systems, state, state_dir)
    return out


class LocalStack:
    """One local stack, identified by its state dir."""

    def __init__(self, state_dir: StateDir | Path | None = None) -> None:
        self.dir = state_dir if isinstance(state_dir, StateDir) else StateDir(state_dir)

    def up(self, systems: list[System], runtime: str = "auto", progress: Progress = _quiet,
           new_ports: bool = False, services: bool = False,
           supervise: bool = False) -> UpResult:  # fmt: skip
        """Start, provision and (``services``) serve ``systems``; idempotent.

        ``supervise`` leaves a supervisor running that starts again any engine or worker
        that dies (``emulation.supervisor``); ``polystore up`` asks for it, tests that
        kill processes on purpose and restart them themselves do not.
        """
        t0 = time.monotonic()
        with self.dir.locked():
            state = self.dir.load()
            name = factory.resolve(runtime, state)
            if state.runtime and state.runtime != name:
                old = factory.make(state.runtime, self.dir, state)
                if any(old.running(e) for e in registry.ENGINE_NAMES):
                    raise StaleState(
                        f"the stack in {self.dir.root} runs on the {state.runtime} runtime, "
                        f"not {name}",
                        "`polystore down` first, then `polystore up --runtime " + name + "`",
                    )
                state.provisioned = {}
            state.runtime = name
            engines = needed_engines(systems)
            for engine in engines:
                registry.get(engine).configure(systems, state)
                if new_ports or engine not in state.ports:
                    state.ports[engine] = free_port()
            state.engines = [e for e in registry.ENGINE_NAMES
                             if e in engines or e in state.engines]
            state.stopped = False
            if services:
                service_workers.assign_ports(systems, state)
            self.dir.save(state)
            rt = factory.make(name, self.dir, state)
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
                if system.name not in state.unseeded:
                    state.unseeded.append(system.name)
            self.dir.save(state)
            running = self._start_workers(systems, state, ep, progress, services)
            if supervise:
                from emulation.runtimes.embedded import process_env

                if supervisor.ensure(self.dir, process_env()):
                    progress("started the supervisor (restarts any engine or worker that dies)")
        return UpResult(name, started, [s.name for s in stale], ep, time.monotonic() - t0,
                        engines, running)  # fmt: skip

    def _start_workers(self, systems: list[System], state: State, ep: Endpoints,
                       progress: Progress, services: bool) -> list[str]:  # fmt: skip
        """Start the workers of ``systems``: engines' helpers, links', then services."""
        from emulation.runtimes.embedded import process_env

        wanted = expected_workers(systems, state, self.dir, services)
        if not wanted:
            return []
        workers.start(self.dir, wanted, process_env(), progress)
        workers.wait_healthy(self.dir, wanted, progress)
        return [w.name for w in wanted]

    def _provision(self, systems: list[System], state: State, ep: Endpoints,
                   progress: Progress) -> None:  # fmt: skip
        # Each engine provisions what it serves; the plug-ins import their clients
        # (httpx, psycopg, boto3) only here, which a warm `up` does not pay for.
        names = needed_engines(systems)
        with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
            jobs = [pool.submit(registry.get(n).provision, systems, ep, progress) for n in names]
        errors = [j.exception() for j in jobs if j.exception() is not None]
        if errors:
            if len(errors) == 1:
                raise errors[0]  # type: ignore[misc]
            raise EmulationError("provisioning failed:\n" + "\n".join(map(str, errors)))
        links.provision(systems, ep, progress)  # after the stores the links connect

    def unseeded(self) -> list[str]:
        """Systems provisioned whose seeding has not finished (``polystore up`` seeds them)."""
        return list(self.dir.load().unseeded) if self.dir.exists() else []

    def mark_seeded(self, names: list[str]) -> None:
        """Seeding of ``names`` finished (or was declined): a later ``up`` leaves them alone."""
        with self.dir.locked():
            state = self.dir.load()
            state.unseeded = [n for n in state.unseeded if n not in names]
            self.dir.save(state)

    def down(self, progress: Progress = _quiet) -> bool:
        """Stop every engine; return False when there was no stack here."""
        if not self.dir.exists():
            return False
        with self.dir.locked():
            state = self.dir.load()
            supervisor.stop(self.dir)
            workers.stop(self.dir, progress)
            if state.runtime:
                factory.make(state.runtime, self.dir, state).stop(progress)
            state.stopped = True
            self.dir.save(state)
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
            supervisor.stop(self.dir)
            workers.stop(self.dir, progress)
            if state and state.runtime:
                rt = factory.make(state.runtime, self.dir, state)
                if all(rt.running(e) for e in state.engines):
                    ep = endpoints_of(state)
                    for e in state.engines:  # what lives outside the data dirs
                        registry.get(e).reset(ep, progress)
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
