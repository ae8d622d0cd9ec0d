"""``make up``/``make test`` say what the first install does and show pip's progress."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from polystore.topology.loader import REPO_ROOT


def test_the_long_install_is_announced_and_not_quiet(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("no make on this machine")
    venv = tmp_path / "venv"
    # -n: print the recipe of a fresh set-up without running it
    out = subprocess.run(
        ["make", "-n", "-B", f"VENV={venv}", f"{venv}/.installed"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line and "-e" in line)
    assert "--quiet" not in lines[install], lines[install]
    announced = "\n".join(lines[:install])
    assert "installing" in announced and "minute" in announced, announced
