"""Running the engine: as the runtime's child process, or in a thread for tests.

``python -m emulation.dynamodb --host 127.0.0.1 --port P --data-dir DIR`` opens (or
creates) ``DIR/dynamodb.sqlite3``, prints ``dynamodb listening on http://127.0.0.1:P``
once it answers, sweeps TTL and trims streams every second, and exits 0 on SIGTERM or
SIGINT. Startup reads only table metadata, whatever the number of items stored.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from emulation.dynamodb import api, streams_api, ttl
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.http_server import DynamoApp
from emulation.engine_http import serving
from emulation.engine_http.serving import EngineServer, Periodic, RunningServer

__all__ = ["RunningServer", "main", "make_server", "serve_in_thread"]
log = logging.getLogger(__name__)


def _ticker(engine: Engine, tick_s: float) -> Callable[[], None]:
    last_trim = [0.0]
    engine.store.start_checkpoints(tick_s)  # off the event loop: its fsync stalls no request

    def tick() -> None:
        ttl.sweep(engine)
        now = time.time()
        if now - last_trim[0] >= 60:
            last_trim[0] = now
            with engine.store.tx():
                streams_api.trim(engine, now)

    return tick


def make_server(engine: Engine, host: str, port: int, tick_s: float = 1.0) -> EngineServer:
    return EngineServer(
        DynamoApp(lambda target, body: api.handle(engine, target, body)),
        host,
        port,
        periodic=(Periodic(_ticker(engine, tick_s), tick_s, "TTL sweep and stream trim"),),
    )


def serve_in_thread(data_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
                    tick_s: float = 1.0) -> RunningServer[Engine]:  # fmt: skip
    engine = Engine(data_dir)
    return serving.serve_in_thread(engine, make_server(engine, host, port, tick_s), "dynamodb")


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

    def listening(port: int) -> None:
        print(f"dynamodb listening on http://{args.host}:{port}", flush=True)

    try:
        serving.run_until_signal(server, listening)
    except OSError as err:
        print(f"dynamodb: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr,
              flush=True)  # fmt: skip
        return 1
    finally:
        engine.close()
    print("dynamodb stopped", flush=True)
    return 0
