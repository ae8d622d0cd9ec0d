"""Load ``stacks/*.yaml`` into a validated Topology, or raise with every problem found.

Loading is strict and all-or-nothing: a topology with any problem does not load, so
nothing downstream (infra, emulation, seed, policy) ever runs on a half-valid model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from polystore.project import MARKER, project_root
from polystore.topology.checks import check_system, foreign_key_problems
from polystore.topology.errors import Problem, TopologyError
from polystore.topology.model import PostgresStore, System, Topology
from polystore.topology.schema_cache import parse_migrations_cached
from polystore.topology.schema_model import DatabaseSchema
from polystore.topology.yaml_source import LineMap, read_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_stacks_dir() -> Path:
    """``$POLYSTORE_STACKS``, else ``stacks/`` of the project root found by walking up from
    the working directory (:func:`polystore.project.project_root`), else the repository's own.
    """
    env = os.environ.get("POLYSTORE_STACKS")
    if env:
        return Path(env)
    root = project_root()
    return (root or REPO_ROOT) / MARKER


def _pydantic_problems(exc: ValidationError, lm: LineMap) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "document"
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}"
            ctx = ".".join(str(p) for p in loc[:-1])
            msg += f" in {ctx}" if ctx else " at top level"
        elif kind == "missing":
            msg = f"missing required field {where!r}"
        elif kind == "union_tag_invalid":
            msg = f"{where}: {err['msg']}"
        else:
            msg = f"{where}: {err['msg']}"
            if "input" in err and not isinstance(err["input"], dict | list):
                msg += f" (got {err['input']!r})"
        out.append(lm.problem(loc, msg))
    return out


def load_system(path: Path) -> System:
    """Load and validate one system file; raise TopologyError listing every problem."""
    system, problems = _load(path)
    if problems or system is None:
        raise TopologyError(problems)
    return system


def _load(path: Path) -> tuple[System | None, list[Problem]]:
    data, lm, problems = read_yaml(path)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, [*problems, Problem(path, 1, "a system file must be a mapping")]
    try:
        system = System.model_validate(data)
    except ValidationError as exc:
        return None, problems + _pydantic_problems(exc, lm)
    system._source = path.resolve()
    system._lines = lm.lines
    schemas: dict[str, DatabaseSchema] = {}
    for name, store in system.stores.items():
        if isinstance(store, PostgresStore):
            directory = system.migrations_dir(name)
            if not directory.is_dir():
                problems.append(
                    lm.problem(
                        ("stores", name, "migrations"),
                        f"migrations directory {directory} does not exist",
                    )
                )
                continue
            schema, sql_problems = parse_migrations_cached(directory)
            problems.extend(sql_problems)
            if not schema.files and not sql_problems:
                problems.append(
                    lm.problem(("stores", name, "migrations"), f"no migrations in {directory}")
                )
            missing = set(store.extensions) - schema.extensions
            if schema.files and missing and not sql_problems:
                problems.append(
                    lm.problem(
                        ("stores", name, "extensions"),
                        f"extensions {sorted(missing)} are declared but no migration creates them",
                    )
                )
            if schema.files and not sql_problems:
                # A partial schema would cascade into spurious "no table" errors.
                schemas[name] = schema
    system._schemas = schemas
    problems.extend(check_system(system, lm, schemas))
    problems.extend(foreign_key_problems(system, schemas))
    return system, problems


def load_topology(paths: list[Path] | None = None) -> Topology:
    """Load every ``*.yaml`` under the stacks directory (or the given files/dirs)."""
    targets = paths or [default_stacks_dir()]
    files: list[Path] = []
    problems: list[Problem] = []
    for target in targets:
        if target.is_dir():
            found = sorted(target.glob("*.yaml"))
            if not found:
                problems.append(Problem(target, 1, "no system files (*.yaml) in this directory"))
            files.extend(found)
        elif target.is_file():
            files.append(target)
        else:
            problems.append(Problem(target, 1, "no such file or directory"))
    systems: dict[str, System] = {}
    where: dict[str, Path] = {}
    for f in files:
        system, found = _load(f)
        problems.extend(found)
        if system is None:
            continue
        if system.name in systems:
            problems.append(
                Problem(
                    f,
                    system.line_of("system"),
                    f"system {system.name!r} is also declared in {where[system.name]}",
                )
            )
            continue
        systems[system.name] = system
        where[system.name] = f
    problems.extend(_global_problems(systems))
    if problems:
        raise TopologyError(problems)
    root = targets[0] if targets[0].is_dir() else targets[0].parent
    return Topology(systems=systems, root=root.resolve())


def _global_problems(systems: dict[str, System]) -> list[Problem]:
    """Names that must be unique across systems: they share one local engine."""
    out: list[Problem] = []
    seen: dict[tuple[str, str], tuple[System, str]] = {}
    for system in systems.values():
        for name, store in system.stores.items():
            ident: Any = getattr(store, "database", None) or getattr(store, "index", None)
            if ident is None:
                continue
            key = (store.kind, ident)
            if key in seen:
                other, other_store = seen[key]
                out.append(
                    Problem(
                        system.source,
                        system.line_of("stores", name),
                        f"{store.kind} name {ident!r} is also used by "
                        f"{other.name}/{other_store}; names must be unique across systems",
                    )
                )
            else:
                seen[key] = (system, name)
    return out
