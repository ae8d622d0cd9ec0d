"""The ``polystore`` command: one group whose commands live in each area's module.

Each area (topology, infra preview, policy, local emulation) keeps its commands in its
own ``polystore/cli/<area>_cmds.py`` exposing ``commands: list[click.Command]``; adding an
area is one entry in COMMANDS. Modules are imported only when one of their commands
runs (or for ``--help``), so ``polystore up`` does not pay for Pulumi's or the policy
pack's imports — a warm ``up`` is mostly interpreter start-up.
"""

from __future__ import annotations

import importlib
import sys

import click

from polystore import __version__

# command name -> module that defines it (in the order --help lists them)
COMMANDS = {
    "validate": "polystore.cli.topology_cmds",
    "show": "polystore.cli.topology_cmds",
    "diagram": "polystore.cli.topology_cmds",
    "up": "polystore.cli.local_cmds",
    "down": "polystore.cli.local_cmds",
    "reset": "polystore.cli.local_cmds",
    "status": "polystore.cli.local_cmds",
    "env": "polystore.cli.local_cmds",
    "parity": "polystore.cli.local_cmds",
    "compose": "polystore.cli.local_cmds",
    "serve": "polystore.cli.local_cmds",
    "preview": "polystore.cli.preview_cmds",
    "policy": "polystore.cli.policy_cmds",
}
COMMAND_MODULES = sorted(set(COMMANDS.values()))

# Exit statuses: 0 ok, 1 a check found problems (policy, parity), 2 bad input.
EXIT_BAD_INPUT = 2


class LazyGroup(click.Group):
    """A group that imports a command's module the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        for command in importlib.import_module(module).commands:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        raise RuntimeError(f"{module} does not define the command {cmd_name!r}")


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="polystore")
def cli() -> None:
    """Declare a company's AWS data tier once; deploy it, run it locally, check it.

    The declaration lives in stacks/<system>.yaml (override with $POLYSTORE_STACKS).
    """


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
