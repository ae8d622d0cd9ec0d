"""The state dir (``.polystore/`` by default): ports, passwords, pid files, engine data.

``state.json`` is the one record of what the local stack is: the runtime that made it,
the ports chosen at first start (kept, so clients configured once keep working), the
generated passwords and the fingerprint of what was last provisioned. Commands take
an exclusive lock on the dir, so two ``up`` runs never start the same engine twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from emulation.errors import EmulationError, StaleState
from polystore.project import project_root

STATE_ENV = "POLYSTORE_STATE_DIR"
DEFAULT_DIR = ".polystore"
STATE_VERSION = 1
_PASSWORDS_LOCK = threading.Lock()


def default_state_dir() -> Path:
    """``$POLYSTORE_STATE_DIR``, else ``.polystore`` in the project root (found by walking
    up from the working directory, as the topology is), else ``./.polystore``."""
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env).absolute()
    return (project_root() or Path.cwd()) / DEFAULT_DIR


@dataclass
class State:
    version: int = STATE_VERSION
    runtime: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    passwords: dict[str, str] = field(default_factory=dict)  # postgres role -> password
    # system -> fingerprint of the declaration + migrations it was last provisioned from
    provisioned: dict[str, str] = field(default_factory=dict)
    containers: dict[str, str] = field(default_factory=dict)  # docker runtime: engine -> id
    # The engines the provisioned systems need: what `status` expects to find running.
    engines: list[str] = field(default_factory=list)
    # True after a deliberate `down` (status says "stopped", not "unhealthy").
    stopped: bool = False
    # engine -> the major version the topology declares for it (postgres: 16)
    versions: dict[str, int] = field(default_factory=dict)
    # Systems provisioned by an `up` whose demo seeding has not finished (or been declined
    # with --no-seed): saved with `provisioned`, so an `up` killed while seeding is resumed.
    unseeded: list[str] = field(default_factory=list)

    def password_for(self, role: str) -> str:
        # Engines provision in parallel threads, each may create passwords.
        with _PASSWORDS_LOCK:
            if role not in self.passwords:
                self.passwords[role] = secrets.token_urlsafe(18)
            return self.passwords[role]


class StateDir:
    """Paths inside one state dir, and load/save of its ``state.json``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_state_dir()).absolute()

    # -- layout ---------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    def engine_dir(self, engine: str) -> Path:
        return self.root / engine

    def log(self, engine: str) -> Path:
        return self.root / "logs" / f"{engine}.log"

    # -- state.json -----------------------------------------------------------------
    def exists(self) -> bool:
        return self.state_file.exists()

    def load(self) -> State:
        """The saved state, or a fresh one when there is none."""
        if not self.state_file.exists():
            return State()
        try:
            raw = json.loads(self.state_file.read_text())
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            if raw.get("version") != STATE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}, expected {STATE_VERSION}")
            return State(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise StaleState(
                f"{self.state_file} is unreadable or from another polystore version ({exc})",
                f"run `polystore reset --state-dir {self.root}` (wipes local data) "
                "or move the dir away",
            ) from exc

    def save(self, state: State) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        # Passwords live here: readable by the owner only.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(state), fh, indent=2, sort_keys=True)
        tmp.replace(self.state_file)

    # -- lock -----------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the dir's exclusive lock; fail after ``timeout`` naming the holder.

        The lock file is removed on release when nothing else is left in the dir (after
        ``reset``), so a wiped stack leaves no stray file. That is safe because a waiter
        that wins the lock on a file already unlinked notices (its inode is no longer
        the path's) and locks the new file instead.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "lock"
        deadline = time.monotonic() + timeout
        while True:
            fh = path.open("a+")
            try:
                self._acquire(fh, path, deadline, timeout)
            except BaseException:
                fh.close()
                raise
            if _same_file(fh, path):
                break
            fh.close()  # unlinked by the holder we waited for: lock the current file
        with fh:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                if self._only_lock_left():
                    path.unlink(missing_ok=True)
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _acquire(fh: IO[str], path: Path, deadline: float, timeout: float) -> None:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    owner = fh.read().strip() or "unknown"
                    raise EmulationError(
                        f"another polystore command (pid {owner}) holds {path} "
                        f"after {timeout:.0f}s",
                        "wait for it to finish, or stop it",
                    ) from None
                time.sleep(0.05)

    def _only_lock_left(self) -> bool:
        try:
            return [p.name for p in self.root.iterdir()] == ["lock"]
        except OSError:
            return False


def _same_file(fh: IO[str], path: Path) -> bool:
    try:
        return os.fstat(fh.fileno()).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False
