"""The PostgreSQL major version the local stack must run, read from the topology.

A store declares ``version: "16"`` (or ``"16.4"``); AWS gets that engine version, so the
local server must be the same major (a PG18-only function must fail locally as it would
in AWS). The minor is not matched: AWS picks its own minors too, locally the newest
build pinned in ``emulation.engines.postgres.binaries`` / ``emulation.runtimes.containers`` runs.

One local server holds every database of a state dir, so every selected store must
declare the same major; :func:`majors` groups stores per major for the day the local
stack runs one server per major (the engine registry can iterate it), and
:func:`declared_major` refuses a mix clearly until then.
"""

from __future__ import annotations

from emulation.errors import BadInput
from emulation.state import State
from polystore.topology.model import System

DEFAULT_MAJOR = 16  # the model's default ``version``


def major_of(version: str) -> int:
    """``"16"`` / ``"16.4"`` / ``"16.15.0"`` -> 16."""
    return int(version.split(".", 1)[0])


def majors(systems: list[System]) -> dict[int, list[str]]:
    """Declared major -> the stores (``system.store``) declaring it, in topology order."""
    out: dict[int, list[str]] = {}
    for system in systems:
        for name, store in system.postgres_stores().items():
            out.setdefault(major_of(store.version), []).append(f"{system.name}.{name}")
    return out


def declared_major(systems: list[System]) -> int | None:
    """The one major every selected PostgreSQL store declares; None when there is none."""
    found = majors(systems)
    if not found:
        return None
    if len(found) > 1:
        listing = "; ".join(
            f"PostgreSQL {m}: {', '.join(stores)}" for m, stores in sorted(found.items())
        )
        raise BadInput(
            f"the selected systems declare different PostgreSQL majors ({listing}); the "
            "local stack runs one PostgreSQL server per state dir",
            "bring them up in separate state dirs (`polystore up SYSTEM --state-dir DIR`), "
            "or declare the same `version:` for every postgres store",
        )
    return next(iter(found))


def record(state: State, systems: list[System]) -> None:
    """Note the declared major in the state, for the runtimes (binaries, image) to read.

    Systems without PostgreSQL stores leave the recorded major alone.
    """
    major = declared_major(systems)
    if major is not None:
        state.versions["postgres"] = major
