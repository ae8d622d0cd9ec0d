"""Contract tests for aliases and index expressions: the ``_aliases`` API (atomic),
``_alias`` paths, write indices, and searches over several indices.

The zero-downtime reindex of the stream-to-search link relies on these: build a new
index, then move the read alias in one ``_aliases`` call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError


@pytest.fixture
def names(client: OpenSearch) -> Iterator[list[str]]:
    """Two fresh index names and an alias name, cleaned up after the test."""
    stem = f"al-{uuid.uuid4().hex[:8]}"
    made = [f"{stem}-v1", f"{stem}-v2", f"{stem}-read"]
    yield made
    client.indices.delete(index=f"{stem}-v*", ignore_unavailable=True)


def test_swap_alias_atomically(client: OpenSearch, names: list[str]) -> None:
    v1, v2, alias = names
    client.indices.create(index=v1, body={"aliases": {alias: {}}})
    client.indices.create(index=v2)
    client.index(index=alias, id="a", body={"gen": 1}, refresh="true")
    client.index(index=v2, id="a", body={"gen": 2}, refresh="true")
    assert client.get(index=alias, id="a")["_source"] == {"gen": 1}
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": v1, "alias": alias}},
                {"add": {"index": v2, "alias": alias}},
            ]
        }
    )
    assert client.get(index=alias, id="a")["_source"] == {"gen": 2}
    assert client.indices.get_alias(name=alias) == {v2: {"aliases": {alias: {}}}}
    # A failing action leaves everything as it was: the first action is not applied.
    with pytest.raises(NotFoundError):
        client.indices.update_aliases(
            body={
                "actions": [
                    {"add": {"index": v1, "alias": alias}},
                    {"remove": {"index": v1, "alias": "never-there"}},
                ]
            }
        )
    assert client.indices.get_alias(name=alias) == {v2: {"aliases": {alias: {}}}}


def test_remove_index_action_swaps_index_for_alias(client: OpenSearch, names: list[str]) -> None:
    v1, v2, _ = names
    client.indices.create(index=v1)
    client.indices.create(index=v2)
    client.indices.update_aliases(
        body={
            "actions": [
                {"add": {"index": v2, "alias": f"{v1}-x"}},
                {"remove_index": {"index": v1}},
            ]
        }
    )
    assert client.indices.exists(index=v1) is False
    assert client.indices.exists_alias(name=f"{v1}-x") is True


def test_write_index_and_multi_index_alias(client: OpenSearch, names: list[str]) -> None:
    v1, v2, alias = names
    client.indices.create(index=v1)
    client.indices.create(index=v2)
    client.indices.put_alias(index=f"{v1},{v2}", name=alias)
    with pytest.raises(RequestError) as no_write:
        client.index(index=alias, id="x", body={"n": 1})
    assert "no write index is defined for alias" in str(no_write.value.info)
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": v2, "alias": alias, "is_write_index": True}}]}
    )
    client.index(index=alias, id="x", body={"n": 1}, refresh="true")
    client.index(index=v1, id="y", body={"n": 2}, refresh="true")
    assert client.get(index=v2, id="x")["found"] is True
    got = client.indices.get_alias(index=v2, name=alias)
    assert got == {v2: {"aliases": {alias: {"is_write_index": True}}}}
    hits = client.search(index=alias, body={"sort": [{"n": "desc"}]})["hits"]
    assert hits["total"]["value"] == 2
    assert [(h["_index"], h["_id"]) for h in hits["hits"]] == [(v1, "y"), (v2, "x")]
    assert client.count(index=alias)["count"] == 2
    mappings = client.indices.get_mapping(index=alias)
    assert set(mappings) == {v1, v2}


def test_search_over_index_expressions(client: OpenSearch, names: list[str]) -> None:
    v1, v2, _ = names
    for name, n in ((v1, 3), (v2, 2)):
        client.bulk(
            body=[x for i in range(n) for x in ({"index": {"_index": name}}, {"k": i})],
            refresh="true",
        )
    stem = v1.rsplit("-", 1)[0]
    for expression, expected in (
        (f"{stem}-*", 5),
        (f"{v1},{v2}", 5),
        (f"{stem}-*,-{v2}", 3),
    ):
        result = client.search(
            index=expression, body={"size": 10, "aggs": {"k": {"terms": {"field": "k"}}}}
        )
        assert result["hits"]["total"]["value"] == expected, expression
        assert len(result["hits"]["hits"]) == expected
        assert sum(b["doc_count"] for b in result["aggregations"]["k"]["buckets"]) == expected
    paged = client.search(index=f"{stem}-*", body={"sort": ["k"], "from": 1, "size": 2})
    assert [h["sort"] for h in paged["hits"]["hits"]] == [[0], [1]]
    as_int = client.search(index=f"{stem}-*", params={"rest_total_hits_as_int": "true"})
    assert as_int["hits"]["total"] == 5


def test_alias_errors(client: OpenSearch, names: list[str]) -> None:
    v1, _, alias = names
    client.indices.create(index=v1)
    assert client.indices.exists_alias(name=alias) is False
    with pytest.raises(NotFoundError):
        client.indices.get_alias(name=alias)
    with pytest.raises(RequestError) as clash:
        client.indices.put_alias(index=v1, name=v1)
    assert clash.value.error == "invalid_alias_name_exception"
    with pytest.raises(RequestError) as bad_filter:
        client.indices.put_alias(index=v1, name=alias, body={"filter": {"no_such_query": {}}})
    assert "failed to parse filter for alias" in str(bad_filter.value.info)
    with pytest.raises(NotFoundError):
        client.index(index=f"{v1}-nope", body={"a": 1}, params={"require_alias": "true"})
    assert client.indices.exists(index=f"{v1}-nope") is False


def test_remove_index_replaces_an_index_by_an_alias_of_its_name(
    client: OpenSearch, names: list[str]
) -> None:
    """The legacy upgrade: an index named like the alias becomes the alias, in one request
    (``remove_index`` runs before every ``add``, as in OpenSearch)."""
    v1, v2, _ = names
    client.indices.create(index=v1)
    client.indices.create(index=v2)
    client.index(index=v1, id="a", body={"gen": 1}, refresh="true")
    client.index(index=v2, id="a", body={"gen": 2}, refresh="true")
    client.indices.update_aliases(
        body={
            "actions": [
                {"add": {"index": v2, "alias": v1}},
                {"remove_index": {"index": v1}},
            ]
        }
    )
    assert client.indices.get_alias(name=v1) == {v2: {"aliases": {v1: {}}}}
    assert client.get(index=v1, id="a")["_source"] == {"gen": 2}
    # Without the remove_index the name clashes, and nothing is applied.
    client.indices.create(index=f"{v1}-x")
    with pytest.raises(RequestError) as clash:
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": v2, "alias": f"{v1}-x"}}]}
        )
    assert clash.value.error == "invalid_alias_name_exception"
    assert "an index or data stream exists with the same name" in str(clash.value.info)
    client.indices.delete(index=f"{v1}-x")


def test_remove_index_names_indices_not_aliases(client: OpenSearch, names: list[str]) -> None:
    v1, v2, alias = names
    client.indices.create(index=v1, body={"aliases": {alias: {}}})
    with pytest.raises(RequestError) as by_alias:
        client.indices.update_aliases(body={"actions": [{"remove_index": {"index": alias}}]})
    assert "matches an alias, specify the corresponding concrete indices" in str(
        by_alias.value.info
    )
    with pytest.raises(NotFoundError) as missing:
        client.indices.update_aliases(body={"actions": [{"remove_index": {"index": v2}}]})
    assert missing.value.error == "index_not_found_exception"
    with pytest.raises(RequestError) as with_alias:
        client.indices.update_aliases(
            body={"actions": [{"remove_index": {"index": v1, "alias": alias}}]}
        )
    assert "[alias] is unsupported for [REMOVE_INDEX]" in str(with_alias.value.info)
    assert client.indices.exists(index=v1) is True


def test_remove_then_add_the_same_alias_in_one_request(
    client: OpenSearch, names: list[str]
) -> None:
    v1, _, alias = names
    client.indices.create(index=v1, body={"aliases": {alias: {}}})
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": v1, "alias": alias}},
                {"add": {"index": v1, "alias": alias}},
            ]
        }
    )
    assert client.indices.get_alias(name=alias) == {v1: {"aliases": {alias: {}}}}


def test_remove_must_exist(client: OpenSearch, names: list[str]) -> None:
    v1, _, alias = names
    client.indices.create(index=v1, body={"aliases": {alias: {}}})
    for body, missing in (
        ({"index": v1, "alias": "nope", "must_exist": True}, "nope"),
        ({"index": v1, "aliases": ["nope*"], "must_exist": True}, "nope*"),
        ({"index": v1, "aliases": [alias, "nope"], "must_exist": True}, "nope"),
        ({"index": v1, "alias": "nope"}, "nope"),  # unset: at least one must go
    ):
        with pytest.raises(NotFoundError) as err:
            client.indices.update_aliases(body={"actions": [{"remove": body}]})
        assert err.value.error == "aliases_not_found_exception"
        assert f"aliases [{missing}] missing" in str(err.value.info)
    with pytest.raises(RequestError) as empty:
        client.indices.update_aliases(
            body={"actions": [{"remove": {"index": v1, "aliases": [], "must_exist": True}}]}
        )
    assert "[aliases] can't be empty" in str(empty.value.info)
    assert client.indices.exists_alias(name=alias) is True  # nothing was applied
    client.indices.update_aliases(
        body={"actions": [{"remove": {"index": v1, "aliases": ["x1", "x2"], "must_exist": False}}]}
    )
    client.indices.update_aliases(
        body={"actions": [{"remove": {"index": v1, "aliases": [alias, "x1"], "must_exist": False}}]}
    )
    assert client.indices.exists_alias(name=alias) is False
    with pytest.raises(RequestError) as on_add:
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": v1, "alias": alias, "must_exist": True}}]}
        )
    assert "[must_exist] is unsupported for [ADD]" in str(on_add.value.info)


def test_write_index_moves_within_one_request(client: OpenSearch, names: list[str]) -> None:
    v1, v2, alias = names
    client.indices.create(index=v1, body={"aliases": {alias: {"is_write_index": True}}})
    client.indices.create(index=v2)
    with pytest.raises(Exception) as two:  # OpenSearch answers 500 here
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": v2, "alias": alias, "is_write_index": True}}]}
        )
    assert "has more than one write index" in str(two.value)
    client.indices.update_aliases(
        body={
            "actions": [
                {"add": {"index": v2, "alias": alias, "is_write_index": True}},
                {"add": {"index": v1, "alias": alias, "is_write_index": False}},
            ]
        }
    )
    client.index(index=alias, id="w", body={"n": 1}, refresh="true")
    assert client.get(index=v2, id="w")["found"] is True


def test_aliases_request_errors(client: OpenSearch, names: list[str]) -> None:
    v1, _, alias = names
    client.indices.create(index=v1)
    for body, reason in (
        ({"actions": []}, "No action specified"),
        ({"actions": [{"add": {"alias": alias}}]}, "One of [index] or [indices] is required"),
        ({"actions": [{"add": {"index": v1}}]}, "One of [alias] or [aliases] is required"),
        ({"actions": [{"add": {"index": v1, "alias": alias, "colour": 1}}]}, "unknown field"),
        (
            {"actions": [{"add": {"index": v1, "indices": [v1], "alias": alias}}]},
            "Only one of [index] and [indices] is supported",
        ),
    ):
        with pytest.raises(RequestError) as err:
            client.indices.update_aliases(body=body)
        assert reason in str(err.value.info), body


def test_routing_aliases(client: OpenSearch, names: list[str]) -> None:
    """OpenSearch's ``indices.update_aliases/20_routing.yml`` cases, then the index routing
    applied to single-document requests through the alias."""
    v1, _, alias = names
    client.indices.create(index=v1)
    for conf, shown in (
        ({"routing": "routing"}, {"index_routing": "routing", "search_routing": "routing"}),
        ({"index_routing": "ir"}, {"index_routing": "ir"}),
        ({"search_routing": "sr"}, {"search_routing": "sr"}),
        ({"index_routing": "ir", "routing": "r"}, {"index_routing": "ir", "search_routing": "r"}),
        ({"search_routing": "sr", "routing": "r"}, {"index_routing": "r", "search_routing": "sr"}),
        ({"routing": 5}, {"index_routing": "5", "search_routing": "5"}),
    ):
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": v1, "alias": alias, **conf}}]}
        )
        assert client.indices.get_alias(index=v1)[v1]["aliases"][alias] == shown, conf
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": v1, "alias": alias, "index_routing": "k1"}}]}
    )
    client.index(index=alias, id="r1", body={"n": 1}, refresh="true")
    got = client.get(index=alias, id="r1")
    assert got["_routing"] == "k1" and client.get(index=v1, id="r1", routing="k1")["found"]
    with pytest.raises(RequestError) as clash:
        client.index(index=alias, id="r2", body={"n": 2}, routing="other")
    assert "has index routing associated with it [k1]" in str(clash.value.info)
    bulk = client.bulk(body=[{"index": {"_index": alias, "_id": "r3"}}, {"n": 3}], refresh="true")
    assert bulk["errors"] is False
    assert client.get(index=v1, id="r3", routing="k1")["_routing"] == "k1"
    with pytest.raises(RequestError) as several:
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": v1, "alias": alias, "index_routing": "a,b"}}]}
        )
    assert "has several index routing values associated with it" in str(several.value.info)


def test_filtered_aliases(client: OpenSearch, names: list[str]) -> None:
    """A search, count or delete-by-query through a filtered alias sees only what the
    filter matches; through the index itself, everything."""
    v1, _, alias = names
    client.indices.create(
        index=v1,
        body={"mappings": {"properties": {"k": {"type": "keyword"}, "n": {"type": "long"}}}},
    )
    client.bulk(body=[x for i in range(6) for x in ({"index": {"_index": v1, "_id": str(i)}},
                                                    {"k": "even" if i % 2 == 0 else "odd",
                                                     "n": i})], refresh="true")  # fmt: skip
    client.indices.update_aliases(body={"actions": [
        {"add": {"index": v1, "alias": alias, "filter": {"term": {"k": "even"}}}},
        {"add": {"index": v1, "alias": f"{alias}-big", "filter": {"range": {"n": {"gte": 4}}}}},
    ]})  # fmt: skip
    shown = client.indices.get_alias(index=v1, name=alias)[v1]["aliases"][alias]
    assert shown == {"filter": {"term": {"k": "even"}}}
    hits = client.search(index=alias, body={"query": {"match_all": {}}, "sort": ["n"]})["hits"]
    assert [h["_id"] for h in hits["hits"]] == ["0", "2", "4"] and hits["total"]["value"] == 3
    assert client.count(index=alias)["count"] == 3 and client.count(index=v1)["count"] == 6
    both = client.search(index=f"{alias},{alias}-big", body={"sort": ["n"]})["hits"]["hits"]
    assert [h["_id"] for h in both] == ["0", "2", "4", "5"]  # either filter
    narrowed = client.count(index=alias, body={"query": {"range": {"n": {"gte": 1}}}})
    assert narrowed["count"] == 2
    # The index named next to the alias: no filter for it.
    assert client.count(index=f"{v1},{alias}")["count"] == 6
    client.delete_by_query(index=alias, body={"query": {"match_all": {}}}, refresh=True)
    assert sorted(h["_id"] for h in client.search(index=v1)["hits"]["hits"]) == ["1", "3", "5"]
