"""The command table and the modules agree, and commands load lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from polystore.cli.main import COMMAND_MODULES, COMMANDS, cli


def test_every_module_command_is_listed_and_every_listed_command_exists() -> None:
    defined = {
        command.name: module
        for module in COMMAND_MODULES
        for command in importlib.import_module(module).commands
    }
    assert defined == COMMANDS


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from polystore.cli.main import cli\n"
        "cli.main(['validate', '--help'], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pulumi', 'policy', 'emulation'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_env_names_the_expected_shape_of_its_argument() -> None:
    for bad in ("tcgstore", "tcgstore.", ".catalog"):
        result = CliRunner().invoke(cli, ["env", bad])
        assert result.exit_code == 2, bad
        assert "expected SYSTEM.SERVICE" in result.stderr, result.stderr
