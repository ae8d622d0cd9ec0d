"""Contract tests for the cluster and index APIs."""

from __future__ import annotations

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError

from tests.search.cards import CARD_INDEX_BODY


def test_root_and_health(client: OpenSearch) -> None:
    info = client.info()
    assert info["version"]["distribution"] == "opensearch"
    assert info["version"]["number"].startswith("2.")
    assert "tagline" in info
    health = client.cluster.health()
    assert health["status"] in ("green", "yellow")
    assert health["number_of_nodes"] >= 1


def test_create_exists_mapping_delete(client: OpenSearch, index_name: str) -> None:
    assert client.indices.exists(index=index_name) is False
    created = client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    assert created["acknowledged"] is True and created["index"] == index_name
    assert client.indices.exists(index=index_name) is True
    mapping = client.indices.get_mapping(index=index_name)[index_name]["mappings"]
    assert mapping["properties"]["name"]["fields"]["keyword"] == {"type": "keyword"}
    assert mapping["properties"]["price"]["type"] == "scaled_float"
    got = client.indices.get(index=index_name)[index_name]
    assert got["settings"]["index"]["analysis"]["analyzer"]["autocomplete"]["tokenizer"] == \
        "edge_ngram_tokenizer"
    with pytest.raises(RequestError) as dup:
        client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    assert dup.value.error == "resource_already_exists_exception"
    assert client.indices.delete(index=index_name)["acknowledged"] is True
    assert client.indices.exists(index=index_name) is False
    with pytest.raises(NotFoundError) as missing:
        client.indices.delete(index=index_name)
    assert missing.value.error == "index_not_found_exception"


def test_invalid_index_name(client: OpenSearch) -> None:
    with pytest.raises(RequestError) as err:
        client.indices.create(index="Bad-Name")
    assert err.value.error == "invalid_index_name_exception"


def test_bad_mapping_type_is_rejected(client: OpenSearch, index_name: str) -> None:
    with pytest.raises(RequestError) as err:
        client.indices.create(index=index_name, body={"mappings": {"properties": {
            "x": {"type": "no_such_type"}}}})
    assert err.value.error == "mapper_parsing_exception"


def test_dynamic_mapping_and_put_mapping(client: OpenSearch, index_name: str) -> None:
    client.index(index=index_name, id="1", body={"title": "Hello", "n": 3, "ok": True},
                 refresh="true")  # auto-creates the index
    props = client.indices.get_mapping(index=index_name)[index_name]["mappings"]["properties"]
    assert props["title"]["type"] == "text"
    assert props["title"]["fields"]["keyword"]["type"] == "keyword"
    assert props["n"]["type"] == "long" and props["ok"]["type"] == "boolean"
    client.indices.put_mapping(index=index_name, body={"properties": {"tag": {"type": "keyword"}}})
    client.index(index=index_name, id="2", body={"title": "World", "tag": "a"}, refresh="true")
    result = client.search(index=index_name, body={"query": {"term": {"tag": "a"}}})
    assert [h["_id"] for h in result["hits"]["hits"]] == ["2"]
    result = client.search(index=index_name, body={"query": {"term": {"title.keyword": "Hello"}}})
    assert [h["_id"] for h in result["hits"]["hits"]] == ["1"]


def test_aliases(client: OpenSearch, index_name: str) -> None:
    client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    alias = f"{index_name}-alias"
    client.indices.put_alias(index=index_name, name=alias)
    assert client.indices.exists_alias(name=alias) is True
    client.index(index=alias, id="a", body={"name": "Black Lotus"}, refresh="true")
    assert client.count(index=alias)["count"] == 1
    assert alias in client.indices.get_alias(index=index_name)[index_name]["aliases"]
    client.indices.update_aliases(body={"actions": [{"remove": {"index": index_name,
                                                                "alias": alias}}]})
    assert client.indices.exists_alias(name=alias) is False
