"""As root, in a checkout other users cannot enter (0700), a PostgreSQL store comes up.

PostgreSQL refuses to run as root, so its server runs as an unprivileged user who
cannot enter a 0700 directory. The checkout is copied into one (as ``git clone`` into
``mktemp -d`` would make it), ``polystore up`` runs there as a user would run it, and
the test checks the server runs, the cluster lives where that user can reach it, and
the user's directories were left as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.emulation.pg_fixture_system import write_system

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the 0700-checkout problem exists as root only"),
]
REPO = Path(__file__).resolve().parents[2]


def copy_checkout(dest: Path) -> None:
    """The files a clone would have (tracked, plus new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def polystore(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(clone),
        "POLYSTORE_STACKS": str(clone / "probe-stacks"),
        # a user cache the server's user cannot reach either
        "XDG_CACHE_HOME": str(clone / ".cache"),
    }
    env.pop("POLYSTORE_STATE_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", "from polystore.cli.main import main; main()", *args],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300, check=False,
        umask=0o077,  # a strict umask too: nothing polystore creates may depend on it
    )  # fmt: skip


def test_up_as_root_in_a_0700_checkout(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    clone = private / "polystore"
    copy_checkout(clone)
    write_system(clone / "probe", "privprobe").rename(clone / "probe-stacks")
    try:
        done = polystore(clone, "up", "--runtime", "embedded", "--no-seed")
        assert done.returncode == 0, done.stdout + done.stderr
        state = json.loads((clone / ".polystore" / "state.json").read_text())
        with psycopg.connect(host="127.0.0.1", port=state["ports"]["postgres"],
                             user="postgres", password=state["admin_password"],
                             dbname="privprobe_db", sslmode="disable") as conn:  # fmt: skip
            data_dir = conn.execute("SHOW data_directory").fetchone()[0]
            assert conn.execute("SELECT count(*) FROM account").fetchone()[0] == 0
        link = clone / ".polystore" / "postgres" / "data"
        assert link.is_symlink() and str(link.resolve()) == data_dir
        assert data_dir.startswith("/var/lib/polystore/")
        assert private.stat().st_mode & 0o777 == 0o700, "the user's directory was loosened"
    finally:  # data_dir is set once the server answered; reset must run regardless
        reset = polystore(clone, "reset", "--yes")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not Path(data_dir).exists(), "reset leaves the relocated cluster behind"
