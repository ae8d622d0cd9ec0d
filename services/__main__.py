"""``python -m services SYSTEM.SERVICE``: run one service (the container's entrypoint).

The port comes from ``--port``, else ``$PORT``, else the service's declared port; the
host from ``--host`` (default 0.0.0.0 in a container, where the task's network is
private; the local stack passes 127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services", description=__doc__)
    parser.add_argument("target", metavar="SYSTEM.SERVICE")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    args = parser.parse_args(argv)
    system_name, dot, service = args.target.partition(".")
    if not dot:
        parser.error(f"expected SYSTEM.SERVICE, got {args.target!r}")

    import uvicorn

    from polystore import load_topology
    from services.app import create_app, json_logging
    from services.config import ConfigError, ServiceConfig

    json_logging()
    try:
        system = load_topology().system(system_name)
        config = ServiceConfig.from_env(system, service)
    except (KeyError, ConfigError) as exc:
        print(f"services: {exc}", file=sys.stderr)
        sys.exit(2)
    port = args.port or int(os.environ.get("PORT") or system.services[service].port)
    if args.reload:
        os.environ["POLYSTORE_SERVICE"] = args.target
        uvicorn.run("services.reload:app", host=args.host, port=port, reload=True,
                    factory=True, log_config=None)  # fmt: skip
        return
    uvicorn.run(create_app(config), host=args.host, port=port, log_config=None,
                access_log=False, http="httptools")  # fmt: skip


if __name__ == "__main__":
    main()
