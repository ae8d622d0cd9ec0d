"""From any subdirectory, commands find the project as git finds ``.git``: the same
topology and the same state dir as from the top, unless the environment says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulation.state import StateDir, default_state_dir
from polystore.project import project_root
from polystore.topology.loader import default_stacks_dir
from tests.test_cli_bad_input import run_cli
from tests.topology.conftest import MiniSystem


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project that is not this repository: stacks/ holds the mini system."""
    MiniSystem(tmp_path / "proj" / "stacks")
    (tmp_path / "proj" / "docs" / "deep").mkdir(parents=True)
    return tmp_path / "proj"


@pytest.mark.parametrize("sub", [".", "stacks", "stacks/migrations/shop-db", "docs/deep"])
def test_root_stacks_and_state_dir_are_found_from_any_subdirectory(
    project: Path, sub: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLYSTORE_STACKS", raising=False)
    monkeypatch.delenv("POLYSTORE_STATE_DIR", raising=False)
    monkeypatch.chdir(project / sub)
    assert project_root() == project
    assert default_stacks_dir() == project / "stacks"
    assert default_state_dir() == project / ".polystore"
    assert StateDir().root == project / ".polystore"


def test_the_environment_still_wins(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "stacks")
    monkeypatch.setenv("POLYSTORE_STACKS", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("POLYSTORE_STATE_DIR", str(tmp_path / "state"))
    assert default_stacks_dir() == tmp_path / "elsewhere"
    assert default_state_dir() == tmp_path / "state"


def test_outside_any_project_the_state_dir_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLYSTORE_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert project_root() is None
    assert default_state_dir() == tmp_path / ".polystore"


def test_cli_from_a_subdirectory_reads_the_project_and_its_state_dir(project: Path) -> None:
    result = run_cli(["validate"], cwd=project / "stacks" / "migrations")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok  mini:"), result.stdout
    # `status` names the project's state dir, not one under the subdirectory
    status = run_cli(["status"], cwd=project / "docs" / "deep")
    assert str(project / ".polystore") in status.stderr + status.stdout
    assert not (project / "docs" / "deep" / ".polystore").exists()
