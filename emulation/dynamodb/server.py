"""Running the engine: as the runtime's child process, or in a thread for tests.

``python -m emulation.dynamodb --host 127.0.0.1 --port P --data-dir DIR`` opens (or
creates) ``DIR/dynamodb.sqlite3``, prints ``dynamodb listening on http://127.0.0.1:P``
once it answers, sweeps TTL and trims streams every second, and exits 0 on SIGTERM or
SIGINT. Startup reads only table metadata, whatever the number of items stored.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulation.dynamodb import api, streams_api, ttl
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.http_server import DynamoServer

STARTUP_TIMEOUT_S = 15.0
log = logging.getLogger(__name__)


def _ticker(engine: Engine) -> Callable[[], None]:
    last_trim = [0.0]

    def tick() -> None:
        ttl.sweep(engine)
        engine.store.checkpoint()
        now = time.time()
        if now - last_trim[0] >= 60:
            last_trim[0] = now
            with engine.store.tx():
                streams_api.trim(engine, now)

    return tick


def make_server(engine: Engine, host: str, port: int, tick_s: float = 1.0) -> DynamoServer:
    return DynamoServer(
        lambda target, body: api.handle(engine, target, body),
        host,
        port,
        tick=_ticker(engine),
        tick_s=tick_s,
    )


@dataclass
class RunningServer:
    """An engine served from a background thread; ``stop()`` shuts it down."""

    url: str
    engine: Engine
    _server: DynamoServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.request_stop()
        self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self.engine.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(data_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
                    tick_s: float = 1.0) -> RunningServer:  # fmt: skip
    engine = Engine(data_dir)
    server = make_server(engine, host, port, tick_s)
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        async def main() -> None:
            started = asyncio.Event()
            task = asyncio.create_task(server.serve(started))
            await asyncio.wait([task, asyncio.create_task(started.wait())],
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            ready.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as err:
            failure.append(err)
            ready.set()

    thread = threading.Thread(target=run, name="polystore-dynamodb", daemon=True)
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT_S) or failure or server.bound_port is None:
        server.request_stop()
        engine.close()
        raise RuntimeError(
            f"dynamodb engine did not start on {host}:{port} "
            f"({failure[0] if failure else 'timeout'}); is the port free?"
        )
    return RunningServer(f"http://{host}:{server.bound_port}", engine, server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulation.dynamodb", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="region in ARNs and stream records (default: $AWS_REGION, else us-east-1)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        engine = Engine(args.data_dir, region=args.region)
    except Exception as err:
        print(f"dynamodb: cannot open {args.data_dir}: {err}", file=sys.stderr, flush=True)
        return 1
    server = make_server(engine, args.host, args.port)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_stop)
        started = asyncio.Event()
        task = asyncio.create_task(server.serve(started))
        await asyncio.wait([task, asyncio.create_task(started.wait())],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if server.bound_port is not None:
            print(f"dynamodb listening on http://{args.host}:{server.bound_port}", flush=True)
        await task

    try:
        asyncio.run(run())
    except OSError as err:
        print(f"dynamodb: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr,
              flush=True)  # fmt: skip
        return 1
    finally:
        engine.close()
    print("dynamodb stopped", flush=True)
    return 0
