"""Running the engine: as the runtime's child process or in a thread for tests.

``python -m emulation.search --host H --port P --data-dir D`` serves until SIGTERM or
SIGINT, then commits every index and releases the data-dir lock before exiting.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from emulation.search.engine import DataDirLockedError, Engine
from emulation.search.http_api import SearchApp

STARTUP_TIMEOUT_S = 15.0


def _config(app: SearchApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


@dataclass
class RunningServer:
    """An engine served from a background thread; ``stop()`` shuts it down cleanly."""

    url: str
    engine: Engine
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self.engine.close()  # idempotent; covers a server that never got to lifespan

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, data_dir: str | Path = ".polystore/search"
) -> RunningServer:
    """Start the engine in this process; ``port=0`` picks a free port (see ``.url``)."""
    engine = Engine(data_dir)
    server = uvicorn.Server(_config(SearchApp(engine), host, port))
    thread = threading.Thread(target=server.run, name="polystore-search", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            engine.close()
            raise RuntimeError(
                f"search engine did not start on {host}:{port} within {STARTUP_TIMEOUT_S}s "
                f"(thread alive: {thread.is_alive()}); is the port free?"
            )
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(f"http://{host}:{bound}", engine, server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulation.search", description="polystore's OpenSearch-compatible engine"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--data-dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        engine = Engine(args.data_dir)
    except DataDirLockedError as err:
        print(f"polystore search: {err}", file=sys.stderr)
        return 2
    try:
        # uvicorn turns SIGTERM/SIGINT into a graceful shutdown, which runs the lifespan
        # shutdown (engine.close) before the process exits.
        uvicorn.Server(_config(SearchApp(engine), args.host, args.port)).run()
    finally:
        engine.close()
    return 0
