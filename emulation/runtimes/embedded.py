"""The embedded runtime: each engine is a detached child process of polystore.

Each engine's plug-in says how to start it (``Engine.launch``); this module runs it
detached with a pid file, waits until its probe answers, and stops it. Engines start
in parallel (an engine waits only for those it names in ``after``); ``start`` is
idempotent (a running, answering engine is left alone) and the caller holds the state
dir's lock, so two commands never start the same engine twice.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from emulation import procs
from emulation.engines import ENGINE_NAMES, get
from emulation.engines.base import endpoints_of
from emulation.errors import EmulationError, PortTaken
from emulation.ports import holder, is_free
from emulation.runtimes.base import EngineStatus, Progress
from emulation.state import State, StateDir
from emulation.waits import wait_for

# The directory holding the `emulation` package, so engine processes import this tree.
CODE_ROOT = str(Path(__file__).resolve().parents[2])


def process_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process the stack starts: ours, this tree importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (CODE_ROOT, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env | (extra or {})


class EmbeddedRuntime:
    name = "embedded"

    def __init__(self, state_dir: StateDir, state: State) -> None:
        self.dir = state_dir
        self.state = state

    def _tracked(self, engine: str) -> procs.Tracked | None:
        return procs.read_tracked(self.dir.pids, engine)

    def running(self, engine: str) -> bool:
        tracked = self._tracked(engine)
        return tracked is not None and tracked.is_alive()

    def _start_one(self, name: str, progress: Progress) -> bool:
        """Start engine ``name`` unless it runs; wait until it answers. True if started."""
        engine = get(name)
        endpoints = endpoints_of(self.state)
        tracked = self._tracked(name)
        log = self.dir.log(name)
        if tracked is not None and tracked.is_alive():
            wait_for(lambda: engine.probe(endpoints), what=f"{name} (already running, "
                     f"pid {tracked.pid})", timeout=10, log=log, alive=tracked.is_alive,
                     hint=f"`polystore down` then `polystore up`; read {log}")  # fmt: skip
            return False
        port = self.state.ports[name]
        if not is_free(port):
            raise PortTaken(
                f"port {port} ({name}, kept in {self.dir.state_file}) is in use by "
                f"{holder(port)}, not by polystore",
                "stop that process, or run `polystore up --new-ports` to pick free ports "
                "(clients configured with the old port must be updated)",
            )
        data = self.dir.engine_dir(name)
        data.mkdir(parents=True, exist_ok=True)
        launch = engine.launch(endpoints, data, progress)
        progress(f"starting {name} on {endpoints.host}:{port}")
        tracked = procs.spawn_detached(name, launch.command, pids_dir=self.dir.pids, log=log,
                                       env=process_env(launch.env), cwd=data,
                                       user=launch.user)  # fmt: skip
        wait_for(lambda: engine.probe(endpoints), what=f"{name} on {endpoints.host}:{port}",
                 timeout=engine.startup_timeout, log=log, alive=tracked.is_alive,
                 hint=f"read {log}; `polystore reset` wipes a broken state dir")  # fmt: skip
        progress(f"{name} ready at {engine.url(endpoints)} (pid {tracked.pid})")
        return True

    def start(self, engines: list[str], progress: Progress) -> list[str]:
        futures: dict[str, Future[bool]] = {}

        def after_deps(name: str) -> bool:
            for dep in get(name).after:
                if dep in futures:
                    futures[dep].result()  # raises if the dependency failed
            return self._start_one(name, progress)

        with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
            for name in engines:  # registry order: dependencies come first
                futures[name] = pool.submit(after_deps, name)
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
        if errors:
            first = errors[0]
            if isinstance(first, EmulationError) and len(errors) == 1:
                raise first
            raise EmulationError("\n".join(str(e) for e in errors), "fix the first error above")
        return [e for e, f in futures.items() if f.result()]

    def stop(self, progress: Progress) -> None:
        def stop_one(name: str) -> None:
            tracked = self._tracked(name)
            if tracked is None:
                return
            if tracked.is_alive():
                progress(f"stopping {name} (pid {tracked.pid})")
            procs.stop(tracked, pids_dir=self.dir.pids, sig=get(name).stop_signal)

        # Dependents first (Connect before Kafka): reverse registry order, in two waves
        # when something depends on something else.
        dependents = [n for n in ENGINE_NAMES if get(n).after]
        for wave in (dependents, [n for n in ENGINE_NAMES if n not in dependents]):
            with ThreadPoolExecutor(max_workers=len(wave) or 1) as pool:
                list(pool.map(stop_one, wave))

    def status(self, engines: list[str]) -> dict[str, EngineStatus]:
        endpoints = endpoints_of(self.state)
        out = {}
        for name in engines:
            tracked = self._tracked(name)
            alive = tracked is not None and tracked.is_alive()
            out[name] = EngineStatus(
                endpoint=get(name).url(endpoints) if name in self.state.ports else "",
                healthy=alive and endpoints.healthy(name),
                pid=tracked.pid if alive and tracked else None,
            )
        return out

    def wipe(self) -> None:
        for name in ENGINE_NAMES:
            shutil.rmtree(self.dir.engine_dir(name), ignore_errors=True)
