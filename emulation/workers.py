"""Workers: the stack's long-running host processes that are not engines.

Stream pollers, CDC sink consumers, the TTL sweeper beside DynamoDB Local, services:
each is an ``emulation.engines.base.Worker`` that an engine plug-in or a link kind
contributes. They run as detached processes with pid files under ``pids/workers/``
on both runtimes, start after provisioning (they need the stores), and stop before
the engines (so none of them logs a burst of connection errors on ``down``).
``start`` is idempotent: a live worker is left alone, a dead one (killed, crashed)
is started again, which is how a worker killed with -9 comes back on the next ``up``.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulation import procs
from emulation.engines.base import Progress, Worker
from emulation.state import StateDir


def _pids(state_dir: StateDir) -> Path:
    return state_dir.pids / "workers"


def tracked(state_dir: StateDir) -> dict[str, procs.Tracked]:
    """Every worker with a pid file, by name."""
    folder = _pids(state_dir)
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        t = procs.read_tracked(folder, path.stem)
        if t is not None:
            out[t.name] = t
    return out


def start(state_dir: StateDir, workers: list[Worker], env: dict[str, str],
          progress: Progress) -> list[str]:  # fmt: skip
    """Start the workers that are not running; return the names started."""
    started = []
    for w in workers:
        t = procs.read_tracked(_pids(state_dir), w.name)
        if t is not None and t.is_alive():
            continue
        procs.spawn_detached(w.name, w.command, pids_dir=_pids(state_dir),
                             log=state_dir.log(w.name), env=env | w.env)  # fmt: skip
        progress(f"started {w.name}" + (f" ({w.description})" if w.description else ""))
        started.append(w.name)
    return started


def wait_healthy(state_dir: StateDir, workers: list[Worker], progress: Progress,
                 timeout: float = 60.0) -> None:  # fmt: skip
    """Wait (in parallel, bounded) until every worker with a health URL answers 200."""
    from emulation.waits import wait_for

    def one(w: Worker) -> None:
        t = procs.read_tracked(_pids(state_dir), w.name)
        wait_for(lambda: _get_ok(w.health), what=f"{w.name} ({w.health})", timeout=timeout,
                 interval=0.1, log=state_dir.log(w.name),
                 alive=(t.is_alive if t is not None else None),
                 hint=f"read {state_dir.log(w.name)}")  # fmt: skip
        progress(f"{w.name} ready at {w.url}")

    todo = [w for w in workers if w.health]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(todo)))) as pool:
        futures = [pool.submit(one, w) for w in todo]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        from emulation.errors import EmulationError

        raise EmulationError("\n".join(map(str, errors)), "fix the first error above")


def _get_ok(url: str) -> None:
    """GET ``url``; raise unless it answers 200."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} answered {resp.status}")


def healthy(url: str) -> bool:
    try:
        _get_ok(url)
    except Exception:
        return False
    return True


def stop(state_dir: StateDir, progress: Progress, names: list[str] | None = None) -> None:
    """Stop every worker (or those named) and drop their pid files."""
    todo = [t for n, t in tracked(state_dir).items() if names is None or n in names]

    def one(t: procs.Tracked) -> None:
        if t.is_alive():
            progress(f"stopping {t.name} (pid {t.pid})")
        procs.stop(t, pids_dir=_pids(state_dir), sig=signal.SIGTERM, timeout=10)

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(todo)))) as pool:
        list(pool.map(one, todo))


def status(state_dir: StateDir) -> dict[str, dict[str, object]]:
    """Every known worker: pid, alive, log."""
    return {n: {"pid": t.pid if t.is_alive() else None, "alive": t.is_alive(), "log": t.log}
            for n, t in tracked(state_dir).items()}  # fmt: skip
