"""The engine registry: every engine the local stack can run, in start order.

Each entry is a package under ``emulation/engines/`` exposing ``ENGINE`` (an
``emulation.engines.base.Engine``). Everything else — both runtimes, provisioning,
``status``, ``env``, ``parity``, the compose export — iterates this registry, so an
engine is added here and nowhere else. Packages are imported on first use, so a
command that needs no engine does not pay for their imports.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulation.engines.base import Engine
    from polystore.topology.model import System

# name -> module exposing ENGINE; the order is the order status lists them.
REGISTRY: dict[str, str] = {
    "postgres": "emulation.engines.postgres",
    "dynamodb": "emulation.engines.dynamodb",
    "search": "emulation.engines.search",
    "kafka": "emulation.engines.kafka",
    "connect": "emulation.engines.connect",
}
ENGINE_NAMES: tuple[str, ...] = tuple(REGISTRY)


@cache
def get(name: str) -> Engine:
    """The plug-in called ``name`` (KeyError naming the known ones otherwise)."""
    if name not in REGISTRY:
        raise KeyError(f"no engine {name!r} (known: {', '.join(REGISTRY)})")
    engine: Engine = importlib.import_module(REGISTRY[name]).ENGINE
    return engine


def all_engines() -> list[Engine]:
    return [get(name) for name in REGISTRY]


def needed(systems: list[System]) -> list[str]:
    """The engines ``systems`` need, in registry order."""
    return [e.name for e in all_engines() if e.needed(systems)]


def serving(kind: str) -> Engine | None:
    """The engine that serves store kind ``kind`` (None: no local engine yet)."""
    for engine in all_engines():
        if kind in engine.kinds:
            return engine
    return None
