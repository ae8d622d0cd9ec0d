"""The ``polystore`` command: one group, commands registered by each area's module.

Each area (topology, infra preview, local emulation, policy, seed) keeps its commands in
its own ``polystore/cli/<area>.py`` exposing ``commands: list[click.Command]``; adding an
area is one line in COMMAND_MODULES.
"""

from __future__ import annotations

import importlib
import sys

import click

from polystore import __version__

COMMAND_MODULES = [
    "polystore.cli.topology_cmds",
    "polystore.cli.preview_cmds",
    "polystore.cli.policy_cmds",
    "polystore.cli.local_cmds",
]

# Exit statuses: 0 ok, 1 a check found problems (policy, parity), 2 bad input.
EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="polystore")
def cli() -> None:
    """Declare a company's AWS data tier once; deploy it, run it locally, check it.

    The declaration lives in stacks/<system>.yaml (override with $POLYSTORE_STACKS).
    """


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).commands:
        cli.add_command(_command)


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
