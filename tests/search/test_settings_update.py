"""``PUT /<index>/_settings``: dynamic settings change on a live index, as in OpenSearch.

Contract tests (they run against a real OpenSearch too, with ``OPENSEARCH_URL``), plus one
that the engine keeps an update across a restart.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from opensearchpy import OpenSearch, RequestError

from emulation.search.server import serve_in_thread
from tests.search.cards import CARD_INDEX_BODY


def _index_settings(client: OpenSearch, name: str) -> dict[str, object]:
    settings: dict[str, object] = client.indices.get_settings(index=name)[name]["settings"]["index"]
    return settings


def _create(client: OpenSearch, name: str, **settings: object) -> None:
    body = {**CARD_INDEX_BODY, "settings": {**CARD_INDEX_BODY["settings"], **settings}}
    client.indices.create(index=name, body=body)


def test_refresh_interval_is_dynamic(client: OpenSearch, index_name: str) -> None:
    _create(client, index_name, refresh_interval="-1")
    client.index(index=index_name, id="a", body={"name": "Shivan Dragon"})
    time.sleep(0.3)
    assert client.count(index=index_name)["count"] == 0  # refreshes are off
    ack = client.indices.put_settings(
        index=index_name, body={"index": {"refresh_interval": "50ms"}}
    )
    assert ack == {"acknowledged": True}
    assert _index_settings(client, index_name)["refresh_interval"] == "50ms"
    deadline = time.monotonic() + 5
    while client.count(index=index_name)["count"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.count(index=index_name)["count"] == 1  # the periodic refresh runs again
    # Off again, through the flat dotted form: new writes stay unsearchable.
    client.indices.put_settings(index=index_name, body={"index.refresh_interval": "-1"})
    client.index(index=index_name, id="b", body={"name": "Serra Angel"})
    time.sleep(0.3)
    assert client.count(index=index_name)["count"] == 1
    # null resets to the default (1s): the setting is no longer listed.
    client.indices.put_settings(index=index_name, body={"settings": {"refresh_interval": None}})
    assert "refresh_interval" not in _index_settings(client, index_name)


def test_a_static_setting_rejects_the_whole_request(client: OpenSearch, index_name: str) -> None:
    _create(client, index_name, refresh_interval="1s")
    for body in ({"number_of_shards": 3}, {"refresh_interval": "5s", "codec": "best_compression"}):
        with pytest.raises(RequestError) as err:
            client.indices.put_settings(index=index_name, body=body)
        assert err.value.status_code == 400
        assert err.value.error == "illegal_argument_exception"
    assert _index_settings(client, index_name)["refresh_interval"] == "1s"  # unchanged


def test_a_bad_value_is_refused(client: OpenSearch, index_name: str) -> None:
    _create(client, index_name)
    with pytest.raises(RequestError) as err:
        client.indices.put_settings(index=index_name, body={"refresh_interval": "soon"})
    assert err.value.error == "illegal_argument_exception"
    assert "refresh_interval" in str(err.value.info)


def test_a_bad_gc_deletes_changes_nothing(client: OpenSearch, index_name: str) -> None:
    _create(client, index_name)
    with pytest.raises(RequestError) as err:
        body = {"refresh_interval": "2s", "gc_deletes": "later"}
        client.indices.put_settings(index=index_name, body=body)
    assert "gc_deletes" in str(err.value.info)
    assert "refresh_interval" not in _index_settings(client, index_name)  # all or nothing


def test_preserve_existing_sets_only_missing(client: OpenSearch, index_name: str) -> None:
    _create(client, index_name, refresh_interval="2s")
    client.indices.put_settings(
        index=index_name,
        body={"refresh_interval": "30s", "max_result_window": 500},
        params={"preserve_existing": "true"},
    )
    got = _index_settings(client, index_name)
    assert got["refresh_interval"] == "2s"
    assert got["max_result_window"] == "500"


def test_an_update_outlives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "search"
    with serve_in_thread("127.0.0.1", 0, data) as server:
        client = OpenSearch(server.url, timeout=30)
        _create(client, "cards")
        client.indices.put_settings(index="cards", body={"refresh_interval": "100ms"})
    with serve_in_thread("127.0.0.1", 0, data) as server:
        client = OpenSearch(server.url, timeout=30)
        assert _index_settings(client, "cards")["refresh_interval"] == "100ms"
        assert server.engine.indices["cards"].settings.refresh_interval == pytest.approx(0.1)
