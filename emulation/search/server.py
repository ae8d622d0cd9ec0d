"""Running the engine: as the runtime's child process or in a thread for tests.

``python -m emulation.search --host H --port P --data-dir D`` serves until SIGTERM or
SIGINT, then commits every index and releases the data-dir lock before exiting 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from emulation.search.engine import DataDirLockedError, Engine
from emulation.search.http_server import SearchServer

STARTUP_TIMEOUT_S = 15.0


@dataclass
class RunningServer:
    """An engine served from a background thread; ``stop()`` shuts it down cleanly."""

    url: str
    engine: Engine
    _server: SearchServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.request_stop()
        self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self.engine.close()  # idempotent; covers a server that never got to serve

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, data_dir: str | Path = ".polystore/search"
) -> RunningServer:
    """Start the engine in this process; ``port=0`` picks a free port (see ``.url``)."""
    engine = Engine(data_dir)
    server = SearchServer(engine, host, port)
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        async def main() -> None:
            started = asyncio.Event()
            task = asyncio.create_task(server.serve(started))
            await asyncio.wait(
                [task, asyncio.create_task(started.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            ready.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as err:  # reported to the starting thread
            failure.append(err)
            ready.set()

    thread = threading.Thread(target=run, name="polystore-search", daemon=True)
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT_S) or failure or server.bound_port is None:
        server.request_stop()
        engine.close()
        raise RuntimeError(
            f"search engine did not start on {host}:{port} within {STARTUP_TIMEOUT_S}s "
            f"({failure[0] if failure else 'no error reported'}); is the port free?"
        )
    return RunningServer(f"http://{host}:{server.bound_port}", engine, server, thread)


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
    server = SearchServer(engine, args.host, args.port)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # graceful: commit, unlock, exit 0
            loop.add_signal_handler(sig, server.request_stop)
        await server.serve()

    try:
        asyncio.run(serve())
    except OSError as err:  # e.g. the port is taken
        print(f"polystore search: cannot serve on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    return 0
