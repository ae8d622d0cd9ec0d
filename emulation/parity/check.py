"""Run every engine's parity check against the running stack; return the drift lines."""

from __future__ import annotations

from emulation import engines as registry
from emulation.engines.base import endpoints_of
from emulation.errors import NotRunning
from emulation.runtimes import factory
from emulation.state import StateDir
from polystore.topology.model import System


def check(state_dir: StateDir, systems: list[System], named: bool = True) -> list[str]:
    """Drift lines; ``named`` False = check only the systems that were provisioned."""
    if not state_dir.exists():
        raise NotRunning(f"no local stack in {state_dir.root}", "run `polystore up` first")
    state = state_dir.load()
    ep = endpoints_of(state)
    drift: list[str] = []
    missing = [s.name for s in systems if s.name not in state.provisioned and named]
    if missing:
        drift.append(f"not provisioned locally: {', '.join(missing)} "
                     f"(run `polystore up {' '.join(missing)}`)")  # fmt: skip
    present = [s for s in systems if s.name in state.provisioned]
    engines = registry.needed(present)
    rt = factory.make(state.runtime, state_dir, state)
    down = [e for e in engines if not rt.running(e) or not ep.healthy(e)]
    if down:
        raise NotRunning(f"engines not answering: {', '.join(down)}",
                         "run `polystore up` (it restarts them)")  # fmt: skip
    for name in engines:
        drift += registry.get(name).parity(present, ep)
    return drift
