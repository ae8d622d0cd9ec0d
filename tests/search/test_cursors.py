"""What application code needs beyond single requests: opensearch-py's ``helpers.bulk``,
``helpers.scan`` and ``helpers.reindex`` end to end, scrolls, points in time with
``search_after``, ``_msearch``, ``_update_by_query`` and unknown URL parameters.
"""

from __future__ import annotations

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError, helpers


def _load(client: OpenSearch, index: str, n: int) -> None:
    actions = (
        {"_index": index, "_id": str(i), "_source": {"n": i, "even": i % 2 == 0}} for i in range(n)
    )
    ok, errors = helpers.bulk(client, actions, chunk_size=50, refresh="true")
    assert ok == n and errors == []


def test_helpers_bulk_scan_and_reindex(client: OpenSearch, index_name: str) -> None:
    _load(client, index_name, 230)
    scanned = list(helpers.scan(client, index=index_name, size=40))
    assert sorted(int(h["_id"]) for h in scanned) == list(range(230))
    filtered = list(
        helpers.scan(client, index=index_name, query={"query": {"term": {"even": True}}}, size=7)
    )
    assert len(filtered) == 115
    ordered = list(
        helpers.scan(client, index=index_name, query={"sort": [{"n": "desc"}]}, preserve_order=True)
    )
    assert [h["_source"]["n"] for h in ordered] == list(range(229, -1, -1))
    target = f"{index_name}-copy"
    try:
        ok, _ = helpers.reindex(client, index_name, target, target_client=None)
        client.indices.refresh(index=target)
        assert ok == 230
        assert client.count(index=target)["count"] == 230
        assert client.get(index=target, id="17")["_source"] == {"n": 17, "even": False}
    finally:
        client.indices.delete(index=target, ignore_unavailable=True)


def test_scroll_is_a_snapshot_and_clears(client: OpenSearch, index_name: str) -> None:
    _load(client, index_name, 5)
    first = client.search(index=index_name, scroll="1m", size=2, body={"sort": ["n"]})
    scroll_id = first["_scroll_id"]
    client.index(index=index_name, id="late", body={"n": 99}, refresh="true")
    seen = [h["_source"]["n"] for h in first["hits"]["hits"]]
    while True:
        page = client.scroll(scroll_id=scroll_id, scroll="1m")
        if not page["hits"]["hits"]:
            break
        seen += [h["_source"]["n"] for h in page["hits"]["hits"]]
    assert seen == [0, 1, 2, 3, 4]  # the document written after the first page is not there
    assert client.clear_scroll(scroll_id=scroll_id)["succeeded"] is True
    with pytest.raises(NotFoundError) as gone:
        client.scroll(scroll_id=scroll_id, scroll="1m")
    assert gone.value.error == "search_context_missing_exception"


def test_point_in_time_with_search_after(client: OpenSearch, index_name: str) -> None:
    _load(client, index_name, 6)
    pit = client.transport.perform_request(
        "POST", f"/{index_name}/_search/point_in_time", params={"keep_alive": "1m"}
    )
    client.delete(index=index_name, id="0", refresh="true")
    body = {"size": 4, "sort": [{"n": "asc"}], "pit": {"id": pit["pit_id"], "keep_alive": "1m"}}
    page1 = client.search(body=body)
    assert [h["_id"] for h in page1["hits"]["hits"]] == ["0", "1", "2", "3"]
    after = page1["hits"]["hits"][-1]["sort"]
    page2 = client.search(body={**body, "search_after": after})
    assert [h["_id"] for h in page2["hits"]["hits"]] == ["4", "5"]
    assert page2["pit_id"] == pit["pit_id"]
    closed = client.transport.perform_request(
        "DELETE", "/_search/point_in_time", body={"pit_id": [pit["pit_id"]]}
    )
    assert closed["pits"] == [{"pit_id": pit["pit_id"], "successful": True}]


def test_msearch_and_update_by_query(client: OpenSearch, index_name: str) -> None:
    _load(client, index_name, 4)
    result = client.msearch(
        body=[
            {"index": index_name},
            {"query": {"term": {"even": True}}},
            {"index": f"{index_name}-missing"},
            {"query": {"match_all": {}}},
        ]
    )
    first, second = result["responses"]
    assert first["status"] == 200 and first["hits"]["total"]["value"] == 2
    assert second["status"] == 404 and second["error"]["type"] == "index_not_found_exception"
    updated = client.update_by_query(index=index_name, body={"query": {"term": {"even": True}}})
    assert updated["updated"] == 2 and updated["version_conflicts"] == 0
    assert client.get(index=index_name, id="2")["_version"] == 2
    assert client.get(index=index_name, id="1")["_version"] == 1
    with pytest.raises(RequestError) as script:
        client.update_by_query(index=index_name, body={"script": {"source": "ctx._source.n++"}})
    assert "not supported by the polystore embedded search engine" in str(script.value.info)


def test_unknown_url_parameter_is_refused(client: OpenSearch, index_name: str) -> None:
    _load(client, index_name, 1)
    with pytest.raises(RequestError) as bogus:
        client.search(index=index_name, params={"bogus_param": "1"})
    assert bogus.value.error == "illegal_argument_exception"
    assert bogus.value.info["error"]["reason"] == (
        f"request [/{index_name}/_search] contains unrecognized parameter: [bogus_param]"
    )
