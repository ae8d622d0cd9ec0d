"""A late INSERT/MODIFY after its REMOVE's tombstone is gone (``index.gc_deletes``): the
handler asks the table and does not bring the deleted item back.

Real engines: the search engine and the project's DynamoDB engine, both in-process.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulation.dynamodb.server import serve_in_thread
from polystore.topology.model import System
from sync.link_config import gc_deletes_seconds, link_config
from sync.stream_to_search import config as handler_config
from sync.stream_to_search import handler as handler_module
from sync.stream_to_search import late_records
from sync.stream_to_search.handler import handler
from sync.stream_to_search.search_http import SearchHttp

from .records import av, card, put, remove
from .test_handler import docs, failures

GC = "1s"


@pytest.fixture(scope="module")
def dynamodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_in_thread(tmp_path_factory.mktemp("ddb")) as server:
        yield server.url


@pytest.fixture
def late_link(
    search_url: str, dynamodb_url: str, tcgstore: System, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[str, Any, str]]:  # fmt: skip
    """(index, table client, table): an index that forgets tombstones after 1 s, the
    handler configured for it and for its table."""
    name = f"late-{uuid.uuid4().hex[:8]}"
    body = tcgstore.stores["cards-index"].body()  # type: ignore[union-attr]
    body["settings"] = {**body["settings"], "index.gc_deletes": GC}
    http = SearchHttp(search_url)
    assert http.request("PUT", f"/{name}", json.dumps(body).encode()).status == 200
    table = f"cards-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "Id",
                                            "AttributeType": "S"}])  # fmt: skip
    cfg = dataclasses.replace(link_config(tcgstore, "cards-to-search"),
                              tombstone_seconds=gc_deletes_seconds(body["settings"]))  # fmt: skip
    assert cfg.table_env == "DYNAMODB_TABLE_CARDS" and cfg.tombstone_seconds == 1.0
    path = tmp_path / "link.json"
    path.write_text(cfg.to_json())
    for key, value in {handler_config.CONFIG_ENV: str(path), "OPENSEARCH_URL": search_url,
                       cfg.index_env: name, cfg.table_env: table,
                       "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url, "AWS_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    handler_module.reset()
    late_records._client.clear()
    yield name, ddb, table
    handler_module.reset()
    late_records._client.clear()
    http.request("DELETE", f"/{name}")
    http.close()


def _late(record: dict[str, Any], age: float = 30.0) -> dict[str, Any]:
    record["dynamodb"]["ApproximateCreationDateTime"] = time.time() - age
    return record


def _fresh(record: dict[str, Any]) -> dict[str, Any]:
    return _late(record, 0.0)


def test_a_late_modify_after_the_tombstone_is_gone_does_not_resurrect(
    search_url: str, late_link: tuple[str, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, ddb, table = late_link
    item = card("gone")
    # The table: the item was written, then deleted. The stream told the index so.
    ddb.put_item(TableName=table, Item={k: av(v) for k, v in item.items()})
    ddb.delete_item(TableName=table, Key={"Id": {"S": "gone"}})
    assert failures(handler({"Records": [_fresh(put(40, item, insert=True)),
                                         _fresh(remove(42, "gone"))]})) == []  # fmt: skip
    time.sleep(2.0)  # longer than index.gc_deletes: the tombstone is forgotten
    http = SearchHttp(search_url)
    http.request("POST", f"/{index}/_refresh")
    http.close()
    # The MODIFY replayed from a failure queue long after: without the guard it is back.
    monkeypatch.setenv("DYNAMODB_TABLE_CARDS", "")
    assert failures(handler({"Records": [_late(put(40, item))]})) == []
    assert "gone" in docs(search_url, index)  # the risk is real
    monkeypatch.setenv("DYNAMODB_TABLE_CARDS", table)
    handler_module.reset()
    # With the guard (the table says the item is gone): deleted again, at version 41.
    assert failures(handler({"Records": [_late(put(40, item))]})) == []
    assert "gone" not in docs(search_url, index)
    # The REMOVE's own replay and a later re-creation still apply in order.
    assert failures(handler({"Records": [_fresh(remove(42, "gone"))]})) == []
    again = card("gone", name="Back for real")
    ddb.put_item(TableName=table, Item={k: av(v) for k, v in again.items()})
    assert failures(handler({"Records": [_fresh(put(50, again, insert=True))]})) == []
    assert docs(search_url, index)["gone"]["name"] == "Back for real"


def test_a_late_record_of_an_item_the_table_still_has_is_kept(
    search_url: str, late_link: tuple[str, Any, str]
) -> None:
    index, ddb, table = late_link
    item = card("kept", name="Current")
    ddb.put_item(TableName=table, Item={k: av(v) for k, v in item.items()})
    # A backlog: every record is old; the item exists, so nothing is deleted.
    result = handler({"Records": [_late(put(60, card("kept", name="Old"), insert=True)),
                                  _late(put(61, item))]})  # fmt: skip
    assert failures(result) == []
    assert docs(search_url, index)["kept"]["name"] == "Current"


def test_a_table_that_cannot_be_read_fails_the_late_records(
    search_url: str, late_link: tuple[str, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _, _ = late_link
    monkeypatch.setenv("DYNAMODB_TABLE_CARDS", "no-such-table")
    late = _late(put(70, card("unsure"), insert=True))
    fresh = _fresh(put(71, card("sure"), insert=True))
    result = handler({"Records": [late, fresh]})
    assert failures(result) == ["70"]  # retried: the table decides, never a guess
    assert set(docs(search_url, index)) == {"unsure", "sure"}
