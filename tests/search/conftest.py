"""Fixtures for the search engine's contract tests.

``search_url`` is a real OpenSearch when ``OPENSEARCH_URL`` is set, else the polystore
engine served in-process on a free port with a temporary data dir: the same
assertions run against both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from emulation.search.server import serve_in_thread
from tests.search.cards import CARD_INDEX_BODY, CARDS

REAL_OPENSEARCH = os.environ.get("OPENSEARCH_URL")


@pytest.fixture(scope="session")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REAL_OPENSEARCH:
        yield REAL_OPENSEARCH.rstrip("/")
        return
    server = serve_in_thread("127.0.0.1", 0, tmp_path_factory.mktemp("search-data"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def client(search_url: str) -> OpenSearch:
    return OpenSearch(search_url, timeout=30)


@pytest.fixture
def index_name(client: OpenSearch) -> Iterator[str]:
    """A fresh index name, deleted after the test."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture(scope="module")
def cards(client: OpenSearch) -> Iterator[str]:
    """The tcgstore card index, created and loaded once per test module (read-only)."""
    name = f"cards-{uuid.uuid4().hex[:8]}"
    client.indices.create(index=name, body=CARD_INDEX_BODY)
    lines: list[dict[str, object]] = []
    for card in CARDS:
        lines.append({"index": {"_index": name, "_id": card["id"]}})
        lines.append(card)
    result = client.bulk(body=lines, refresh="true")
    assert result["errors"] is False
    yield name
    client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def engine_only() -> None:
    if REAL_OPENSEARCH:
        pytest.skip("exercises the polystore engine itself, not the OpenSearch contract")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "search"
