"""Local provisioning of search stores: an existing index follows the declared dynamic
settings (``refresh_interval``) without being re-created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from emulation.engines.base import Endpoints
from emulation.engines.search.provision import provision
from emulation.search.server import serve_in_thread
from emulation.state import State
from polystore import load_topology
from polystore.naming import concrete_index_name, local_name


def test_an_existing_index_gets_the_declared_refresh_interval(tmp_path: Path) -> None:
    system = load_topology().system("tcgstore")
    declared = system.stores["cards-index"].settings["refresh_interval"]
    name = local_name(system, "cards-index")
    with serve_in_thread("127.0.0.1", 0, tmp_path / "search") as server:
        port = int(server.url.rsplit(":", 1)[1])
        ep = Endpoints(State(runtime="embedded", ports={"search": port}))
        # A stack provisioned before the declaration: the index refreshes every 1 s.
        old = system.stores["cards-index"].body()
        old["settings"] = {k: v for k, v in old["settings"].items() if k != "refresh_interval"}
        with httpx.Client(base_url=server.url) as http:
            _check(http, system, ep, name, old, declared)


def _check(http: httpx.Client, system: Any, ep: Endpoints, name: str, old: dict[str, Any],
           declared: str) -> None:  # fmt: skip
    http.put(f"/{concrete_index_name(name, 1)}", json=old | {"aliases": {name: {}}})
    http.put(f"/{name}/_doc/keep", json={"id": "keep", "name": "Kept"})
    said: list[str] = []
    provision([system], ep, said.append)
    got = http.get(f"/{name}/_settings").json()
    settings = got[concrete_index_name(name, 1)]["settings"]["index"]
    assert settings["refresh_interval"] == declared
    assert http.get(f"/{name}/_doc/keep").json()["found"] is True  # not re-created
    assert any("1 with settings updated" in s for s in said)
    provision([system], ep, said.append)  # in step now: nothing to change
    assert said[-1].endswith("0 with settings updated)")
