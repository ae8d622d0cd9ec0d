"""The search engine: the project's OpenSearch-compatible engine, or OpenSearch itself.

Faces: ``provision`` (each index with its settings and mappings), ``parity`` (fields,
types, analyzers); the embedded server is ``python -m emulation.search``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.engines.base import Endpoints, Engine, Launch, Progress
from emulation.errors import MissingBinary

if TYPE_CHECKING:
    from emulation.runtimes.containers import ContainerSpec
    from emulation.state import State, StateDir
    from polystore.topology.model import Store, System


class SearchEngine(Engine):
    name = "search"
    kinds = ("search",)

    def probe(self, ep: Endpoints) -> None:
        """GET / (the cluster info every OpenSearch client reads first)."""
        with urllib.request.urlopen(self.url(ep) + "/", timeout=2.0) as resp:
            body: dict[str, Any] = json.loads(resp.read())
        if "version" not in body:
            raise RuntimeError(f"GET / answered {body!r}")

    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        if importlib.util.find_spec("emulation.search") is None:
            raise MissingBinary(
                "the search engine (python -m emulation.search) is not in this tree",
                "reinstall polystore, or select systems without search stores",
            )
        return Launch([sys.executable, "-m", "emulation.search", "--host", ep.host,
                       "--port", str(ep.port(self.name)),
                       "--data-dir", str(data / "data")])  # fmt: skip

    def wipe(self, data: Path) -> None:
        """Delete the data dir and the searchable views kept outside it (tmpfs)."""
        import shutil

        from emulation.search.view_dir import remove_views

        remove_views(data / "data")
        shutil.rmtree(data, ignore_errors=True)

    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        from emulation.runtimes.containers import HealthCheck, spec

        return spec(
            state_dir,
            state,
            self.name,
            container_port=9200,
            volume_path="/usr/share/opensearch/data",
            environment={
                "discovery.type": "single-node",
                "DISABLE_SECURITY_PLUGIN": "true",
                "DISABLE_INSTALL_DEMO_CONFIG": "true",
                "OPENSEARCH_JAVA_OPTS": "-Xms512m -Xmx512m",
            },
            healthcheck=HealthCheck(
                ["CMD-SHELL", "curl -fs http://127.0.0.1:9200/_cluster/health"]
            ),
        )

    def provision(self, systems: list[System], ep: Endpoints, progress: Progress) -> None:
        from emulation.engines.search import provision

        provision.provision(systems, ep, progress)

    def parity(self, systems: list[System], ep: Endpoints) -> list[str]:
        from emulation.engines.search import parity

        return parity.check(systems, ep)

    def service_env(self, system: System, service: str, ep: Endpoints) -> dict[str, str]:
        if not any(s.kind == "search" for s in system.stores_of(service).values()):
            return {}
        return {"OPENSEARCH_URL": self.url(ep)}

    def store_status(self, system: System, name: str, store: Store, ep: Endpoints
                     ) -> dict[str, Any]:  # fmt: skip
        from polystore.naming import local_name

        return {"index": local_name(system, name), "endpoint": self.url(ep)}


ENGINE = SearchEngine()
