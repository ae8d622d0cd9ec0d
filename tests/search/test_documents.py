"""Contract tests for document APIs: CRUD, versions, refresh, mget, bulk, delete_by_query."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import ConflictError, NotFoundError, OpenSearch, RequestError

from tests.search.cards import CARD_INDEX_BODY


def make(client: OpenSearch, name: str, body: dict[str, Any] | None = None) -> None:
    client.indices.create(index=name, body=body or CARD_INDEX_BODY)


def test_index_get_update_delete_round_trip(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    created = client.index(index=index_name, id="c1", body={"id": "c1", "name": "Black Lotus",
                                                            "price": 10.0})
    assert (created["result"], created["_version"], created["_id"]) == ("created", 1, "c1")
    got = client.get(index=index_name, id="c1")  # realtime: no refresh needed
    assert got["found"] is True and got["_source"]["name"] == "Black Lotus"
    assert got["_version"] == 1 and got["_seq_no"] == created["_seq_no"]
    again = client.index(index=index_name, id="c1", body={"id": "c1", "name": "Black Lotus",
                                                          "price": 11.0})
    assert (again["result"], again["_version"]) == ("updated", 2)
    updated = client.update(index=index_name, id="c1", body={"doc": {"stock": 3}})
    assert (updated["result"], updated["_version"]) == ("updated", 3)
    noop = client.update(index=index_name, id="c1", body={"doc": {"stock": 3}})
    assert noop["result"] == "noop"
    source = client.get_source(index=index_name, id="c1")
    assert source == {"id": "c1", "name": "Black Lotus", "price": 11.0, "stock": 3}
    assert client.exists(index=index_name, id="c1") is True
    deleted = client.delete(index=index_name, id="c1")
    assert deleted["result"] == "deleted"
    assert client.exists(index=index_name, id="c1") is False
    with pytest.raises(NotFoundError):
        client.get(index=index_name, id="c1")
    with pytest.raises(NotFoundError) as err:
        client.delete(index=index_name, id="c1")
    assert err.value.info["result"] == "not_found"


def test_auto_id_create_and_upsert(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    result = client.index(index=index_name, body={"name": "Dark Ritual"})
    assert result["result"] == "created" and len(result["_id"]) >= 10
    client.create(index=index_name, id="x", body={"name": "Counterspell"})
    with pytest.raises(ConflictError) as err:
        client.create(index=index_name, id="x", body={"name": "Counterspell"})
    assert err.value.error == "version_conflict_engine_exception"
    with pytest.raises(NotFoundError) as missing:
        client.update(index=index_name, id="nope", body={"doc": {"name": "a"}})
    assert missing.value.error == "document_missing_exception"
    upserted = client.update(index=index_name, id="nope", body={"doc": {"name": "Serra Angel"},
                                                                "doc_as_upsert": True})
    assert upserted["result"] == "created"


def test_external_versions_drop_stale_writes(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    ext = {"version_type": "external"}
    first = client.index(index=index_name, id="s1", body={"name": "v5"},
                         params={**ext, "version": 5})
    assert first["_version"] == 5
    for stale in (5, 4):
        with pytest.raises(ConflictError) as err:
            client.index(index=index_name, id="s1", body={"name": "old"},
                         params={**ext, "version": stale})
        assert err.value.error == "version_conflict_engine_exception"
        assert "current version [5] is higher or equal to the one provided" in str(
            err.value.info["error"]["reason"])
    newer = client.index(index=index_name, id="s1", body={"name": "v7"},
                         params={**ext, "version": 7})
    assert newer["_version"] == 7
    assert client.get(index=index_name, id="s1")["_source"]["name"] == "v7"
    # A delete carries its version too: a late older write must not resurrect the doc.
    client.delete(index=index_name, id="s1", params={**ext, "version": 9})
    with pytest.raises(ConflictError):
        client.index(index=index_name, id="s1", body={"name": "v8"},
                     params={**ext, "version": 8})
    assert client.exists(index=index_name, id="s1") is False


def test_if_seq_no_optimistic_concurrency(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    first = client.index(index=index_name, id="a", body={"name": "one"})
    client.index(index=index_name, id="a", body={"name": "two"},
                 params={"if_seq_no": first["_seq_no"], "if_primary_term": 1})
    with pytest.raises(ConflictError):
        client.index(index=index_name, id="a", body={"name": "three"},
                     params={"if_seq_no": first["_seq_no"], "if_primary_term": 1})


def test_refresh_controls_search_visibility(client: OpenSearch, index_name: str) -> None:
    body = {**CARD_INDEX_BODY,
            "settings": {**CARD_INDEX_BODY["settings"], "refresh_interval": "-1"}}
    make(client, index_name, body)
    client.index(index=index_name, id="a", body={"name": "Shivan Dragon"})
    assert client.count(index=index_name)["count"] == 0
    client.indices.refresh(index=index_name)
    assert client.count(index=index_name)["count"] == 1
    client.index(index=index_name, id="b", body={"name": "Serra Angel"}, refresh="true")
    client.index(index=index_name, id="c", body={"name": "Dark Ritual"}, refresh="wait_for")
    assert client.count(index=index_name)["count"] == 3


def test_mapping_errors(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    with pytest.raises(RequestError) as strict:
        client.index(index=index_name, id="a", body={"name": "x", "colour": "red"})
    assert strict.value.error == "strict_dynamic_mapping_exception"
    with pytest.raises(RequestError) as bad_type:
        client.index(index=index_name, id="a", body={"name": "x", "stock": "many"})
    assert bad_type.value.error == "mapper_parsing_exception"
    assert client.exists(index=index_name, id="a") is False


def test_malformed_json_and_unknown_index(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    with pytest.raises(RequestError) as bad:
        client.transport.perform_request("POST", f"/{index_name}/_search", body="{not json")
    assert bad.value.status_code == 400
    with pytest.raises(NotFoundError) as missing:
        client.search(index="no-such-index", body={"query": {"match_all": {}}})
    assert missing.value.error == "index_not_found_exception"
    with pytest.raises(NotFoundError):
        client.get(index="no-such-index", id="1")


def test_mget(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    client.index(index=index_name, id="a", body={"name": "A", "set": "lea"})
    client.index(index=index_name, id="b", body={"name": "B", "set": "tmp"})
    docs = client.mget(body={"docs": [{"_index": index_name, "_id": "a"},
                                      {"_index": index_name, "_id": "zz"},
                                      {"_index": index_name, "_id": "b",
                                       "_source": ["set"]}]})["docs"]
    assert [d["found"] for d in docs] == [True, False, True]
    assert docs[2]["_source"] == {"set": "tmp"}
    by_ids = client.mget(index=index_name, body={"ids": ["b", "a"]})["docs"]
    assert [d["_id"] for d in by_ids] == ["b", "a"]


def test_bulk_mixed_actions_and_item_errors(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    body = [
        {"index": {"_index": index_name, "_id": "1"}}, {"name": "Black Lotus", "set": "lea"},
        {"create": {"_index": index_name, "_id": "2"}}, {"name": "Lotus Petal", "set": "tmp"},
        {"create": {"_index": index_name, "_id": "1"}}, {"name": "dup", "set": "lea"},
        {"update": {"_index": index_name, "_id": "2"}}, {"doc": {"rarity": "common"}},
        {"delete": {"_index": index_name, "_id": "1"}},
        {"index": {"_index": index_name, "_id": "3"}}, {"name": "x", "unknown_field": 1},
        {"index": {"_index": index_name, "_id": "4", "version": 3,
                   "version_type": "external"}}, {"name": "Counterspell"},
    ]
    result = client.bulk(body=body, refresh="true")
    assert result["errors"] is True
    statuses = [next(iter(item.values()))["status"] for item in result["items"]]
    assert statuses == [201, 201, 409, 200, 200, 400, 201]
    assert result["items"][5]["index"]["error"]["type"] == "strict_dynamic_mapping_exception"
    assert client.count(index=index_name)["count"] == 2
    assert client.get(index=index_name, id="2")["_source"]["rarity"] == "common"
    assert client.get(index=index_name, id="4")["_version"] == 3


def test_bulk_with_default_index_in_path(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    body = [{"index": {"_id": str(i)}} if i % 2 == 0 else {"name": f"card {i}"}
            for i in range(20)]
    result = client.bulk(index=index_name, body=body, refresh="true")
    assert result["errors"] is False and len(result["items"]) == 10
    assert client.count(index=index_name)["count"] == 10


def test_delete_by_query(client: OpenSearch, index_name: str) -> None:
    make(client, index_name)
    lines: list[dict[str, Any]] = []
    for i in range(12):
        lines += [{"index": {"_index": index_name, "_id": str(i)}},
                  {"name": f"card {i}", "set": "lea" if i % 3 == 0 else "tmp"}]
    client.bulk(body=lines, refresh="true")
    result = client.delete_by_query(index=index_name, body={"query": {"term": {"set": "lea"}}},
                                    refresh=True)
    assert result["deleted"] == 4 and result["total"] == 4 and result["failures"] == []
    assert client.count(index=index_name)["count"] == 8
    assert client.exists(index=index_name, id="3") is False
