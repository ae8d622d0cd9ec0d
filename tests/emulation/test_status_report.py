"""``status`` lists only the engines the stack needs and tells stopped from broken.

No engine is started: the state says what the stack should run, nothing answers, and
the report must call that "unhealthy" (exit 1) — unless ``down`` stopped it on purpose.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from emulation import report
from emulation.ports import free_port
from emulation.state import State, StateDir
from polystore.cli.local_cmds import status as status_cmd
from polystore.topology.model import Topology


def _stack(tmp_path: Path, *, stopped: bool) -> StateDir:
    sd = StateDir(tmp_path / "state")
    state = State(runtime="embedded", engines=["postgres", "dynamodb"], stopped=stopped,
                  provisioned={"inventory": "x"})  # fmt: skip
    state.ports = {"postgres": free_port(), "dynamodb": free_port()}
    sd.save(state)
    return sd


def test_a_stack_lists_only_the_engines_it_needs(tmp_path: Path, topology: Topology) -> None:
    doc = report.status(_stack(tmp_path, stopped=False), topology.select(None))
    assert list(doc["engines"]) == ["postgres", "dynamodb"]
    assert {e["state"] for e in doc["engines"].values()} == {"unhealthy"}
    assert doc["problems"] == 2
    assert {s["system"] for s in doc["stores"]} == {"inventory"}


def test_a_deliberately_stopped_stack_is_stopped_not_unhealthy(
    tmp_path: Path, topology: Topology
) -> None:
    sd = _stack(tmp_path, stopped=True)
    doc = report.status(sd, topology.select(None))
    assert {e["state"] for e in doc["engines"].values()} == {"stopped"}
    assert doc["problems"] == 0
    out = CliRunner().invoke(status_cmd, ["--state-dir", str(sd.root)])
    assert out.exit_code == 0, out.output
    assert "UNHEALTHY" not in out.output.upper() and "stopped" in out.output


def test_an_engine_that_should_run_and_does_not_exits_1(tmp_path: Path, topology: Topology) -> None:
    out = CliRunner().invoke(status_cmd, ["--state-dir", str(_stack(tmp_path, stopped=False).root)])
    assert out.exit_code == 1, out.output
    assert "unhealthy" in out.output


def test_env_renders_shell_exports_dotenv_and_json() -> None:
    values = {"A": "plain", "B": "it's $HOME"}
    shell = report.render_env(values, "shell")
    assert shell.splitlines() == ["export A=plain", "export B='it'\"'\"'s $HOME'"]
    assert report.render_env(values, "dotenv").splitlines() == ["A=plain", 'B="it\'s \\$HOME"']
    assert report.render_env(values, "json").startswith("{")
