"""Pulumi entry point (``Pulumi.yaml``: ``main: infra/``): deploy the selected systems."""

from __future__ import annotations

import sys
from pathlib import Path

# `pulumi up` runs this file with infra/ as the working directory; make the repo importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.config import settings_from_pulumi
from infra.program import build_program, export
from polystore.topology.loader import load_topology

export(build_program(settings_from_pulumi(), load_topology()))
