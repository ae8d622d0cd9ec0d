"""Running the engine: as the runtime's child process or in a thread for tests.

``python -m emulation.search --host H --port P --data-dir D`` serves until SIGTERM or
SIGINT, then commits every index and releases the data-dir lock before exiting 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulation.engine_http import serving
from emulation.engine_http.serving import RunningServer
from emulation.search.engine import DataDirLockedError, Engine
from emulation.search.http_server import make_server
from emulation.search.view_dir import ViewDirError

__all__ = ["RunningServer", "main", "serve_in_thread"]


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | Path = ".polystore/search",
    view_dir: str | None = None,
) -> RunningServer[Engine]:
    """Start the engine in this process; ``port=0`` picks a free port (see ``.url``)."""
    engine = Engine(data_dir, view_dir)
    return serving.serve_in_thread(engine, make_server(engine, host, port), "search")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulation.search", description="polystore's OpenSearch-compatible engine"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument(
        "--view-dir",
        default=None,
        help="where the searchable (tantivy) views go: a directory, or 'data' for inside the "
        "data dir (default: $POLYSTORE_SEARCH_VIEW_DIR, else /dev/shm when usable)",
    )
    args = parser.parse_args(argv)
    try:
        engine = Engine(args.data_dir, args.view_dir)
    except (DataDirLockedError, ViewDirError) as err:
        print(f"polystore search: {err}", file=sys.stderr)
        return 2
    try:  # SIGTERM/SIGINT are graceful: commit, unlock, exit 0
        serving.run_until_signal(make_server(engine, args.host, args.port), None)
    except OSError as err:  # e.g. the port is taken
        print(f"polystore search: cannot serve on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    return 0
