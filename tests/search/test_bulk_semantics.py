"""Contract tests for what the batched write path and the hit encoding must preserve:
in-request ordering of bulk items on one id, all-or-nothing validation of a bulk body,
ids that need percent-encoding, and ``_source`` returned as it was sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import OpenSearch, RequestError

from tests.search.cards import CARD_INDEX_BODY


def ndjson(*lines: dict[str, Any]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def test_bulk_items_on_one_id_apply_in_order(client: OpenSearch, index_name: str) -> None:
    client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    body = ndjson(
        {"index": {"_id": "a"}},
        {"name": "Black Lotus", "stock": 1},
        {"index": {"_id": "a"}},
        {"name": "Black Lotus", "stock": 2},
        {"update": {"_id": "a"}},
        {"doc": {"rarity": "rare"}},
        {"create": {"_id": "a"}},
        {"name": "duplicate"},
        {"delete": {"_id": "a"}},
        {"create": {"_id": "a"}},
        {"name": "Mox Pearl"},
    )
    items = client.bulk(index=index_name, body=body, refresh="true")["items"]
    got = [
        (next(iter(i)), i[next(iter(i))]["status"], i[next(iter(i))].get("_version")) for i in items
    ]
    assert got == [
        ("index", 201, 1),
        ("index", 200, 2),
        ("update", 200, 3),
        ("create", 409, None),
        ("delete", 200, 4),
        ("create", 201, 5),
    ]
    assert client.get_source(index=index_name, id="a") == {"name": "Mox Pearl"}
    assert client.count(index=index_name)["count"] == 1
    hits = client.search(index=index_name, body={"query": {"match": {"name": "pearl"}}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["a"]


def test_bulk_with_a_malformed_line_applies_nothing(client: OpenSearch, index_name: str) -> None:
    client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    body = ndjson({"index": {"_id": "first"}}, {"name": "Sol Ring"}) + '{"index": {"_id": "x"\n'
    with pytest.raises(RequestError) as err:
        client.bulk(index=index_name, body=body, refresh="true")
    assert err.value.status_code == 400
    client.indices.refresh(index=index_name)
    assert client.exists(index=index_name, id="first") is False
    assert client.count(index=index_name)["count"] == 0


@pytest.mark.parametrize("doc_id", ["a/b", "50%", "with space", "dé?x&y=1#z"])
def test_ids_that_need_percent_encoding(client: OpenSearch, index_name: str, doc_id: str) -> None:
    client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    client.index(index=index_name, id=doc_id, body={"name": "Sol Ring"}, refresh="true")
    assert client.get(index=index_name, id=doc_id)["_id"] == doc_id
    hits = client.search(index=index_name, body={"query": {"ids": {"values": [doc_id]}}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == [doc_id]
    assert client.delete(index=index_name, id=doc_id)["result"] == "deleted"


def test_hits_return_the_source_as_sent(client: OpenSearch, index_name: str) -> None:
    client.indices.create(index=index_name, body=CARD_INDEX_BODY)
    source = {
        "name": 'Jötunn Ωmega \u2028 "quoted" \\ slash',
        "stock": 3,
        "price": 1.5,
        "foil": False,
        "description": "☃ emoji 🂡 and a NUL-free control \t tab",
    }
    client.index(index=index_name, id="u", body=source, refresh="true")
    client.bulk(
        index=index_name,
        body=ndjson({"index": {"_id": "v"}}, {**source, "stock": 4}),
        refresh="true",
    )
    hits = client.search(index=index_name, body={"query": {"match": {"name": "jötunn"}}})
    by_id = {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}
    assert by_id == {"u": source, "v": {**source, "stock": 4}}
    filtered = client.search(
        index=index_name,
        body={"query": {"ids": {"values": ["u"]}}, "_source": ["stock"]},
    )
    assert filtered["hits"]["hits"][0]["_source"] == {"stock": 3}
