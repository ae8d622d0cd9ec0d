"""The embedded runtime: each engine is a detached child process of polystore.

PostgreSQL of the declared major (``emulation.engines.postgres``), DynamoDB + Streams
from moto (wrapped by ``emulation.engines.dynamodb_server`` for snapshots and TTL),
search from the project's engine (``python -m emulation.search``). Engines start in
parallel; ``start`` is idempotent (a running, answering engine is left alone) and the
caller holds the state dir's lock, so two commands never start the same engine twice.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulation import procs
from emulation.engines import postgres as pg
from emulation.errors import EmulationError, MissingBinary, PortTaken
from emulation.ports import LOOPBACK, holder, is_free
from emulation.runtimes.base import ENGINE_NAMES, EngineStatus, Progress, endpoints_of
from emulation.state import State, StateDir
from emulation.waits import wait_for

STARTUP_TIMEOUT = 60.0
# The directory holding the `emulation` package, so engine processes import this tree.
_CODE_ROOT = str(Path(__file__).resolve().parents[2])
STOP_SIGNAL = {"postgres": signal.SIGINT}  # SIGINT = PostgreSQL's "fast" shutdown


class EmbeddedRuntime:
    name = "embedded"

    def __init__(self, state_dir: StateDir, state: State) -> None:
        self.dir = state_dir
        self.state = state

    # -- helpers --------------------------------------------------------------------
    def _tracked(self, engine: str) -> procs.Tracked | None:
        return procs.read_tracked(self.dir.pids, engine)

    def running(self, engine: str) -> bool:
        tracked = self._tracked(engine)
        return tracked is not None and tracked.is_alive()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_CODE_ROOT, env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _command(self, engine: str, progress: Progress) -> tuple[list[str], str | None]:
        port = self.state.ports[engine]
        data = self.dir.engine_dir(engine)
        if engine == "postgres":
            user = pg.run_as()
            major = pg.wanted_major(self.state)
            bins = pg.bin_dir(major, progress, user)
            pg.check_cluster(data / "data", major)
            if not (data / "data" / "PG_VERSION").exists():
                pg.initdb(data / "data", self.state.admin_password, user, bins)
            return pg.server_command(data / "data", port, bins), user
        if engine == "dynamodb":
            return [sys.executable, "-m", "emulation.engines.dynamodb_server",
                    "--host", LOOPBACK, "--port", str(port),
                    "--snapshot", str(data / "snapshot.json")], None  # fmt: skip
        if importlib.util.find_spec("emulation.search") is None:
            raise MissingBinary(
                "the search engine (python -m emulation.search) is not in this tree",
                "merge the search-engine branch, or select systems without search stores",
            )
        return [sys.executable, "-m", "emulation.search", "--host", LOOPBACK,
                "--port", str(port), "--data-dir", str(data / "data")], None  # fmt: skip

    def _start_one(self, engine: str, progress: Progress) -> bool:
        """Start ``engine`` unless it runs; wait until it answers. True if started."""
        endpoints = endpoints_of(self.state)
        tracked = self._tracked(engine)
        log = self.dir.log(engine)
        if tracked is not None and tracked.is_alive():
            wait_for(lambda: endpoints.probe(engine), what=f"{engine} (already running, "
                     f"pid {tracked.pid})", timeout=10, log=log, alive=tracked.is_alive,
                     hint=f"`polystore down` then `polystore up`; read {log}")  # fmt: skip
            return False
        port = self.state.ports[engine]
        if not is_free(port):
            raise PortTaken(
                f"port {port} ({engine}, kept in {self.dir.state_file}) is in use by "
                f"{holder(port)}, not by polystore",
                "stop that process, or run `polystore up --new-ports` to pick free ports "
                "(clients configured with the old port must be updated)",
            )
        self.dir.engine_dir(engine).mkdir(parents=True, exist_ok=True)
        command, user = self._command(engine, progress)
        progress(f"starting {engine} on 127.0.0.1:{port}")
        tracked = procs.spawn_detached(engine, command, pids_dir=self.dir.pids, log=log,
                                       env=self._env(), cwd=self.dir.engine_dir(engine),
                                       user=user)  # fmt: skip
        wait_for(lambda: endpoints.probe(engine), what=f"{engine} on 127.0.0.1:{port}",
                 timeout=STARTUP_TIMEOUT, log=log, alive=tracked.is_alive,
                 hint=f"read {log}; `polystore reset` wipes a broken state dir")  # fmt: skip
        progress(f"{engine} ready at {endpoints.url(engine)} (pid {tracked.pid})")
        return True

    # -- Runtime --------------------------------------------------------------------
    def start(self, engines: list[str], progress: Progress) -> list[str]:
        with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
            futures = {e: pool.submit(self._start_one, e, progress) for e in engines}
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
        if errors:
            first = errors[0]
            if isinstance(first, EmulationError) and len(errors) == 1:
                raise first
            raise EmulationError("\n".join(str(e) for e in errors), "fix the first error above")
        return [e for e, f in futures.items() if f.result()]

    def stop(self, progress: Progress) -> None:
        def stop_one(engine: str) -> None:
            tracked = self._tracked(engine)
            if tracked is None:
                return
            if tracked.is_alive():
                progress(f"stopping {engine} (pid {tracked.pid})")
            procs.stop(tracked, pids_dir=self.dir.pids,
                       sig=STOP_SIGNAL.get(engine, signal.SIGTERM))  # fmt: skip

        with ThreadPoolExecutor(max_workers=len(ENGINE_NAMES)) as pool:
            list(pool.map(stop_one, ENGINE_NAMES))

    def status(self) -> dict[str, EngineStatus]:
        endpoints = endpoints_of(self.state)
        out = {}
        for engine in ENGINE_NAMES:
            tracked = self._tracked(engine)
            alive = tracked is not None and tracked.is_alive()
            out[engine] = EngineStatus(
                endpoint=endpoints.url(engine) if engine in self.state.ports else "",
                healthy=alive and endpoints.healthy(engine),
                pid=tracked.pid if alive and tracked else None,
            )
        return out

    def wipe(self) -> None:
        pg.remove_data(self.dir.engine_dir("postgres") / "data")  # may live outside the dir
        for engine in ENGINE_NAMES:
            shutil.rmtree(self.dir.engine_dir(engine), ignore_errors=True)
