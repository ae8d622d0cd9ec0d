"""The docker runtime: one container per engine, specs from the engines' plug-ins.

Containers are found by name and label (so leftovers, and a stack started with the
compose export, are adopted rather than duplicated), publish their port on 127.0.0.1
only, keep data in labelled named volumes, and count as ready only when the host-side
probe gets a real answer. Host-side helpers (the TTL sweeper next to DynamoDB Local)
are workers, started by the stack like on the embedded runtime.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from emulation.engines import get
from emulation.engines.base import endpoints_of
from emulation.errors import EmulationError, PortTaken
from emulation.ports import holder, is_free
from emulation.runtimes.base import EngineStatus, Progress
from emulation.runtimes.containers import LABEL_STACK, ContainerSpec, specs, stack_id
from emulation.state import State, StateDir
from emulation.waits import wait_for

STARTUP_TIMEOUT = 180.0  # an OpenSearch container takes ~10-30 s


def client() -> Any:
    try:
        import docker

        return docker.from_env(timeout=10)
    except Exception as exc:
        raise EmulationError(f"no Docker engine answers ({exc})",
                             "start Docker, or use `--runtime embedded`") from exc  # fmt: skip


class DockerRuntime:
    name = "docker"

    def __init__(self, state_dir: StateDir, state: State) -> None:
        self.dir = state_dir
        self.state = state
        self._client: Any = None

    @property
    def docker(self) -> Any:
        if self._client is None:
            self._client = client()
        return self._client

    def _spec(self, engine: str) -> ContainerSpec:
        return specs(self.dir, self.state, [engine])[engine]

    def _container(self, engine: str) -> Any:
        import docker.errors

        try:
            return self.docker.containers.get(self._spec(engine).name)
        except docker.errors.NotFound:
            return None

    def running(self, engine: str) -> bool:
        try:
            c = self._container(engine)
        except EmulationError:
            return False
        return c is not None and c.status == "running"

    def _run(self, s: ContainerSpec) -> Any:
        kwargs: dict[str, Any] = {
            "name": s.name, "detach": True, "labels": s.labels, "environment": s.environment,
            "ports": {f"{s.container_port}/tcp": ("127.0.0.1", s.host_port)},
            "volumes": {s.volume: {"bind": s.volume_path, "mode": "rw"}},
        }  # fmt: skip
        if s.command:
            kwargs["command"] = s.command
        if s.healthcheck:
            kwargs["healthcheck"] = s.healthcheck.docker()
        self.docker.volumes.create(name=s.volume, labels=s.labels)
        return self.docker.containers.run(s.image, **kwargs)

    def _start_one(self, engine: str, progress: Progress) -> bool:
        s = self._spec(engine)
        plugin = get(engine)
        ep = endpoints_of(self.state)
        c = self._container(engine)
        started = False
        if c is None or c.status != "running":
            if not is_free(s.host_port):
                raise PortTaken(f"port {s.host_port} ({engine}) is in use by "
                                f"{holder(s.host_port)}",
                                "stop it, or `polystore up --new-ports`")  # fmt: skip
            progress(f"starting container {s.name} ({s.image})")
            if c is None:
                c = self._run(s)
            else:
                c.start()
            started = True
        wait_for(lambda: plugin.probe(ep), what=f"{engine} container {s.name}",
                 timeout=STARTUP_TIMEOUT, interval=0.5,
                 hint=f"docker logs {s.name}")  # fmt: skip
        progress(f"{engine} ready at {plugin.url(ep)} (container {c.short_id})")
        return started

    def start(self, engines: list[str], progress: Progress) -> list[str]:
        with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
            futures = {e: pool.submit(self._start_one, e, progress) for e in engines}
        errors = [f.exception() for f in futures.values() if f.exception()]
        if errors:
            raise EmulationError("\n".join(map(str, errors)), "fix the first error above")
        return [e for e, f in futures.items() if f.result()]

    def stop(self, progress: Progress) -> None:
        for c in self.docker.containers.list(all=True,
                                             filters={"label": f"{LABEL_STACK}="
                                                      f"{stack_id(self.dir)}"}):  # fmt: skip
            progress(f"removing container {c.name}")
            c.stop(timeout=20)
            c.remove()

    def status(self, engines: list[str]) -> dict[str, EngineStatus]:
        ep = endpoints_of(self.state)
        out = {}
        for engine in engines:
            try:
                c = self._container(engine)
            except EmulationError:
                c = None
            up = c is not None and c.status == "running"
            out[engine] = EngineStatus(endpoint=get(engine).url(ep),
                                       healthy=up and ep.healthy(engine),
                                       container=c.short_id if c is not None else "")
        return out

    def wipe(self) -> None:
        for v in self.docker.volumes.list(filters={"label": f"{LABEL_STACK}="
                                                   f"{stack_id(self.dir)}"}):  # fmt: skip
            v.remove(force=True)
