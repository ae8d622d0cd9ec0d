"""Loader pieces without engines: COPY text encoding, BatchWriteItem retries, wire shapes."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest

from seed import load_dynamodb
from seed.dynamo_generate import from_wire, item_to_wire
from seed.pg_copy import encode
from seed.pg_model import ColumnSpec, TableSpec


def _col(name: str, base: str, array: bool = False) -> ColumnSpec:
    return ColumnSpec(name, base, None, None, array, True, None, False)


def test_copy_text_escapes_what_copy_would_misread() -> None:
    cols = {c.name: c for c in (_col("t", "text"), _col("j", "jsonb"), _col("b", "bytea"),
                                 _col("a", "text", array=True), _col("f", "boolean"),
                                 _col("ts", "timestamptz"), _col("u", "uuid"),
                                 _col("n", "numeric"))}  # fmt: skip
    spec = TableSpec("s", "x", cols, (), [], [], [])
    row = {"t": "a\tb\nc\\d", "j": {"k": "v\n"}, "b": b"\x00\xff", "a": ['x "y"', "z"],
           "f": True, "ts": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
           "u": uuid.UUID(int=1), "n": Decimal("1.50")}  # fmt: skip
    (chunk,) = encode(spec, [row, dict.fromkeys(cols)])
    first, second, end = chunk.decode().split("\n")
    assert end == ""
    assert first.split("\t") == [
        "a\\tb\\nc\\\\d", '{"k":"v\\\\n"}', "\\\\x00ff", '{"x \\\\"y\\\\"","z"}', "t",
        "2025-01-02T03:04:05+00:00", "00000000-0000-0000-0000-000000000001", "1.50"]  # fmt: skip
    assert second == "\t".join(["\\N"] * len(cols))


class FlakyTable:
    """Returns part of every first batch as UnprocessedItems, as a throttled table does."""

    def __init__(self, fail_forever: bool = False) -> None:
        self.calls = 0
        self.fail_forever = fail_forever
        self.written: list[Any] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        self.calls += 1
        ((table, reqs),) = RequestItems.items()
        if self.fail_forever or self.calls == 1:
            keep, back = reqs[: len(reqs) // 2], reqs[len(reqs) // 2 :]
            if self.fail_forever:
                keep, back = [], reqs
            self.written += keep
            return {"UnprocessedItems": {table: back}}
        self.written += reqs
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_retried_until_written() -> None:
    table = FlakyTable()
    reqs = [{"PutRequest": {"Item": {"k": {"S": str(i)}}}} for i in range(25)]
    advanced: list[int] = []
    load_dynamodb._write(table, "t", reqs, advanced.append, random.Random(0))
    assert table.calls == 2 and sorted(map(str, table.written)) == sorted(map(str, reqs))
    assert sum(advanced) == 25


def test_retries_stop_at_the_deadline_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_dynamodb, "DEADLINE_S", 0.2)
    reqs = [{"PutRequest": {"Item": {"k": {"S": "1"}}}}]
    with pytest.raises(load_dynamodb.Unprocessed, match="t: 1 items still unprocessed"):
        load_dynamodb._write(FlakyTable(fail_forever=True), "t", reqs, lambda n: None,
                             random.Random(0))  # fmt: skip


def test_items_round_trip_through_the_wire_shape() -> None:
    item = {"PK": "u", "n": Decimal("2"), "ok": False, "m": {"a": 1, "b": None}, "l": ["x"],
            "ss": {"b", "a"}, "gone": None}  # fmt: skip
    wire = item_to_wire(item)
    assert "gone" not in wire and wire["ss"] == {"SS": ["a", "b"]}
    back = {k: from_wire(v) for k, v in wire.items()}
    assert back == {"PK": "u", "n": Decimal("2"), "ok": False, "m": {"a": Decimal("1")},
                    "l": ["x"], "ss": {"a", "b"}}  # fmt: skip
