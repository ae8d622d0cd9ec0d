"""Link kinds that run something locally: which worker processes each declared link needs.

A stream-to-search link needs a stream poller, a CDC link a sink consumer; each link
kind that runs locally has one module, named here, exposing
``workers(system, name, link, endpoints, state_dir) -> list[Worker]`` (and optionally
``provision(systems, endpoints, progress)`` for what the link needs inside the
engines, e.g. a publication and a replication slot). The stack iterates this registry;
nothing else names a link kind.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulation.engines.base import Endpoints, Progress, Worker
    from emulation.state import StateDir
    from polystore.topology.model import System

# link kind -> module; kinds not listed run nothing locally (yet).
REGISTRY: dict[str, str] = {
    "cdc": "emulation.cdc_link",
    "stream-to-search": "sync.local_worker",
}


def _module(kind: str) -> ModuleType | None:
    name = REGISTRY.get(kind)
    return importlib.import_module(name) if name else None


def workers(systems: list[System], ep: Endpoints, state_dir: StateDir) -> list[Worker]:
    out: list[Worker] = []
    for system in systems:
        for name, link in sorted(system.links.items()):
            module = _module(link.kind)
            if module is not None:
                out += module.workers(system, name, link, ep, state_dir)
    return out


def status(systems: list[System], state_dir: StateDir) -> dict[str, dict[str, Any]]:
    """``SYSTEM.LINK -> {...}`` for the links whose kind reports a status (lag, errors)."""
    out: dict[str, dict[str, Any]] = {}
    for system in systems:
        for name, link in sorted(system.links.items()):
            module = _module(link.kind)
            if module is not None and hasattr(module, "status"):
                out[f"{system.name}.{name}"] = module.status(system, name, link, state_dir)
    return out


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    kinds = {link.kind for s in systems for link in s.links.values()}
    for kind in sorted(kinds):
        module = _module(kind)
        if module is not None and hasattr(module, "provision"):
            module.provision(systems, ep, progress)
