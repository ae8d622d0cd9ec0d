"""The stack's supervisor: starts again any engine or worker that died.

``polystore up`` leaves one supervisor process per state dir running
(``python -m emulation.supervisor STATE_DIR``). Every process the stack started has a
spec beside its pid file (``emulation.procs.Spec``: command, env, cwd, user, log);
when such a process is gone — killed with -9, crashed, OOM-killed — the supervisor
spawns it again from its spec, as it was first started. A process stopped on purpose
(``down``, ``reset``, a link's redrive) has its spec removed before it is signalled,
so it is never brought back.

Restarts back off per process (0.25 s doubling to 30 s while it keeps dying within
10 s of starting), so a process that cannot start (a broken data dir, a taken port)
does not spin. A restart happens only while no other polystore command holds the state
dir's lock: ``up`` and ``down`` decide what runs, the supervisor only mends between
them. Each restart is logged and counted in ``pids/restarts.json`` for ``status``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulation import engines as registry
from emulation import procs
from emulation.errors import EmulationError
from emulation.state import StateDir

NAME = "supervisor"
TICK = 0.25  # seconds between looks at the pid files
FIRST_DELAY = 0.25
MAX_DELAY = 30.0
QUICK_DEATH = 10.0  # a process that dies this soon after starting backs off further


@dataclass
class _Backoff:
    failures: int = 0
    not_before: float = 0.0
    history: list[float] = field(default_factory=list)


def restarts_file(state_dir: StateDir) -> Path:
    return state_dir.pids / "restarts.json"


def restarts(state_dir: StateDir) -> dict[str, dict[str, Any]]:
    """What the supervisor restarted, by process name: count and last time."""
    try:
        data = json.loads(restarts_file(state_dir).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _folders(state_dir: StateDir) -> list[Path]:
    return [state_dir.pids, state_dir.pids / "workers"]


def _dead(folder: Path) -> list[procs.Spec]:
    out = []
    for spec in procs.specs(folder):
        if spec.name == NAME:
            continue
        t = procs.read_tracked(folder, spec.name)
        if t is None or not t.is_alive():
            out.append(spec)
    return out


class Supervisor:
    def __init__(self, state_dir: StateDir) -> None:
        self.dir = state_dir
        self.backoff: dict[str, _Backoff] = {}
        self.counts = restarts(state_dir)

    def tick(self, now: float) -> list[str]:
        """Restart what is dead and due; return the names restarted."""
        due = [(f, s) for f in _folders(self.dir) for s in _dead(f)
               if now >= self.backoff.setdefault(s.name, _Backoff()).not_before]  # fmt: skip
        if not due:
            return []
        try:
            with self.dir.locked(timeout=0):
                return [s.name for f, s in due if self._restart(f, s, now)]
        except EmulationError:
            return []  # up/down/reset runs: it decides what runs; look again next tick

    def _restart(self, folder: Path, spec: procs.Spec, now: float) -> bool:
        # Re-read under the lock: a `down` that just finished removed the spec.
        current = procs.read_spec(folder, spec.name)
        t = procs.read_tracked(folder, spec.name)
        if current is None or (t is not None and t.is_alive()):
            return False
        b = self.backoff[spec.name]
        lived = now - (t.started if t is not None and t.started else 0.0)
        b.failures = b.failures + 1 if lived < QUICK_DEATH else 1
        b.not_before = now + min(MAX_DELAY, FIRST_DELAY * 2 ** (b.failures - 1))
        try:
            if folder == self.dir.pids and spec.name in registry.ENGINE_NAMES:
                for line in registry.get(spec.name).recover(self.dir.engine_dir(spec.name)):
                    _log(line)
            new = current.spawn(folder)
        except EmulationError as exc:
            _log(f"{spec.name}: restart failed: {exc}")
            return False
        entry = self.counts.setdefault(spec.name, {"restarts": 0})
        entry["restarts"] = int(entry.get("restarts", 0)) + 1
        entry["last"] = datetime.now(UTC).isoformat(timespec="seconds")
        entry["pid"] = new.pid
        tmp = restarts_file(self.dir).with_suffix(".tmp")
        tmp.write_text(json.dumps(self.counts, indent=2, sort_keys=True))
        tmp.replace(restarts_file(self.dir))
        _log(f"{spec.name}: was not running; started again (pid {new.pid}, "
             f"restart {entry['restarts']})")  # fmt: skip
        return True

    def run(self) -> None:
        stopping: list[int] = []
        # Finish the restart in hand (pid file written) before leaving on SIGTERM.
        signal.signal(signal.SIGTERM, lambda signum, _: stopping.append(signum))
        while self.dir.state_file.exists() and not stopping:
            try:
                if json.loads(self.dir.state_file.read_text()).get("stopped"):
                    return
            except (OSError, ValueError):
                pass  # being rewritten: look again next tick
            self.tick(time.time())
            time.sleep(TICK)


def _log(message: str) -> None:
    print(json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                      "message": message}), flush=True)  # fmt: skip


def ensure(state_dir: StateDir, env: dict[str, str]) -> bool:
    """Start the supervisor of ``state_dir`` unless it runs; True if started.

    Called by ``up`` with the state dir's lock held.
    """
    t = procs.read_tracked(state_dir.pids, NAME)
    if t is not None and t.is_alive():
        return False
    procs.spawn_detached(NAME, [sys.executable, "-m", "emulation.supervisor", str(state_dir.root)],
                         pids_dir=state_dir.pids, log=state_dir.log(NAME), env=env)  # fmt: skip
    return True


def stop(state_dir: StateDir) -> None:
    """Stop the supervisor first on ``down``: nothing may come back while things stop."""
    t = procs.read_tracked(state_dir.pids, NAME)
    if t is not None:
        procs.stop(t, pids_dir=state_dir.pids, sig=signal.SIGTERM, timeout=5)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m emulation.supervisor STATE_DIR", file=sys.stderr)
        return 2
    _log(f"supervising {argv[0]} (pid {os.getpid()})")
    Supervisor(StateDir(Path(argv[0]))).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
