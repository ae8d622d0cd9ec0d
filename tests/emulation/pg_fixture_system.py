"""A one-store system written to a temp stacks dir, for tests that edit its migrations."""

from __future__ import annotations

from pathlib import Path

from polystore import load_topology
from polystore.topology.model import System

SYSTEM_YAML = """\
system: {name}
description: PostgreSQL fidelity probe.
services:
  app:
    description: The one service.
stores:
  main-db:
    kind: postgres
    owner: app
    database: {name}_db
    version: "{version}"
    description: The service's database.
    migrations: migrations/{name}/main-db
"""

FIRST_MIGRATION = """\
-- the accounts of the probe
-- migrate:up
CREATE TABLE account (
    id    bigint PRIMARY KEY,
    name  text NOT NULL
);

-- migrate:down
DROP TABLE account;
"""


def write_system(root: Path, name: str, version: str = "16",
                 migrations: dict[str, str] | None = None) -> Path:  # fmt: skip
    """Write ``stacks/<name>.yaml`` and its migrations under ``root``; return the stacks dir."""
    stacks = root / "stacks"
    mig = stacks / "migrations" / name / "main-db"
    mig.mkdir(parents=True, exist_ok=True)
    (stacks / f"{name}.yaml").write_text(SYSTEM_YAML.format(name=name, version=version))
    for file, text in (migrations or {"001_accounts.sql": FIRST_MIGRATION}).items():
        (mig / file).write_text(text)
    return stacks


def load_system(stacks: Path, name: str) -> System:
    return load_topology([stacks]).system(name)
