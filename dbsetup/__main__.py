"""``python -m dbsetup``: set up one deployed PostgreSQL store (the one-off ECS task).

    python -m dbsetup --system S --store STORE --environment E [--stacks DIR]
                      [--replication-secret LINK=SECRET_ID ...]

Connects as the administrator from libpq's variables (``PGHOST``, ``PGPORT``, ``PGUSER``,
``PGPASSWORD``, ``PGSSLMODE``, ``PGDATABASE`` -- ECS injects the RDS master secret),
creates the owning service's login and hands it the database, adds the extensions and
applies the migrations as that login, authenticating with an RDS IAM token
(``AWS_REGION``); then, for each CDC link reading this store, the replication login,
publication and slot. The replication password comes from ``CDC_REPLICATION_PASSWORD``
or the link's Secrets Manager secret (generated and stored on the first run).

Idempotent: run it after every deployment that adds migrations. Exit 0 done, 1 a
failure (connection, permissions), 2 bad input (arguments, topology, a migration:
reported as ``path:line``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dbsetup.connection import PasswordFor, Server
from dbsetup.errors import BadInput, SetupError


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m dbsetup", description=__doc__.split("\n")[0])
    ap.add_argument("--system", required=True)
    ap.add_argument("--store", required=True, help="the PostgreSQL store (topology name)")
    ap.add_argument("--environment", required=True, help="dev, staging, prod (slot names)")
    ap.add_argument("--stacks", type=Path, help="the stacks directory (POLYSTORE_STACKS)")
    ap.add_argument("--replication-secret", action="append", default=[],
                    metavar="LINK=SECRET_ID",
                    help="a CDC link's Secrets Manager secret holding its password")  # fmt: skip
    return ap.parse_args(argv)


def run(args: argparse.Namespace, env: Mapping[str, str], say: Callable[[str], None], *,
        password_for: PasswordFor | None = None, secrets_client: Any = None) -> None:  # fmt: skip
    """The setup; ``password_for`` and ``secrets_client`` are seams for tests (default:
    IAM tokens and boto3's Secrets Manager client, both in ``AWS_REGION``)."""
    from dbsetup.plan import replication_setups, store_setups
    from dbsetup.replication import setup_replication
    from dbsetup.replication_secret import replication_password
    from dbsetup.store import setup_stores
    from polystore.topology.errors import TopologyError
    from polystore.topology.loader import load_topology

    try:
        topology = load_topology([args.stacks] if args.stacks else None)
    except TopologyError as err:
        raise BadInput(str(err)) from None
    if args.system not in topology.systems:
        raise BadInput(f"no system {args.system!r} (known: {', '.join(sorted(topology.systems))})")
    system = topology.systems[args.system]
    pg = system.postgres_stores()
    if args.store not in pg:
        raise BadInput(f"{args.system} has no PostgreSQL store {args.store!r} "
                       f"(its PostgreSQL stores: {', '.join(sorted(pg)) or 'none'})")  # fmt: skip
    links = replication_setups(system, args.environment, source=args.store)
    secret_ids = {}
    for item in args.replication_secret:
        link, sep, secret_id = item.partition("=")
        if not sep or not secret_id or link not in links:
            raise BadInput(f"--replication-secret {item!r}: expected LINK=SECRET_ID with LINK "
                           f"one of the CDC links reading {args.store} "
                           f"({', '.join(sorted(links)) or 'none'})")  # fmt: skip
        secret_ids[link] = secret_id
    fixed = env.get("CDC_REPLICATION_PASSWORD")
    unset = [link for link in links if link not in secret_ids and not fixed]
    if unset:
        raise BadInput(f"no replication password for CDC link(s) {', '.join(unset)}",
                       "pass --replication-secret LINK=SECRET_ID (the task does) or set "
                       "CDC_REPLICATION_PASSWORD")  # fmt: skip
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if (password_for is None or (secret_ids and secrets_client is None)) and not region:
        raise BadInput("AWS_REGION is not set (service logins authenticate with IAM tokens; "
                       "replication passwords live in Secrets Manager)")  # fmt: skip

    admin = Server.from_env(env)
    admin_db = env.get("PGDATABASE") or "postgres"
    if password_for is None:
        from dbsetup.iam import token_maker

        password_for = token_maker(admin.host, admin.port, str(region))
    [store] = store_setups(system, "the dbsetup task (`aws ecs run-task ...`)", only=args.store)
    say(f"{store.label}: database {store.database} on {admin.host}:{admin.port} as {admin.user}")
    setup_stores(admin, [store], password_for, say, ledger_database=admin_db)
    say(f"{store.label}: login {store.login} owns {store.database}; migrations applied")
    for name, link in links.items():
        if name in secret_ids:
            if secrets_client is None:
                import boto3

                secrets_client = boto3.client("secretsmanager", region_name=region)
            password, made = replication_password(secrets_client, secret_ids[name])
            if made:
                say(f"{link.label}: generated the replication password into {secret_ids[name]}")
        else:
            password = str(fixed)
        setup_replication(admin, link, password, say, admin_database=admin_db)
        say(f"{link.label}: login {link.login}, publication and slot {link.slot} ready")


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         **seams: Any) -> int:  # fmt: skip
    args = parse(argv)

    def say(line: str) -> None:
        print(f"dbsetup: {line}", flush=True)

    try:
        run(args, os.environ if env is None else env, say, **seams)
    except SetupError as err:
        print(f"dbsetup: error: {err}", file=sys.stderr, flush=True)
        return err.exit_code
    except Exception as err:  # a connection or permission failure: say what, not a trace
        import psycopg

        if not isinstance(err, psycopg.Error):
            raise
        print(f"dbsetup: error: {type(err).__name__}: {str(err).strip()}", file=sys.stderr)
        return 1
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
