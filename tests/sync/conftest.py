"""Fixtures: the search engine in-process, the tcgstore card index made from the topology."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulation.search.server import serve_in_thread
from polystore import load_topology
from polystore.topology.model import System
from sync.link_config import link_config
from sync.stream_to_search import config as handler_config
from sync.stream_to_search import handler
from sync.stream_to_search.search_http import SearchHttp


@pytest.fixture(scope="session")
def tcgstore() -> System:
    return load_topology().system("tcgstore")


@pytest.fixture(scope="session")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = serve_in_thread("127.0.0.1", 0, tmp_path_factory.mktemp("search-data"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def card_index(
    search_url: str, tcgstore: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh card index with the declared body; the handler's env points at it."""
    name = f"cards-{uuid.uuid4().hex[:8]}"
    http = SearchHttp(search_url)
    import json

    body = json.dumps(tcgstore.stores["cards-index"].body()).encode()  # type: ignore[union-attr]
    assert http.request("PUT", f"/{name}", body).status == 200
    cfg = link_config(tcgstore, "cards-to-search")
    path = tmp_path / "link.json"
    path.write_text(cfg.to_json())
    monkeypatch.setenv(handler_config.CONFIG_ENV, str(path))
    monkeypatch.setenv("OPENSEARCH_URL", search_url)
    monkeypatch.setenv(cfg.index_env, name)
    handler.reset()
    yield name
    handler.reset()
    http.request("DELETE", f"/{name}")
    http.close()
