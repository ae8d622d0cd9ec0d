"""The supervisor starts again what died, never what was stopped on purpose."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from emulation import procs, supervisor
from emulation.state import State, StateDir

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def sdir(tmp_path: Path) -> StateDir:
    d = StateDir(tmp_path / "state")
    d.save(State())
    return d


def _spawn(d: StateDir, name: str, folder: Path | None = None) -> procs.Tracked:
    return procs.spawn_detached(name, SLEEPER, pids_dir=folder or d.pids, log=d.log(name),
                                env=dict(os.environ) | {"MARK": name})  # fmt: skip


def _kill(t: procs.Tracked) -> None:
    os.kill(t.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while t.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not t.is_alive()


def _stop_all(d: StateDir) -> None:
    for folder in (d.pids, d.pids / "workers"):
        for spec in procs.specs(folder):
            t = procs.read_tracked(folder, spec.name)
            if t is not None:
                procs.stop(t, pids_dir=folder, sig=signal.SIGKILL, timeout=5)


def test_a_killed_engine_and_worker_come_back_with_their_environment(sdir: StateDir) -> None:
    engine = _spawn(sdir, "search")
    worker = _spawn(sdir, "poller", sdir.pids / "workers")
    try:
        _kill(engine)
        _kill(worker)
        keeper = supervisor.Supervisor(sdir)
        assert sorted(keeper.tick(time.time())) == ["poller", "search"]
        new_engine = procs.read_tracked(sdir.pids, "search")
        new_worker = procs.read_tracked(sdir.pids / "workers", "poller")
        assert new_engine is not None and new_engine.is_alive() and new_engine.pid != engine.pid
        assert new_worker is not None and new_worker.is_alive()
        # the same command and environment as the first start
        env = Path(f"/proc/{new_worker.pid}/environ").read_bytes().split(b"\0")
        assert b"MARK=poller" in env
        assert supervisor.restarts(sdir)["search"]["restarts"] == 1
        assert keeper.tick(time.time()) == []  # alive: nothing to do
    finally:
        _stop_all(sdir)


def test_a_process_stopped_on_purpose_stays_stopped(sdir: StateDir) -> None:
    t = _spawn(sdir, "kafka")
    procs.stop(t, pids_dir=sdir.pids, timeout=5)
    assert procs.read_spec(sdir.pids, "kafka") is None
    assert supervisor.Supervisor(sdir).tick(time.time()) == []
    assert procs.read_tracked(sdir.pids, "kafka") is None


def test_no_restart_while_another_command_holds_the_lock(sdir: StateDir) -> None:
    t = _spawn(sdir, "search")
    try:
        _kill(t)
        keeper = supervisor.Supervisor(sdir)
        with sdir.locked():  # `up` or `down` at work: they decide what runs
            assert keeper.tick(time.time()) == []
        assert keeper.tick(time.time()) == ["search"]
    finally:
        _stop_all(sdir)


def test_a_process_that_keeps_dying_backs_off(sdir: StateDir) -> None:
    procs.spawn_detached("broken", [sys.executable, "-c", "raise SystemExit(3)"],
                         pids_dir=sdir.pids, log=sdir.log("broken"))  # fmt: skip
    time.sleep(0.3)  # dead by now
    keeper = supervisor.Supervisor(sdir)
    now = time.time()
    assert keeper.tick(now) == ["broken"]
    time.sleep(0.3)  # it dies again at once
    assert keeper.tick(now + 0.1) == []  # not due yet
    delays = []
    for step in range(4):
        b = keeper.backoff["broken"]
        delays.append(b.not_before)
        time.sleep(0.2)
        assert keeper.tick(b.not_before) == ["broken"], step
    gaps = [b - a for a, b in itertools.pairwise(delays)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    procs.stop(procs.read_tracked(sdir.pids, "broken"), pids_dir=sdir.pids, timeout=2)  # type: ignore[arg-type]


def test_the_supervisor_process_restarts_a_killed_worker_and_leaves_on_stop(
    sdir: StateDir,
) -> None:
    from emulation.runtimes.embedded import process_env

    worker = _spawn(sdir, "consumer", sdir.pids / "workers")
    try:
        assert supervisor.ensure(sdir, process_env())
        assert not supervisor.ensure(sdir, process_env())  # one per state dir
        _kill(worker)
        deadline = time.monotonic() + 10
        back = None
        while time.monotonic() < deadline:
            back = procs.read_tracked(sdir.pids / "workers", "consumer")
            if back is not None and back.pid != worker.pid and back.is_alive():
                break
            time.sleep(0.05)
        assert back is not None and back.pid != worker.pid and back.is_alive(), \
            sdir.log(supervisor.NAME).read_text()  # fmt: skip
        supervisor.stop(sdir)
        assert procs.read_tracked(sdir.pids, supervisor.NAME) is None
        _kill(back)
        time.sleep(1.0)  # the supervisor is gone: nothing brings it back
        again = procs.read_tracked(sdir.pids / "workers", "consumer")
        assert again is not None and again.pid == back.pid and not again.is_alive()
    finally:
        supervisor.stop(sdir)
        _stop_all(sdir)
