"""``reset`` asks before wiping (and refuses without a terminal), and leaves no lock file;
removing the lock file never lets two commands hold the lock at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from click.testing import CliRunner

from emulation.stack import LocalStack
from emulation.state import State, StateDir
from polystore.cli.local_cmds import reset


def _stack_dir(root: Path) -> StateDir:
    sd = StateDir(root)
    sd.save(State())  # ports and passwords, no engines started
    (root / "logs").mkdir()
    (root / "logs" / "postgres.log").write_text("old log\n")
    return sd


def test_reset_without_a_terminal_or_yes_refuses_and_keeps_the_data(tmp_path: Path) -> None:
    sd = _stack_dir(tmp_path / "state")
    # CliRunner's stdin is not a terminal, as with `echo n | polystore reset`
    result = CliRunner().invoke(reset, ["--state-dir", str(sd.root)], input="n\n")
    assert result.exit_code == 2, result.output
    assert "pass --yes" in result.stderr
    assert sd.state_file.exists() and (sd.root / "logs" / "postgres.log").exists()


def test_reset_yes_wipes_everything_including_the_lock(tmp_path: Path) -> None:
    sd = _stack_dir(tmp_path / "state")
    result = CliRunner().invoke(reset, ["--yes", "--state-dir", str(sd.root)])
    assert result.exit_code == 0, result.output
    assert list(sd.root.iterdir()) == []


def test_the_lock_file_stays_while_the_dir_holds_state(tmp_path: Path) -> None:
    sd = _stack_dir(tmp_path / "state")
    with sd.locked():
        pass
    assert (sd.root / "lock").exists()
    LocalStack(sd).reset()
    assert not (sd.root / "lock").exists()


def test_removing_the_lock_file_keeps_the_lock_exclusive(tmp_path: Path) -> None:
    """Waiters that opened the lock file before its holder removed it must not hold the
    lock together with a newcomer that created the file anew."""
    sd = StateDir(tmp_path / "state")  # empty: every release removes the lock file
    inside = 0
    overlap = 0
    guard = threading.Lock()

    def worker() -> None:
        nonlocal inside, overlap
        for _ in range(25):
            with sd.locked(timeout=60):
                with guard:
                    inside += 1
                    overlap = max(overlap, inside)
                time.sleep(0.002)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == 1
    assert not (sd.root / "lock").exists()
