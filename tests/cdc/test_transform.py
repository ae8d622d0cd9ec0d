"""The declared transform: Debezium events → item operations (pure, no engine)."""

from __future__ import annotations

import pytest

from cdc.transform import SinkSpec, TransformError, convert, operations, version_of

from . import debezium as dbz

R1 = "6f1c2c1e-0000-4000-8000-000000000001"
I1 = "6f1c2c1e-0000-4000-8000-0000000000a1"
V1 = "6f1c2c1e-0000-4000-8000-0000000000b1"
U1 = "6f1c2c1e-0000-4000-8000-0000000000c1"


def test_spec_comes_from_the_declared_link(spec: SinkSpec) -> None:
    assert set(spec.tables) == {"restaurants", "menu_items", "reviews"}
    assert spec.table_env == "DYNAMODB_TABLE_RESTAURANT_READ_MODEL"
    rest = spec.tables["restaurants"]
    assert rest.item == "restaurant"
    assert rest.fields["GSI1PK"].source == "CITY#{city}"
    assert rest.fields["name"].source == "name"  # unlisted: the column of the same name
    assert SinkSpec.from_json(spec.to_json()) == spec


def test_insert_becomes_the_declared_item(spec: SinkSpec) -> None:
    [op] = operations(spec, dbz.change("restaurants", "c", 5000, after=dbz.restaurant(R1)))
    assert op.kind == "put"
    assert op.key == {"PK": f"RESTAURANT#{R1}", "SK": "PROFILE"}
    assert op.item == {
        "PK": f"RESTAURANT#{R1}", "SK": "PROFILE", "restaurant_id": R1, "name": "Ramen Ya",
        "city": "Portland", "cuisine": "japanese", "GSI1PK": "CITY#Portland",
        "GSI1SK": "CUISINE#japanese#Ramen Ya", "updated_at": "2026-01-02T11:00:00.000000Z",
    }  # fmt: skip


def test_types_follow_the_item_declaration(spec: SinkSpec) -> None:
    [menu] = operations(spec, dbz.change("menu_items", "c", 10, after=dbz.menu_item(I1, R1)))
    assert menu.item["price"] == "14.50"  # decimal-string stays exact
    assert menu.key == {"PK": f"RESTAURANT#{R1}", "SK": f"MENU#{I1}"}
    [rev] = operations(spec, dbz.change("reviews", "c", 11, after=dbz.review(V1, R1, U1)))
    assert rev.item["rating"] == 5 and isinstance(rev.item["rating"], int)
    # fixed-width UTC timestamps, so REVIEW# sort keys sort by time
    assert rev.item["created_at"] == "2026-01-03T19:30:00.500000Z"
    assert rev.key["SK"] == f"REVIEW#2026-01-03T19:30:00.500000Z#{V1}"
    assert "title" not in rev.item  # not a field of the item type


def test_null_columns_are_left_out(spec: SinkSpec) -> None:
    row = dbz.review(V1, R1, U1, body=None)
    [op] = operations(spec, dbz.change("reviews", "c", 12, after=row))
    assert "body" not in op.item


def test_delete_uses_the_old_row_for_the_key(spec: SinkSpec) -> None:
    old = dbz.review(V1, R1, U1)
    [op] = operations(spec, dbz.change("reviews", "d", 20, before=old))
    assert op.kind == "delete"
    assert op.key == {"PK": f"RESTAURANT#{R1}", "SK": f"REVIEW#2026-01-03T19:30:00.500000Z#{V1}"}


def test_delete_without_key_columns_says_replica_identity(spec: SinkSpec) -> None:
    with pytest.raises(TransformError, match="REPLICA IDENTITY FULL"):
        operations(spec, dbz.change("reviews", "d", 21, before={"review_id": V1}))


def test_update_that_moves_the_item_deletes_the_old_one(spec: SinkSpec) -> None:
    before = dbz.review(V1, R1, U1)
    after = dbz.review(V1, R1, U1, created_at="2026-02-01T00:00:00Z")
    ops = operations(spec, dbz.change("reviews", "u", 30, before=before, after=after))
    assert [o.kind for o in ops] == ["delete", "put"]
    assert ops[0].key["SK"].startswith("REVIEW#2026-01-03")
    assert ops[1].key["SK"].startswith("REVIEW#2026-02-01")
    assert ops[0].version == ops[1].version


def test_update_in_place_is_one_put(spec: SinkSpec) -> None:
    before = dbz.restaurant(R1)
    after = dbz.restaurant(R1, name="Ramen Ya 2")
    ops = operations(spec, dbz.change("restaurants", "u", 31, before=before, after=after))
    assert [o.kind for o in ops] == ["put"]
    assert ops[0].item["GSI1SK"] == "CUISINE#japanese#Ramen Ya 2"


@pytest.mark.parametrize("event", [None, {"ts_ms": 1}], ids=["tombstone", "heartbeat"])
def test_tombstones_and_heartbeats_do_nothing(spec: SinkSpec, event: dict | None) -> None:
    assert operations(spec, event) == []


def test_a_table_the_link_does_not_map_is_an_error(spec: SinkSpec) -> None:
    with pytest.raises(TransformError, match=r"'users', which link bellyfed-cdc does not map"):
        operations(spec, dbz.change("users", "c", 1, after={"user_id": U1}))


def test_snapshot_reads_rank_below_streamed_changes() -> None:
    snap = version_of(dbz.change("restaurants", "r", 9_000_000))
    streamed = version_of(dbz.change("restaurants", "u", 1_000))
    assert snap < streamed
    assert version_of(dbz.change("restaurants", "u", 999)) < streamed
    # fixed width: a longer LSN does not sort by its length
    assert version_of(dbz.change("t", "u", 0xFFFF)) < version_of(dbz.change("t", "u", 0x10000))


def test_missing_lsn_is_a_transform_error(spec: SinkSpec) -> None:
    event = dbz.change("restaurants", "c", 1, after=dbz.restaurant(R1))
    event["source"].pop("lsn")
    with pytest.raises(TransformError, match=r"source\.lsn"):
        operations(spec, event)


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("12", "integer", 12),
        (3, "number", 3),
        ("2026-01-01T00:00:00+02:00", "timestamp", "2025-12-31T22:00:00.000000Z"),
        (1_767_225_600_000_000, "timestamp", "2026-01-01T00:00:00.000000Z"),
        ("2026-01-01T00:00:10Z", "epoch-seconds", 1_767_225_610),
        ('{"a": 1}', "map", {"a": 1}),
        (["b", "a"], "string-set", {"a", "b"}),
        ([], "string-set", None),
        (True, "boolean", True),
    ],
)
def test_convert(value: object, type_: str, expected: object) -> None:
    assert convert(value, type_, "t.f") == expected


def test_convert_rejects_what_is_not_the_type() -> None:
    with pytest.raises(TransformError, match=r"t\.f: 'abc' is not a valid integer"):
        convert("abc", "integer", "t.f")
    with pytest.raises(TransformError, match="not a valid boolean"):
        convert("yes", "boolean", "t.f")
