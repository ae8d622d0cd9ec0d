"""Helpers every command shares: load the topology or exit 2 with ``path:line`` lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from polystore.topology.errors import TopologyError
from polystore.topology.loader import load_topology
from polystore.topology.model import System, Topology

EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2


def load_or_exit(paths: tuple[str, ...] | list[str] = ()) -> Topology:
    """Load the topology; on any problem print one ``path:line: message`` per line, exit 2."""
    try:
        return load_topology([Path(p) for p in paths] or None)
    except TopologyError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        n = len(exc.problems)
        click.echo(f"polystore: {n} problem{'s' if n != 1 else ''}; nothing was run", err=True)
        sys.exit(EXIT_BAD_INPUT)


def select_or_exit(topology: Topology, names: tuple[str, ...] | list[str]) -> list[System]:
    """The named systems (all when none named); an unknown name exits 2."""
    try:
        return topology.select(list(names))
    except KeyError as exc:
        click.echo(f"polystore: {exc.args[0]}", err=True)
        sys.exit(EXIT_BAD_INPUT)
