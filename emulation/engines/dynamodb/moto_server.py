"""The embedded DynamoDB engine: moto in server mode, plus what moto lacks.

``python -m emulation.engines.dynamodb_server --port P --snapshot FILE`` serves the
DynamoDB and DynamoDB Streams APIs on 127.0.0.1:P. Before it listens on P it restores
the snapshot (through a private port, so the first request a client gets answered
already sees every table); while it runs it sweeps expired TTL items and rewrites the
snapshot every ``--snapshot-interval`` seconds if there were writes; on SIGTERM/SIGINT
it writes a final snapshot and exits. A SIGKILL or a machine crash loses the writes
made since the last snapshot.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from emulation.engines.dynamodb import snapshot as dynamo_snapshot
from emulation.engines.dynamodb.ttl_sweeper import make_client, sweep_once


class _WriteTracker:
    """WSGI middleware: remembers that a write happened since the last snapshot."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.dirty = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if dynamo_snapshot.is_write(environ.get("HTTP_X_AMZ_TARGET", "")):
            self.dirty.set()
        return self.app(environ, start_response)


def _serve(app: Any, host: str, port: int) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--snapshot-interval", type=float, default=10.0)
    parser.add_argument("--sweep-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    # One line per request would make the log useless for "what went wrong".
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = _WriteTracker(DomainDispatcherApplication(create_backend_app))
    snapshot = dynamo_snapshot.read(args.snapshot)
    if snapshot:
        private = _serve(app, "127.0.0.1", 0)
        client = make_client(f"http://127.0.0.1:{private.server_port}")
        n = dynamo_snapshot.restore(client, snapshot)
        private.shutdown()
        print(f"restored {len(snapshot['tables'])} tables, {n} items from {args.snapshot}",
              flush=True)  # fmt: skip
    app.dirty.clear()
    public = _serve(app, args.host, args.port)
    endpoint = f"http://127.0.0.1:{public.server_port}"
    print(f"dynamodb (moto) listening on {endpoint}", flush=True)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    client = make_client(endpoint)

    def save() -> None:
        app.dirty.clear()
        dynamo_snapshot.write(args.snapshot, dynamo_snapshot.take(client))

    last_save = time.monotonic()
    while not stopping.wait(args.sweep_interval):
        try:
            if sweep_once(client):
                app.dirty.set()
            if app.dirty.is_set() and time.monotonic() - last_save >= args.snapshot_interval:
                save()
                last_save = time.monotonic()
        except Exception:
            traceback.print_exc()  # keep serving; the log shows what went wrong
    save()
    public.shutdown()
    print("snapshot written; stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
