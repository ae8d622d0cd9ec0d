"""Running an engine's HTTP server: listen, periodic work, stop; in a thread for tests or
in the foreground of the engine's process until SIGTERM/SIGINT.

The engine itself (its files, its lock) stays the caller's: :class:`RunningServer` and
:func:`run_until_signal` callers close it after the loop has stopped, so nothing is
acknowledged and then lost.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from emulation.engine_http.framing import App, Connection

try:  # libuv's loop: its per-request cost (read, write, wake-up) is half asyncio's own
    import uvloop

    _LOOP: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
except ImportError:  # no uvloop build for Windows: asyncio's loop serves the same way
    _LOOP = None

STARTUP_TIMEOUT_S = 15.0
log = logging.getLogger(__name__)


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on a new event loop of the kind the engines use."""
    with asyncio.Runner(loop_factory=_LOOP) as runner:
        runner.run(main)


class Closeable(Protocol):
    def close(self) -> None: ...


E = TypeVar("E", bound=Closeable)


@dataclass(frozen=True)
class Periodic:
    """``run`` every ``every_s`` seconds on the loop (TTL sweeps, refreshes); a failure is
    logged and the next run happens anyway."""

    run: Callable[[], None]
    every_s: float
    what: str


class EngineServer:
    """Serves ``app`` on host:port (0 = a free port, see ``bound_port``) until
    :meth:`request_stop`, then calls ``on_stopped`` on the loop's thread."""

    def __init__(
        self,
        app: App,
        host: str,
        port: int,
        periodic: tuple[Periodic, ...] = (),
        on_stopped: Callable[[], None] | None = None,
    ) -> None:
        self.app, self.host, self.port = app, host, port
        self.periodic, self.on_stopped = periodic, on_stopped
        self.connections: set[Connection] = set()
        self.bound_port: int | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, started: asyncio.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(
            lambda: Connection(self), self.host, self.port, reuse_address=True
        )
        self.bound_port = int(server.sockets[0].getsockname()[1])
        tasks = [asyncio.create_task(self._every(p)) for p in self.periodic]
        if started is not None:
            started.set()
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            server.close()
            for conn in list(self.connections):
                conn.close()
            await server.wait_closed()
            if self.on_stopped is not None:  # e.g. commit: the last answer is durable
                self.on_stopped()

    def request_stop(self) -> None:
        """Ask the server to stop (safe from any thread and from signal handlers)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def serve_until_started(self, on_started: Callable[[], None]) -> None:
        """Serve; call ``on_started`` once listening (or once serving failed to start)."""
        started = asyncio.Event()
        task = asyncio.create_task(self.serve(started))
        await asyncio.wait([task, asyncio.create_task(started.wait())],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        on_started()
        await task

    async def _every(self, p: Periodic) -> None:
        while True:
            await asyncio.sleep(p.every_s)
            try:
                p.run()
            except Exception:
                log.exception("periodic %s failed", p.what)


@dataclass
class RunningServer(Generic[E]):
    """An engine served from a background thread; ``stop()`` shuts it down cleanly."""

    url: str
    engine: E
    _server: EngineServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.request_stop()
        self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self.engine.close()  # idempotent; covers a server that never got to serve

    def __enter__(self) -> RunningServer[E]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(engine: E, server: EngineServer, what: str) -> RunningServer[E]:
    """Run ``server`` on a daemon thread; return once it listens, or raise naming ``what``
    and why (the engine is closed then)."""
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_loop(server.serve_until_started(ready.set))
        except BaseException as err:  # reported to the starting thread
            failure.append(err)
            ready.set()

    thread = threading.Thread(target=run, name=f"polystore-{what}", daemon=True)
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT_S) or failure or server.bound_port is None:
        server.request_stop()
        engine.close()
        raise RuntimeError(
            f"{what} engine did not start on {server.host}:{server.port} within "
            f"{STARTUP_TIMEOUT_S}s ({failure[0] if failure else 'no error reported'}); "
            "is the port free?"
        )
    return RunningServer(f"http://{server.host}:{server.bound_port}", engine, server, thread)


def run_until_signal(server: EngineServer, on_listening: Callable[[int], None] | None) -> None:
    """Serve in the foreground until SIGTERM or SIGINT; ``on_listening(port)`` once it
    listens. Raises OSError when it cannot listen (e.g. the port is taken)."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # graceful: the caller closes the engine
            loop.add_signal_handler(sig, server.request_stop)

        def started() -> None:
            if on_listening is not None and server.bound_port is not None:
                on_listening(server.bound_port)

        await server.serve_until_started(started)

    run_loop(run())
