"""The Lambda handler against the search engine: order-safety, idempotence, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.stream_to_search.handler import (
    NO_ANSWER,
    UNREADABLE,
    handler,
    last_failure_status,
    version_of,
)
from sync.stream_to_search.search_http import SearchHttp

from .records import card, put, record, remove

DATA = Path(__file__).parent / "data"


def docs(url: str, index: str) -> dict[str, dict[str, Any]]:
    http = SearchHttp(url)
    http.request("POST", f"/{index}/_refresh")
    body = json.dumps({"size": 1000, "query": {"match_all": {}}}).encode()
    resp = http.request("POST", f"/{index}/_search", body)
    http.close()
    assert resp.status == 200, resp.body
    return {h["_id"]: h["_source"] for h in json.loads(resp.body)["hits"]["hits"]}


def failures(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_insert_modify_remove_in_one_batch(search_url: str, card_index: str) -> None:
    result = handler({"Records": [
        put(10, card("a"), insert=True), put(11, card("b"), insert=True),
        put(12, card("a", name="Mox Pearl")), remove(13, "b"),
    ]})  # fmt: skip
    assert failures(result) == []
    got = docs(search_url, card_index)
    assert set(got) == {"a"}
    assert got["a"]["name"] == "Mox Pearl" and got["a"]["id"] == "a"
    assert "updated_at" not in got["a"] and "Id" not in got["a"]


def test_replay_and_late_retry_never_overwrite_newer(search_url: str, card_index: str) -> None:
    assert failures(handler({"Records": [put(20, card("a", name="old")),
                                         put(21, card("a", name="new"))]})) == []  # fmt: skip
    # The same batch again (a retry), then the old record alone (a late duplicate).
    assert failures(handler({"Records": [put(20, card("a", name="old")),
                                         put(21, card("a", name="new"))]})) == []  # fmt: skip
    assert failures(handler({"Records": [put(20, card("a", name="old"))]})) == []
    assert docs(search_url, card_index)["a"]["name"] == "new"


def test_remove_is_not_undone_by_an_older_modify(search_url: str, card_index: str) -> None:
    assert failures(handler({"Records": [put(30, card("a")), remove(32, "a")]})) == []
    assert failures(handler({"Records": [put(31, card("a", name="stale"))]})) == []
    assert "a" not in docs(search_url, card_index)
    # A newer write after the delete does bring it back (the item was re-created).
    assert failures(handler({"Records": [put(33, card("a", name="again"))]})) == []
    assert docs(search_url, card_index)["a"]["name"] == "again"


def test_remove_of_a_never_indexed_item_succeeds(card_index: str) -> None:
    assert failures(handler({"Records": [remove(40, "ghost")]})) == []


def test_a_document_the_mapping_rejects_is_reported_alone(search_url: str, card_index: str) -> None:
    bad = card("bad", number="not a number")
    result = handler({"Records": [put(50, card("ok1")), put(51, bad), put(52, card("ok2"))]})
    assert failures(result) == ["51"]
    assert {"ok1", "ok2"} <= set(docs(search_url, card_index))
    assert last_failure_status == {"51": 400}  # the poller queues it: a retry cannot fix it


def test_unreadable_record_fails_alone(card_index: str) -> None:
    broken = record("MODIFY", 60, {"Id": "x"})  # no NewImage
    result = handler({"Records": [put(61, card("fine")), broken]})
    assert failures(result) == ["60"]
    assert last_failure_status == {"60": UNREADABLE}


def test_search_engine_down_fails_every_record(card_index: str, monkeypatch: Any) -> None:
    from sync.stream_to_search import handler as mod

    monkeypatch.setenv("OPENSEARCH_URL", "http://127.0.0.1:9")  # discard port: refused
    mod.reset()
    result = handler({"Records": [put(70, card("a")), remove(71, "b")]})
    assert failures(result) == ["70", "71"]
    assert last_failure_status == {"70": NO_ANSWER, "71": NO_ANSWER}  # waited out, not queued


def test_items_the_link_does_not_select_are_skipped(tcgstore: Any, card_index: str,
                                                    search_url: str) -> None:  # fmt: skip
    # cards-to-search selects item type 'card' whose key template is "{Id}": every id.
    assert failures(handler({"Records": [put(80, card("z"))]})) == []
    assert "z" in docs(search_url, card_index)


def test_recorded_event_from_the_local_stream(search_url: str, card_index: str) -> None:
    event = json.loads((DATA / "cards_stream_event.json").read_text())
    assert failures(handler(event)) == []
    got = docs(search_url, card_index)
    assert set(got) == {"c0", "c1"}  # c2 was inserted then removed
    assert got["c1"]["name"] == "Mox Pearl"


def test_versions_fit_opensearch_and_keep_order() -> None:
    assert version_of("111") == 111
    assert version_of("000000000000000000042") == 42  # the local engine's 21-digit form
    small, big = "1100000000017454423009", "1100000000017454423010"
    assert version_of(small) < version_of(big) < 2**63
    assert version_of(str(2**63 - 1)) == 2**63 - 1


# Sequence numbers seen in real DynamoDB Streams records (a prefix, then a zero-padded
# 20-digit counter), in the order they were read from one shard.
REAL_ONE_SHARD = ["6200000000002513011398", "6300000000002513012315"]
REAL_SAMPLES = ["300000000000000499659", "400000000032021070652",
                "4421584500000000017450439091"]  # fmt: skip


def test_real_aws_sequence_numbers_map_exactly_and_in_order() -> None:
    # The counter is kept whole: no two of these collide, none is cut.
    assert [version_of(s) for s in REAL_SAMPLES] == [499659, 32021070652, 17450439091]
    # The prefix going up inside one shard (62 -> 63) does not break the order; the old
    # rule (the low 18 digits) kept it only by luck of the zeros.
    one_shard = [version_of(s) for s in REAL_ONE_SHARD]
    assert one_shard == sorted(one_shard) and one_shard[0] != one_shard[1]
    # The longest form AWS allows (40 digits: a 20-digit prefix, the 20-digit counter).
    forty = "12345678901234567890" + "00000000000123456789"
    assert len(forty) == 40 and version_of(forty) == 123456789
    # A run of consecutive records under any prefix keeps its order and stays distinct.
    base = 10**20 * 98765 + 10**11
    run = [version_of(str(base + i * 7)) for i in range(1000)]
    assert run == sorted(run) and len(set(run)) == 1000


def test_a_counter_that_does_not_fit_fails_the_record(search_url: str, card_index: str) -> None:
    too_big = str(10**20 * 5 + 2**63)  # its counter is over 2^63-1: refused, not cut
    with pytest.raises(ValueError, match="does not fit"):
        version_of(too_big)
    bad = put(1, card("z"))
    bad["dynamodb"]["SequenceNumber"] = too_big
    result = handler({"Records": [bad, put(2, card("y"))]})
    assert failures(result) == [too_big] and last_failure_status[too_big] == UNREADABLE
    assert set(docs(search_url, card_index)) == {"y"}


def test_signing_is_chosen_by_the_url() -> None:
    assert SearchHttp("http://127.0.0.1:9200").sign_as is None
    assert SearchHttp("https://search.example.com").sign_as is None
    aws = SearchHttp("vpc-d-x.us-east-1.es.amazonaws.com")
    assert aws.sign_as == ("es", "us-east-1") and aws.url.startswith("https://")
    assert SearchHttp("https://c.eu-west-1.aoss.amazonaws.com").sign_as == ("aoss", "eu-west-1")
