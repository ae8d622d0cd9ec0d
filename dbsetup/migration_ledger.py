"""What each applied migration looked like, so an edited one is refused, not ignored.

dbmate records only the version of an applied migration (``schema_migrations``); it
never looks at the file again, so an edit to an applied migration is silently ignored
locally and would be in AWS. polystore keeps, per database, the content and sha256 of
every migration it saw applied, in the server's ``postgres`` database
(``polystore.applied_migrations``, admin-only: the service databases hold exactly what
they hold in AWS). It lives with the cluster, so it survives ``down``/``up`` and goes
with ``reset``. Before migrating, every applied migration is compared with its file;
a difference is refused with the file, the first changed line and what to do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbsetup.errors import MigrationRefused

# dbmate's own rule: a migration is a ``.sql`` file whose name starts with its version.
_MIGRATION_FILE = re.compile(r"^(\d+).*\.sql$")

LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS polystore;
CREATE TABLE IF NOT EXISTS polystore.applied_migrations (
    database   text NOT NULL,
    version    text NOT NULL,
    file       text NOT NULL,
    sha256     text NOT NULL,
    content    text NOT NULL,
    recorded   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (database, version)
);
REVOKE ALL ON SCHEMA polystore FROM PUBLIC;
"""


@dataclass(frozen=True)
class Recorded:
    file: str
    sha256: str
    content: str


def migration_files(directory: Path) -> dict[str, Path]:
    """Version -> file, as dbmate reads the directory."""
    out: dict[str, Path] = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            found = _MIGRATION_FILE.match(path.name)
            if found and path.is_file():
                out[found.group(1)] = path
    return out


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create(admin_conn: Any) -> None:
    """Create the ledger (once, before stores are provisioned in parallel)."""
    admin_conn.execute(LEDGER_DDL)


def applied_versions(conn: Any) -> set[str]:
    """The versions dbmate recorded in the connected database (none before its first run)."""
    if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0] is None:
        return set()
    return {v for (v,) in conn.execute("SELECT version FROM public.schema_migrations")}


def recorded(admin_conn: Any, database: str) -> dict[str, Recorded]:
    rows = admin_conn.execute(
        "SELECT version, file, sha256, content FROM polystore.applied_migrations "
        "WHERE database = %s",
        (database,),
    )
    return {v: Recorded(f, s, c) for (v, f, s, c) in rows}


def first_difference(old: str, new: str) -> tuple[int, str, str]:
    """(1-based line, old line, new line) of the first line that differs."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return number, a, b
    number = min(len(old_lines), len(new_lines)) + 1

    def pick(lines: list[str]) -> str:
        return lines[number - 1] if number <= len(lines) else "(end of file)"

    return number, pick(old_lines), pick(new_lines)


def check_unchanged(
    database: str, files: dict[str, Path], applied: set[str], ledger: dict[str, Recorded]
) -> None:
    """Refuse when an applied migration's file changed or went away since it was applied."""
    problems: list[str] = []
    for version in sorted(applied):
        was = ledger.get(version)
        if was is None:
            continue  # applied before polystore kept a ledger: adopted as it is now
        path = files.get(version)
        if path is None:
            problems.append(
                f"{was.file}: migration {version} was applied to database {database} "
                "and its file is gone"
            )
            continue
        now = path.read_text()
        if sha256(now) == was.sha256:
            continue
        line, before, after = first_difference(was.content, now)
        problems.append(
            f"{path}:{line}: migration {version} was applied to database {database} and has "
            f"changed since; first changed line:\n    applied: {before.strip()}\n"
            f"    now:     {after.strip()}"
        )
    if problems:
        raise MigrationRefused(
            "\n".join(problems),
            "applied migrations are never re-run: put the change in a new migration (the "
            "next number); or, locally only, `polystore reset` (deletes the local data) and "
            "`polystore up` to apply the edited file from scratch",
        )


def record(admin_conn: Any, database: str, files: dict[str, Path], versions: set[str]) -> None:
    """Remember the content of ``versions`` (just applied, or adopted) for ``database``."""
    for version in sorted(versions):
        path = files.get(version)
        if path is None:
            continue
        content = path.read_text()
        admin_conn.execute(
            "INSERT INTO polystore.applied_migrations (database, version, file, sha256, "
            "content) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (database, version) DO NOTHING",
            (database, version, str(path), sha256(content), content),
        )
