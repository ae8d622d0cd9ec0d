"""Search parity: every index exists, with the declared fields, types and analyzers."""

from __future__ import annotations

from typing import Any

import httpx

from emulation.engines.base import Endpoints
from emulation.engines.search.provision import live_mapping
from polystore.naming import local_name
from polystore.topology.model import System

_COMPARED = ("type", "analyzer", "search_analyzer")


def _paths(properties: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in properties.items():
        out[prefix + name] = {k: spec.get(k) for k in _COMPARED if spec.get(k) is not None}
        out |= _paths(spec.get("fields", {}), prefix + name + ".")
        out |= _paths(spec.get("properties", {}), prefix + name + ".")
    return out


def check(systems: list[System], ep: Endpoints) -> list[str]:
    drift: list[str] = []
    with httpx.Client(base_url=ep.url("search"), timeout=30) as http:
        for system in systems:
            for store_name, store in system.search_stores().items():
                name = local_name(system, store_name)
                where = f"{system.name}.{store_name} (index {name})"
                have = live_mapping(http, name)
                if have is None:
                    drift.append(f"{where}: index is missing")
                    continue
                want = store.body()["mappings"]
                if str(have.get("dynamic", "true")).lower() != str(want["dynamic"]).lower():
                    drift.append(f"{where}: dynamic is {have.get('dynamic')!r}, "
                                 f"the topology says {want['dynamic']!r}")  # fmt: skip
                want_paths = _paths(want["properties"])
                have_paths = _paths(have.get("properties", {}))
                for path in sorted(set(want_paths) | set(have_paths)):
                    if path not in have_paths:
                        drift.append(f"{where}: field {path} is missing")
                    elif path not in want_paths:
                        drift.append(f"{where}: field {path} exists but is not declared")
                    elif want_paths[path] != have_paths[path]:
                        drift.append(
                            f"{where}: field {path}\n    - topology: "
                            f"{want_paths[path]}\n    + live:     {have_paths[path]}"
                        )
    return drift
