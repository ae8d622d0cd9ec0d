"""Contract tests for the common aggregations application code uses (filter, filters,
cardinality, histogram, date_histogram, range, missing, top_hits) and for custom
routing on a multi-shard index.
"""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError

SALES = [
    {"sku": "a", "price": 5, "day": "2024-01-01T10:00:00Z"},
    {"sku": "a", "price": 15, "day": "2024-01-01T12:00:00Z"},
    {"sku": "b", "price": 25, "day": "2024-01-02T09:00:00Z"},
    {"sku": "c", "price": 35, "day": "2024-01-04T09:00:00Z"},
    {"price": 45, "day": "2024-01-04T10:00:00Z"},
]


@pytest.fixture
def sales(client: OpenSearch, index_name: str) -> str:
    client.indices.create(
        index=index_name,
        body={
            "mappings": {
                "properties": {
                    "sku": {"type": "keyword"},
                    "price": {"type": "integer"},
                    "day": {"type": "date"},
                }
            }
        },
    )
    body: list[dict[str, Any]] = []
    for i, sale in enumerate(SALES):
        body += [{"index": {"_index": index_name, "_id": str(i)}}, sale]
    assert client.bulk(body=body, refresh="true")["errors"] is False
    return index_name


def _aggs(client: OpenSearch, index: str, aggs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.search(index=index, body={"size": 0, "aggs": aggs})
    return result["aggregations"]


def test_bucket_aggregations(client: OpenSearch, sales: str) -> None:
    got = _aggs(
        client,
        sales,
        {
            "cheap": {"filter": {"range": {"price": {"lt": 20}}}},
            "kinds": {
                "filters": {"filters": {"a": {"term": {"sku": "a"}}, "b": {"term": {"sku": "b"}}}}
            },
            "no_sku": {"missing": {"field": "sku"}},
            "prices": {"histogram": {"field": "price", "interval": 20}},
            "bands": {"range": {"field": "price", "ranges": [{"to": 20}, {"from": 20}]}},
            "days": {"date_histogram": {"field": "day", "calendar_interval": "day"}},
        },
    )
    assert got["cheap"] == {"doc_count": 2}
    assert got["kinds"]["buckets"] == {"a": {"doc_count": 2}, "b": {"doc_count": 1}}
    assert got["no_sku"] == {"doc_count": 1}
    assert [(b["key"], b["doc_count"]) for b in got["prices"]["buckets"]] == [
        (0.0, 2),
        (20.0, 2),
        (40.0, 1),
    ]
    assert [(b["key"], b["doc_count"]) for b in got["bands"]["buckets"]] == [
        ("*-20.0", 2),
        ("20.0-*", 3),
    ]
    days = got["days"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in days] == [
        ("2024-01-01T00:00:00.000Z", 2),
        ("2024-01-02T00:00:00.000Z", 1),
        ("2024-01-03T00:00:00.000Z", 0),
        ("2024-01-04T00:00:00.000Z", 2),
    ]


def test_metrics_top_hits_and_children(client: OpenSearch, sales: str) -> None:
    got = _aggs(
        client,
        sales,
        {
            "skus": {"cardinality": {"field": "sku"}},
            "priciest": {"top_hits": {"size": 1, "sort": [{"price": "desc"}]}},
            "by_sku": {
                "terms": {"field": "sku"},
                "aggs": {"cheap": {"filter": {"range": {"price": {"lt": 10}}}}},
            },
        },
    )
    assert got["skus"] == {"value": 3}
    top = got["priciest"]["hits"]
    assert top["total"] == {"value": 5, "relation": "eq"}
    assert [h["_source"]["price"] for h in top["hits"]] == [45]
    assert [(b["key"], b["cheap"]["doc_count"]) for b in got["by_sku"]["buckets"]] == [
        ("a", 1),
        ("b", 0),
        ("c", 0),
    ]
    with pytest.raises(RequestError) as err:
        _aggs(client, sales, {"p": {"percentiles": {"field": "price"}}})
    assert "not supported by the polystore embedded search engine" in str(err.value.info)


def test_routing_on_a_multi_shard_index(client: OpenSearch, index_name: str) -> None:
    client.indices.create(index=index_name, body={"settings": {"number_of_shards": 5}})
    client.index(index=index_name, id="1", routing="5", body={"foo": "bar"}, refresh="true")
    got = client.get(index=index_name, id="1", routing="5")
    assert got["_routing"] == "5" and got["_source"] == {"foo": "bar"}
    # OpenSearch routes "4" (and the bare id "1") to other shards than "5".
    for routing in ("4", None):
        with pytest.raises(NotFoundError):
            client.get(index=index_name, id="1", routing=routing)
    with pytest.raises(NotFoundError):
        client.delete(index=index_name, id="1", routing="4")
    assert client.get(index=index_name, id="1", routing="5")["found"] is True
    found = client.search(index=index_name, body={"query": {"exists": {"field": "_routing"}}})
    assert found["hits"]["total"]["value"] == 1
    with pytest.raises(RequestError):
        client.search(index=index_name, routing="5")
    assert client.delete(index=index_name, id="1", routing="5")["result"] == "deleted"
