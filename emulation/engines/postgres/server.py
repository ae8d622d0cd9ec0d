"""The embedded PostgreSQL server: binaries of the declared major, run by polystore.

Binaries: ``$POLYSTORE_PG_BIN``, else the pinned build of the declared major, fetched
once into the user cache (``binaries``); a ``postgres`` on PATH only when it is that
same major. polystore drives ``initdb`` and ``postgres`` itself to choose the port and
listen address and to let the server outlive the command that started it. PostgreSQL
refuses to run as root; as root, the server runs as the system user
``embedded_postgres`` (created if missing), which owns the data dir; binaries and data
are kept where that user can reach them without changing the modes of the user's own
directories (``service_user``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Any

from emulation.engines.base import Progress
from emulation.engines.postgres import binaries as postgres_binaries
from emulation.engines.postgres import service_user
from emulation.engines.postgres.version import DEFAULT_MAJOR
from emulation.errors import EmulationError, MissingBinary, StaleState
from emulation.state import State

PG_BIN_ENV = "POLYSTORE_PG_BIN"
SERVICE_USER = "embedded_postgres"
ADMIN_USER = "postgres"

# Local-only settings: no Unix socket (nothing to clean up, no path-length limit), logical
# WAL so CDC can read it. Commits stay synchronous, as on RDS: a service answers 200 only
# for what survives a kill -9 of the server (with asynchronous commit, a write acknowledged
# to a client — and already mirrored to DynamoDB or Kafka — could vanish from PostgreSQL).
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "synchronous_commit": "on",
    "wal_level": "logical",
    "max_connections": "200",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    # A CDC slot whose connector is down pins WAL; bound it (the slot is invalidated past
    # this and the connector must re-snapshot) rather than fill the disk.
    "max_slot_wal_keep_size": "1GB",
}


def _quiet(_: str) -> None:
    pass


def wanted_major(state: State) -> int:
    """The major the local server must run (recorded in the state by ``up``)."""
    return int(state.versions.get("postgres", DEFAULT_MAJOR))


def bin_dir(major: int = DEFAULT_MAJOR, progress: Progress = _quiet,
            user: str | None = None) -> Path:  # fmt: skip
    """Where ``initdb`` and ``postgres`` of ``major`` are (fetched now if needed).

    ``user``: the system user the server will run as; a candidate out of its reach
    (binaries inside a 0700 checkout's .venv) is passed over.
    """
    override = os.environ.get(PG_BIN_ENV)
    if override:
        directory = Path(override)
        if not ((directory / "postgres").exists() and (directory / "initdb").exists()):
            raise MissingBinary(
                f"{PG_BIN_ENV}={override} holds no initdb and postgres",
                f"point {PG_BIN_ENV} at PostgreSQL's bin dir, or unset it",
            )
        found = postgres_binaries.server_major(directory)
        if found != major:
            raise MissingBinary(
                f"{PG_BIN_ENV}={override} is PostgreSQL {found}; the topology declares {major}",
                f"point {PG_BIN_ENV} at a PostgreSQL {major} bin dir, or unset it (polystore "
                "then fetches the pinned build)",
            )
        return directory

    def reachable(path: Path) -> bool:
        return user is None or service_user.can_traverse(path, user)

    root = postgres_binaries.cache_root(reachable if user else None)
    cached = postgres_binaries.installed(root, postgres_binaries.pinned_version(major))
    if cached:
        return cached
    for directory in _same_major_elsewhere(major):
        if reachable(directory / "postgres"):
            return directory
    return postgres_binaries.ensure(major, progress, root=root)


def _same_major_elsewhere(major: int) -> list[Path]:
    """A ``postgres`` on PATH, when it is ``major`` (a system install: no download)."""
    on_path = shutil.which("postgres")
    if not on_path:
        return []
    directory = Path(on_path).parent
    if not (directory / "initdb").exists():
        return []
    try:
        return [directory] if postgres_binaries.server_major(directory) == major else []
    except MissingBinary:
        return []


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


def check_cluster(data: Path, major: int) -> None:
    """Refuse to start a cluster made by another major (its files would not load)."""
    version_file = data / "PG_VERSION"
    if not version_file.exists():
        return
    made_by = version_file.read_text().strip()
    if made_by != str(major):
        raise StaleState(
            f"the local PostgreSQL cluster {data} was created by PostgreSQL {made_by}; "
            f"the topology declares {major}",
            "`polystore reset` (deletes the local data) and `polystore up`, so the "
            f"cluster is created by PostgreSQL {major}",
        )


def initdb(data: Path, password: str, user: str | None, bins: Path) -> None:
    """Create the cluster: superuser ``postgres`` with ``password``, scram auth everywhere.

    As root (``user`` set), the cluster lives where ``user`` can reach it:
    ``data`` itself, or a polystore-owned directory ``data`` links to.
    """
    if user is None:
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        real = data
    else:
        real = service_user.place_data(data, user)
    pwfile = real.parent / ".pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    if user is not None:
        service_user.own(pwfile, user)
    try:
        extra: dict[str, Any] = {"user": user, "group": user, "extra_groups": []} if user else {}
        done = subprocess.run(
            [str(bins / "initdb"), "-D", str(real), "-U", ADMIN_USER,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
             "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, timeout=120, check=False, cwd=real,
            **extra,
        )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise EmulationError(
            f"initdb failed for {data}:\n{done.stderr.strip()}",
            f"remove {data} and run `polystore up` again",
        )


def server_command(data: Path, port: int, bins: Path) -> list[str]:
    # The real path: as root, ``data`` may be a link inside a dir the server cannot enter.
    cmd = [str(bins / "postgres"), "-D", str(data.resolve()), "-p", str(port)]
    for key, value in SERVER_SETTINGS.items():
        cmd += ["-c", f"{key}={value}"]
    return cmd


def remove_data(data: Path) -> None:
    """Delete the cluster (wherever it was placed); the runtime's ``wipe`` calls this."""
    service_user.remove_data(data)


def end_orphans(data: Path, timeout: float = 10.0) -> list[int]:
    """Clear what a killed server left behind so a new one can start; return ended pids.

    After ``kill -9`` of the postmaster two things block a restart: its backends live on
    until they notice, holding the old shared memory; and its ``postmaster.pid`` names a
    pid that still "exists" while the killed process is a zombie not yet reaped (some
    container inits reap late or never), so PostgreSQL refuses ("lock file already
    exists"). The backends' server is gone, so nothing they hold can still commit: they
    are stopped (SIGQUIT, PostgreSQL's immediate exit) and waited for; then a lock file
    whose pid is dead, a zombie or another program's is removed. Nothing is touched while
    a live postmaster works in this data dir, or when that cannot be told (no permission).
    """
    import signal
    import time

    import psutil

    real = data.resolve()
    pid_file = real / "postmaster.pid"
    if not pid_file.exists():
        return []
    try:
        owner = psutil.Process(int(pid_file.read_text().split("\n", 1)[0]))
        if owner.status() != psutil.STATUS_ZOMBIE and owner.cwd() == str(real):
            return []  # a live server works here
    except (psutil.NoSuchProcess, psutil.ZombieProcess, ValueError):
        pass  # dead, a zombie, or an unreadable lock file: stale
    except (psutil.AccessDenied, OSError):
        return []  # cannot tell: leave it to PostgreSQL's own check
    orphans = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.cwd() == str(real):
                proc.send_signal(signal.SIGQUIT)
                orphans.append(proc)
        except psutil.Error:
            continue
    deadline = time.monotonic() + timeout
    for proc in orphans:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except psutil.TimeoutExpired:
            proc.kill()
        except psutil.Error:
            pass
    pid_file.unlink(missing_ok=True)
    return [p.pid for p in orphans]
