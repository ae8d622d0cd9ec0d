"""Search stores: the index, created with the store's settings and mappings."""

from __future__ import annotations

from typing import Any

import httpx

from emulation.engines.base import Endpoints, Progress
from emulation.errors import ProvisionError
from polystore.naming import local_name
from polystore.topology.model import System


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    created = 0
    with httpx.Client(base_url=ep.url("search"), timeout=30) as http:
        for system in systems:
            for store_name, store in system.search_stores().items():
                name = local_name(system, store_name)
                if http.head(f"/{name}").status_code == 200:
                    continue
                resp = http.put(f"/{name}", json=store.body())
                if resp.status_code >= 300:
                    raise ProvisionError(
                        f"creating index {name} ({system.name}.{store_name}) failed: "
                        f"{resp.status_code} {resp.text[:500]}",
                        f"check the store's settings and mappings in {system.source}",
                    )
                created += 1
    progress(f"search: indexes ready ({created} created)")


def live_mapping(http: httpx.Client, name: str) -> dict[str, Any] | None:
    resp = http.get(f"/{name}/_mapping")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body.get(name, {}).get("mappings")
