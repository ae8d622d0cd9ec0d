"""``polystore compose`` keeps secrets out of docker-compose.yml: they go to a 0600 ``.env``
beside it, which compose reads for ``${...}`` interpolation; git ignores all three."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emulation.state import StateDir
from polystore.cli.local_cmds import compose
from polystore.topology.loader import REPO_ROOT


def _compose(tmp_path: Path) -> tuple[Path, Path, str]:
    out = tmp_path / "proj" / "docker-compose.yml"
    state = tmp_path / "state"
    result = CliRunner().invoke(compose, ["-o", str(out), "--state-dir", str(state)])
    assert result.exit_code == 0, result.output
    return out, out.parent / ".env", StateDir(state).load().admin_password


def test_the_password_is_in_a_private_env_file_not_in_the_compose_file(tmp_path: Path) -> None:
    out, env_file, password = _compose(tmp_path)
    assert password not in out.read_text()
    doc = yaml.safe_load(out.read_text())
    assert doc["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == (
        "${POSTGRES_PASSWORD}"
    )
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert f"POSTGRES_PASSWORD={password}" in env_file.read_text().splitlines()


def test_rewriting_keeps_the_users_own_env_lines(tmp_path: Path) -> None:
    env_file = tmp_path / "proj" / ".env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text("MY_SETTING=1\nPOSTGRES_PASSWORD=stale\n")
    env_file.chmod(0o644)
    _, _, password = _compose(tmp_path)
    lines = env_file.read_text().splitlines()
    assert lines == ["MY_SETTING=1", f"POSTGRES_PASSWORD={password}"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_compose_files_and_the_state_dir_are_ignored_by_git() -> None:
    paths = [".env", "docker-compose.yml", ".polystore/state.json"]
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing for git to ignore")
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=REPO_ROOT,
                            capture_output=True, text=True)  # fmt: skip
    assert sorted(result.stdout.split()) == sorted(paths), result.stdout + result.stderr
