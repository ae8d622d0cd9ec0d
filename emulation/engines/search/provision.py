"""Search stores: the index, created with the store's settings and mappings.

The store's name is an alias over a generation-numbered index
(``polystore.naming.concrete_index_name``), so ``polystore reindex`` can build the next
generation and swap the alias with no moment where search finds nothing.
"""

from __future__ import annotations

from typing import Any

import httpx

from emulation.engines.base import Endpoints, Progress
from emulation.errors import ProvisionError
from polystore.naming import concrete_index_name, local_name
from polystore.topology.model import System


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    created = updated = 0
    with httpx.Client(base_url=ep.url("search"), timeout=30) as http:
        for system in systems:
            for store_name, store in system.search_stores().items():
                name = local_name(system, store_name)
                if http.head(f"/{name}").status_code == 200:
                    updated += _update_dynamic_settings(http, name, store.dynamic_settings())
                    continue
                body = store.body() | {"aliases": {name: {}}}
                resp = http.put(f"/{concrete_index_name(name, 1)}", json=body)
                if resp.status_code >= 300:
                    raise ProvisionError(
                        f"creating index {name} ({system.name}.{store_name}) failed: "
                        f"{resp.status_code} {resp.text[:500]}",
                        f"check the store's settings and mappings in {system.source}",
                    )
                created += 1
    progress(f"search: indexes ready ({created} created, {updated} with settings updated)")


def _update_dynamic_settings(http: httpx.Client, name: str, want: dict[str, Any]) -> int:
    """Make an existing index's dynamic settings what the topology declares (1 if changed).

    Only settings OpenSearch changes on a live index (``PUT _settings``); a changed
    mapping or analysis needs a new index (``polystore reindex``). An undeclared one goes
    back to its default (``null``).
    """
    resp = http.get(f"/{name}/_settings")
    resp.raise_for_status()
    live = next(iter(resp.json().values()), {}).get("settings", {}).get("index", {})
    change = {k: v for k, v in want.items() if (None if v is None else str(v)) != live.get(k)}
    if not change:
        return 0
    put = http.put(f"/{name}/_settings", json={"index": change})
    if put.status_code >= 300:
        raise ProvisionError(
            f"updating the settings of index {name} failed: {put.status_code} {put.text[:500]}",
            "check the store's settings in the topology",
        )
    return 1


def live_mapping(http: httpx.Client, name: str) -> dict[str, Any] | None:
    resp = http.get(f"/{name}/_mapping")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    if name not in body and len(body) == 1:  # ``name`` is an alias of one index
        return next(iter(body.values())).get("mappings")
    return body.get(name, {}).get("mappings")
