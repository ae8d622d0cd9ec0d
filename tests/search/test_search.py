"""Contract tests for ``_search``: queries, paging, sorting, ``_source``, totals, facets."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import OpenSearch, RequestError


def ids(result: dict[str, Any]) -> list[str]:
    return [h["_id"] for h in result["hits"]["hits"]]


def search(client: OpenSearch, index: str, body: dict[str, Any], **params: Any) -> Any:
    return client.search(index=index, body=body, params=params or None)


def test_match_all_returns_every_card_with_exact_total(client: OpenSearch, cards: str) -> None:
    result = search(client, cards, {"query": {"match_all": {}}, "size": 100})
    assert result["hits"]["total"] == {"value": 10, "relation": "eq"}
    assert len(result["hits"]["hits"]) == 10
    assert result["timed_out"] is False
    hit = result["hits"]["hits"][0]
    assert hit["_index"] == cards and hit["_score"] == 1.0 and "_source" in hit


def test_match_scores_follow_bm25(client: OpenSearch, cards: str) -> None:
    result = search(client, cards, {"query": {"match": {"name": "lightning bolt"}}})
    # Both words beat one word; the shorter field ("Lightning Bolt") beats the longer one.
    assert ids(result)[:2] == ["c2", "c9"]
    assert set(ids(result)) == {"c2", "c4", "c9"}
    scores = [h["_score"] for h in result["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert result["hits"]["max_score"] == scores[0]


def test_match_operator_and(client: OpenSearch, cards: str) -> None:
    result = search(
        client,
        cards,
        {"query": {"match": {"name": {"query": "lightning bolt", "operator": "and"}}}},
    )
    assert set(ids(result)) == {"c2", "c9"}


def test_fuzzy_match_finds_misspelt_card_names(client: OpenSearch, cards: str) -> None:
    body = {"query": {"match": {"name": {"query": "lightnig blot", "fuzziness": "AUTO"}}}}
    assert set(ids(search(client, cards, body))) == {"c2", "c4", "c9"}
    exact = {"query": {"match": {"name": {"query": "lotus", "fuzziness": "AUTO"}}}}
    assert set(ids(search(client, cards, exact))) == {"c1", "c3"}
    # AUTO allows no edit on a two-letter word: "el" must not match "elves".
    short = {"query": {"match": {"name": {"query": "el", "fuzziness": "AUTO"}}}}
    assert ids(search(client, cards, short)) == []


def test_fuzzy_exact_word_outranks_typo_match(client: OpenSearch, cards: str) -> None:
    body = {"query": {"match": {"name": {"query": "dragon", "fuzziness": 1}}}}
    assert ids(search(client, cards, body))[0] == "c7"


def test_partial_match_on_edge_ngram_subfield(client: OpenSearch, cards: str) -> None:
    result = search(client, cards, {"query": {"match": {"name.autocomplete": "lot"}}})
    assert set(ids(result)) == {"c1", "c3"}
    result = search(
        client,
        cards,
        {"query": {"match": {"name.autocomplete": {"query": "ligh bo", "operator": "and"}}}},
    )
    assert set(ids(result)) == {"c2", "c9"}


def test_multi_match_best_fields_with_boost(client: OpenSearch, cards: str) -> None:
    body = {
        "query": {
            "multi_match": {
                "query": "lotus",
                "fields": ["name^3", "description"],
                "type": "best_fields",
            }
        }
    }
    result = search(client, cards, body)
    assert set(ids(result)) == {"c1", "c3"}
    body = {"query": {"multi_match": {"query": "damage", "fields": ["name", "description"]}}}
    assert set(ids(search(client, cards, body))) == {"c2", "c4"}


def test_phrase_and_phrase_prefix(client: OpenSearch, cards: str) -> None:
    assert (
        ids(search(client, cards, {"query": {"match_phrase": {"description": "deals 3 damage"}}}))
        != []
    )
    result = search(client, cards, {"query": {"match_phrase": {"name": "bolt lightning"}}})
    assert ids(result) == []
    result = search(client, cards, {"query": {"match_phrase_prefix": {"name": "lightning he"}}})
    assert ids(result) == ["c4"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"term": {"set": "lea"}}, {"c1", "c2", "c5", "c6", "c7"}),
        ({"term": {"set": {"value": "tmp"}}}, {"c3", "c8"}),
        ({"terms": {"rarity": ["rare", "uncommon"]}}, {"c1", "c4", "c5", "c6", "c7", "c9"}),
        ({"term": {"foil": True}}, {"c3", "c6", "c9"}),
        ({"range": {"price": {"gte": 2, "lt": 45}}}, {"c5", "c6", "c9"}),
        ({"range": {"stock": {"lte": 1}}}, {"c1", "c9"}),
        ({"range": {"released_at": {"gte": "2005-01-01"}}}, {"c4", "c9", "c10"}),
        ({"prefix": {"name.keyword": "Li"}}, {"c2", "c4"}),
        ({"wildcard": {"name.keyword": "*Lotus*"}}, {"c1", "c3"}),
        ({"ids": {"values": ["c1", "c10", "nope"]}}, {"c1", "c10"}),
        ({"exists": {"field": "foil"}}, {f"c{i}" for i in range(1, 11)}),
        ({"term": {"name": "Lightning"}}, set()),  # term queries are not analysed
        ({"term": {"name": "lightning"}}, {"c2", "c4", "c9"}),
        ({"match": {"nosuchfield": "x"}}, set()),
    ],
)
def test_term_level_queries(
    client: OpenSearch, cards: str, query: dict[str, Any], expected: set[str]
) -> None:
    assert set(ids(search(client, cards, {"query": query, "size": 20}))) == expected


def test_bool_query_clauses(client: OpenSearch, cards: str) -> None:
    body = {
        "query": {
            "bool": {
                "must": [{"match": {"description": "mana"}}],
                "filter": [{"term": {"set": "tmp"}}],
                "must_not": [{"term": {"foil": True}}],
            }
        }
    }
    assert ids(search(client, cards, body)) == ["c8"]
    body = {
        "query": {
            "bool": {
                "should": [
                    {"term": {"set": "m10"}},
                    {"term": {"set": "rav"}},
                    {"term": {"rarity": "rare"}},
                ],
                "minimum_should_match": 2,
            }
        }
    }
    assert ids(search(client, cards, body)) == ["c9"]
    body = {"query": {"bool": {"filter": [{"term": {"set": "rav"}}]}}}
    result = search(client, cards, body)
    assert set(ids(result)) == {"c4", "c9"}
    assert all(h["_score"] == 0.0 for h in result["hits"]["hits"])
    body = {"query": {"bool": {"must_not": [{"term": {"set": "lea"}}]}}, "size": 20}
    assert set(ids(search(client, cards, body))) == {"c3", "c4", "c8", "c9", "c10"}


def test_filtered_fuzzy_query(client: OpenSearch, cards: str) -> None:
    body = {
        "query": {
            "bool": {
                "must": {"match": {"name": {"query": "lightnin", "fuzziness": "AUTO"}}},
                "filter": [{"term": {"set": "lea"}}],
            }
        }
    }
    assert ids(search(client, cards, body)) == ["c2"]


def test_sort_from_size_and_search_after(client: OpenSearch, cards: str) -> None:
    body: dict[str, Any] = {"query": {"match_all": {}}, "sort": [{"price": "desc"}], "size": 3}
    result = search(client, cards, body)
    assert ids(result) == ["c1", "c7", "c9"]
    assert result["hits"]["hits"][0]["sort"] == [9999.99]
    assert result["hits"]["hits"][0]["_score"] is None
    assert ids(search(client, cards, {**body, "from": 3})) == ["c6", "c5", "c2"]
    after = result["hits"]["hits"][-1]["sort"]
    assert ids(search(client, cards, {**body, "search_after": after})) == ["c6", "c5", "c2"]
    # Several keys, a keyword tie-breaker and walking every page with search_after.
    body = {"sort": [{"set": "asc"}, {"id": "desc"}], "size": 4}
    seen: list[str] = []
    page = search(client, cards, body)
    while page["hits"]["hits"]:
        seen += ids(page)
        page = search(client, cards, {**body, "search_after": page["hits"]["hits"][-1]["sort"]})
    assert seen == ["c7", "c6", "c5", "c2", "c1", "c10", "c9", "c4", "c8", "c3"]


def test_sort_by_score_then_field(client: OpenSearch, cards: str) -> None:
    body = {"query": {"match": {"description": "mana"}}, "sort": ["_score", {"number": "asc"}]}
    result = search(client, cards, body)
    scores = [h["sort"][0] for h in result["hits"]["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) == 4


def test_sort_on_text_field_is_rejected(client: OpenSearch, cards: str) -> None:
    with pytest.raises(RequestError) as err:
        search(client, cards, {"sort": [{"name": "asc"}]})
    assert err.value.status_code == 400


def test_source_filtering(client: OpenSearch, cards: str) -> None:
    body = {"query": {"ids": {"values": ["c1"]}}, "_source": ["name", "pri*"]}
    assert search(client, cards, body)["hits"]["hits"][0]["_source"] == {
        "name": "Black Lotus",
        "price": 9999.99,
    }
    body = {
        "query": {"ids": {"values": ["c1"]}},
        "_source": {"excludes": ["description", "released_at"]},
    }
    source = search(client, cards, body)["hits"]["hits"][0]["_source"]
    assert "description" not in source and source["set"] == "lea"
    body = {"query": {"ids": {"values": ["c1"]}}, "_source": False}
    assert "_source" not in search(client, cards, body)["hits"]["hits"][0]


def test_track_total_hits(client: OpenSearch, cards: str) -> None:
    result = search(client, cards, {"track_total_hits": 3, "size": 1})
    assert result["hits"]["total"] == {"value": 3, "relation": "gte"}
    assert "total" not in search(client, cards, {"track_total_hits": False})["hits"]
    assert search(client, cards, {"track_total_hits": True})["hits"]["total"]["value"] == 10


def test_facets_terms_min_max_value_count(client: OpenSearch, cards: str) -> None:
    body = {
        "size": 0,
        "query": {"match": {"description": "mana"}},
        "aggs": {
            "sets": {"terms": {"field": "set"}},
            "rarities": {"terms": {"field": "rarity", "size": 1}},
            "cheapest": {"min": {"field": "price"}},
            "dearest": {"max": {"field": "price"}},
            "priced": {"value_count": {"field": "price"}},
        },
    }
    result = search(client, cards, body)
    aggs = result["aggregations"]
    assert result["hits"]["hits"] == []
    assert result["hits"]["total"]["value"] == 4
    # Count descending, ties by key ascending (OpenSearch's order).
    assert aggs["sets"]["buckets"] == [
        {"key": "tmp", "doc_count": 2},
        {"key": "lea", "doc_count": 1},
        {"key": "m10", "doc_count": 1},
    ]
    assert aggs["rarities"]["buckets"] == [{"key": "common", "doc_count": 3}]
    assert aggs["rarities"]["sum_other_doc_count"] == 1
    assert aggs["cheapest"]["value"] == pytest.approx(0.25)
    assert aggs["dearest"]["value"] == pytest.approx(9999.99)
    assert aggs["priced"]["value"] == 4


def test_terms_aggregation_on_text_field_is_rejected(client: OpenSearch, cards: str) -> None:
    with pytest.raises(RequestError) as err:
        search(client, cards, {"aggs": {"n": {"terms": {"field": "name"}}}})
    assert err.value.status_code == 400


def test_count_api(client: OpenSearch, cards: str) -> None:
    assert client.count(index=cards)["count"] == 10
    assert client.count(index=cards, body={"query": {"term": {"set": "lea"}}})["count"] == 5


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"no_such_query": {}}},
        {"query": {"match": {"name": {"query": "x", "bogus": 1}}}},
        {"query": {"bool": {"must": [{"match_all": {}}], "oops": []}}},
        {"from": 9990, "size": 20},
    ],
)
def test_invalid_search_bodies_are_400(
    client: OpenSearch, cards: str, body: dict[str, Any]
) -> None:
    with pytest.raises(RequestError) as err:
        search(client, cards, body)
    assert err.value.status_code == 400


@pytest.mark.usefixtures("engine_only")
@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"query": {"query_string": {"query": "lotus"}}}, "query_string"),
        ({"query": {"match_all": {}}, "highlight": {"fields": {"name": {}}}}, "highlight"),
        ({"aggs": {"h": {"percentiles": {"field": "price"}}}}, "percentiles"),
        ({"query": {"terms": {"set": {"index": "x", "id": "1", "path": "p"}}}}, "terms lookup"),
    ],
)
def test_unsupported_features_are_named_400s(
    client: OpenSearch, cards: str, body: dict[str, Any], named: str
) -> None:
    with pytest.raises(RequestError) as err:
        search(client, cards, body)
    assert err.value.status_code == 400
    assert named in str(err.value.info["error"]["reason"])
    assert "not supported" in err.value.info["error"]["reason"]
