"""Detached engine processes tracked by pid files, so they outlive ``polystore up``.

An engine is started by a tiny launcher (a fresh single-threaded Python): it starts a
new session, forks the engine and exits at once, so the engine is re-parented away
from polystore (no zombie to reap, no Popen object to outlive) and sits in its own
session (a Ctrl-C in the terminal that ran ``up`` does not reach it). Its pid and start time go to a
pid file; the start time guards against the pid having been reused since.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from emulation.errors import EmulationError

# Runs in a fresh single-threaded interpreter: new session, fork, the child execs the
# engine with its output on the launcher's stderr (the log), the launcher prints the
# pid and exits, so the engine is re-parented and never becomes our zombie.
_LAUNCHER = """
import os, sys
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setsid()
pid = os.fork()
if pid == 0:
    if uid >= 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.dup2(2, 1)
    os.execvp(sys.argv[3], sys.argv[3:])
print(pid, flush=True)
os._exit(0)
"""


@dataclass(frozen=True)
class Tracked:
    """What a pid file records about one engine process."""

    name: str
    pid: int
    started: float  # psutil create_time, to tell our process from a reused pid
    command: list[str]
    log: str

    def is_alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            return (
                abs(proc.create_time() - self.started) < 1.0
                and proc.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False


def pid_file(pids_dir: Path, name: str) -> Path:
    return pids_dir / f"{name}.json"


def spec_file(pids_dir: Path, name: str) -> Path:
    """How to start ``name`` again (command, env, cwd, user, log): the supervisor's input."""
    return pids_dir / f"{name}.spec"


@dataclass(frozen=True)
class Spec:
    """Everything ``spawn_detached`` was given, so a dead process can be started again."""

    name: str
    command: list[str]
    log: str
    env: dict[str, str] | None = None
    cwd: str | None = None
    user: str | None = None

    def spawn(self, pids_dir: Path) -> Tracked:
        return spawn_detached(self.name, self.command, pids_dir=pids_dir, log=Path(self.log),
                              env=self.env, cwd=Path(self.cwd) if self.cwd else None,
                              user=self.user)  # fmt: skip


def read_spec(pids_dir: Path, name: str) -> Spec | None:
    try:
        return Spec(**json.loads(spec_file(pids_dir, name).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def specs(pids_dir: Path) -> list[Spec]:
    """Every process under ``pids_dir`` that may be restarted, by name."""
    found = (read_spec(pids_dir, p.name[: -len(".spec")]) for p in sorted(pids_dir.glob("*.spec")))
    return [s for s in found if s is not None]


def read_tracked(pids_dir: Path, name: str) -> Tracked | None:
    path = pid_file(pids_dir, name)
    try:
        return Tracked(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def spawn_detached(
    name: str,
    command: list[str],
    *,
    pids_dir: Path,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> Tracked:
    """Start ``command`` detached, its output appended to ``log``; write its pid file.

    ``user`` runs it as another system user (PostgreSQL refuses to run as root).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    pids_dir.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        uid = gid = -1
        if user is not None:
            entry = pwd.getpwnam(user)
            uid, gid = entry.pw_uid, entry.pw_gid
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(uid), str(gid), *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=out,
            env=env,
            cwd=cwd,
            check=False,
            timeout=10,
        )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise EmulationError(
            f"could not start {name} (see {log})",
            f"try running it by hand: {' '.join(command)}",
        )
    pid = int(done.stdout)
    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        started = 0.0  # exited at once; the readiness wait reports it with the log
    tracked = Tracked(name, pid, started, command, str(log))
    pid_file(pids_dir, name).write_text(json.dumps(asdict(tracked)))
    # The environment may hold local passwords: the spec is readable by its owner only.
    spec = Spec(name, command, str(log), env, str(cwd) if cwd else None, user)
    fd = os.open(spec_file(pids_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(spec), fh)
    return tracked


def stop(
    tracked: Tracked, *, pids_dir: Path, sig: int = signal.SIGTERM, timeout: float = 20.0
) -> None:
    """Signal the process, wait (bounded) for it to go, kill it if it will not; drop the pid file.

    The process is not our child, so "gone" is polled rather than waited on. The spec
    goes first: a process stopped on purpose is not one the supervisor brings back.
    """
    spec_file(pids_dir, tracked.name).unlink(missing_ok=True)
    if tracked.is_alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(tracked.pid, sig)
        deadline = time.monotonic() + timeout
        while tracked.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if tracked.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(tracked.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while tracked.is_alive() and time.monotonic() < deadline:
                time.sleep(0.02)
    pid_file(pids_dir, tracked.name).unlink(missing_ok=True)
