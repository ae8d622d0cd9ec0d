"""The key-condition parser and the rules that decide whether a key or index serves it."""

from __future__ import annotations

import pytest

from polystore.topology import key_conditions as kc


def test_parses_dynamodb_begins_with() -> None:
    terms = kc.parse("PK = :pk AND begins_with(SK, 'TRANS#')")
    assert terms == [kc.Term("PK", "=", (":pk",)), kc.Term("SK", "begins_with", ("'TRANS#'",))]


def test_parses_between() -> None:
    assert kc.parse("a = :a AND b BETWEEN :x AND :y")[1] == kc.Term("b", "between", (":x", ":y"))


@pytest.mark.parametrize("bad", ["", "PK =", "PK ~ :x", "begins_with(SK 'x')", "PK = :a OR x = :b"])
def test_rejects_malformed(bad: str) -> None:
    with pytest.raises(kc.ConditionSyntaxError):
        kc.parse(bad)


@pytest.mark.parametrize(
    ("cond", "hash_key", "range_key", "served"),
    [
        ("PK = :p", "PK", "SK", True),
        ("PK = :p AND SK > :s", "PK", "SK", True),
        ("PK = :p AND begins_with(SK, 'A#')", "PK", "SK", True),
        ("SK = :s", "PK", "SK", False),  # no partition key: a scan
        ("PK > :p", "PK", "SK", False),  # partition key takes only '='
        ("PK = :p AND other = :o", "PK", "SK", False),  # not a key attribute
        ("PK = :p AND SK = :s", "PK", None, False),  # table has no sort key
    ],
)
def test_dynamodb_served(cond: str, hash_key: str, range_key: str | None, served: bool) -> None:
    assert (kc.dynamodb_served(kc.parse(cond), hash_key, range_key) is None) is served


@pytest.mark.parametrize(
    ("cond", "columns", "where", "served"),
    [
        ("a = :a", ("a", "b"), None, True),
        ("a = :a AND b = :b", ("a", "b"), None, True),
        ("b = :b AND a = :a", ("a", "b"), None, True),
        ("b = :b", ("a", "b"), None, False),  # not a leading prefix
        ("a = :a AND b > :b", ("a", "b"), None, True),
        ("a = :a AND c > :c", ("a", "b", "c"), None, False),  # range skips b
        ("email = :e AND is_active = true", ("email",), "is_active = TRUE", True),
        ("email = :e AND is_active = true", ("email",), None, False),
    ],
)
def test_columns_served(
    cond: str, columns: tuple[str, ...], where: str | None, served: bool
) -> None:
    assert (kc.columns_served(kc.parse(cond), columns, where) is None) is served
