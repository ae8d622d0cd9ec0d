"""Units of the engine that clients cannot see directly: key byte order, number rules,
the HTTP framing."""

from __future__ import annotations

import decimal
import http.client
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulation.dynamodb import api
from emulation.dynamodb import values as V
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.errors import DynamoError
from tests.dynamodb.conftest import EngineProcess

# sign, up to 38 significant digits, an exponent around DynamoDB's range (some outside it)
numbers = st.builds(
    lambda negative, digits, exponent: decimal.Decimal(
        f"{'-' if negative else ''}{digits}E{exponent}"
    ),
    st.booleans(),
    st.integers(0, 10**38 - 1),
    st.integers(-170, 130),
)


@given(numbers, numbers)
def test_number_key_bytes_sort_like_the_numbers(a: decimal.Decimal, b: decimal.Decimal) -> None:
    try:
        x, y = V.parse_number(str(a)), V.parse_number(str(b))
    except DynamoError:
        return
    ka, kb = V.number_bytes(x), V.number_bytes(y)
    assert (ka < kb) == (x < y)
    assert (ka == kb) == (x == y)


@given(st.text(), st.text())
def test_string_key_bytes_sort_by_utf8(a: str, b: str) -> None:
    assert (V.key_bytes({"S": a}) < V.key_bytes({"S": b})) == (a.encode() < b.encode())


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("01.500", "1.5"),
        ("1E+2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("-1.0e-3", "-0.001"),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
    ],
)
def test_number_normalisation(text: str, canonical: str) -> None:
    assert V.normalise_number(text) == canonical


@pytest.mark.parametrize("text", ["abc", "1_000", " 1", "NaN", "Infinity", "1e126", "1e-131"])
def test_numbers_dynamodb_refuses(text: str) -> None:
    with pytest.raises(DynamoError) as exc:
        V.normalise_number(text)
    assert exc.value.type == "ValidationException"


def test_item_size_follows_the_documented_accounting() -> None:
    item = {"name": {"S": "abc"}, "n": {"N": "123"}, "flag": {"BOOL": True},
            "m": {"M": {"k": {"S": "v"}}}, "l": {"L": [{"NULL": True}]}}  # fmt: skip
    # name 4+3, n 1+3 (3 digits: 2 bytes + 1), flag 4+1, m 1+(3+1+1+1), l 1+(3+1+1)
    assert V.item_size(item) == 7 + 4 + 5 + 7 + 6


def post(engine: EngineProcess, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", engine.port, timeout=10)
    conn.request(
        "POST",
        "/",
        body=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    resp = conn.getresponse()
    data = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, data


def test_answers_carry_crc32(engine: EngineProcess) -> None:
    status, headers, data = post(engine, "DynamoDB_20120810.ListTables", b"{}")
    assert status == 200
    assert int(headers["x-amz-crc32"]) == zlib.crc32(data)
    assert headers["x-amzn-requestid"]


def test_unknown_operation_is_a_clear_400(engine: EngineProcess) -> None:
    status, _, data = post(engine, "DynamoDB_20120810.ExecuteStatement", b"{}")
    body = json.loads(data)
    assert status == 400
    assert body["__type"].endswith("#UnknownOperationException")
    assert "ExecuteStatement" in body["message"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_malformed_body_is_a_400(engine: EngineProcess, body: bytes) -> None:
    status, _, data = post(engine, "DynamoDB_20120810.PutItem", body)
    assert status == 400
    assert json.loads(data)["__type"].endswith("#SerializationException")


@pytest.mark.parametrize(
    "body",
    [
        {"TableName": 5},
        {"TableName": "abc", "Item": []},
        {"TableName": "abc", "Item": {"a": 1}},
        {"RequestItems": {"abc": "x"}},
    ],
)
def test_wrong_member_types_are_400_not_500(engine: EngineProcess, body: dict[str, object]) -> None:
    for op in ("PutItem", "BatchWriteItem", "CreateTable", "Query"):
        status, _, _ = post(engine, f"DynamoDB_20120810.{op}", json.dumps(body).encode())
        assert status == 400, op


def test_malformed_http_is_refused(engine: EngineProcess) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")


def test_a_second_engine_on_the_same_data_dir_is_refused(engine: EngineProcess) -> None:
    import subprocess
    import sys

    from tests.dynamodb.conftest import free_port

    done = subprocess.run(
        [sys.executable, "-m", "emulation.dynamodb", "--port", str(free_port()),
         "--data-dir", str(engine.data_dir)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert "already served by another polystore DynamoDB engine" in done.stderr


attribute_values = st.recursive(
    st.one_of(
        st.text(max_size=20).map(lambda s: {"S": s}),
        numbers.map(lambda d: {"N": str(d)}),
        st.binary(max_size=10).map(lambda b: {"B": __import__("base64").b64encode(b).decode()}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.sets(st.text(max_size=5), min_size=1, max_size=4).map(lambda s: {"SS": sorted(s)}),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: {"L": xs}),
        st.dictionaries(st.text(max_size=5), children, max_size=4).map(lambda m: {"M": m}),
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), attribute_values, max_size=6))
def test_one_pass_size_equals_the_documented_size(item: dict[str, object]) -> None:
    try:
        checked, size = V.check_item_sized(item)
    except DynamoError:
        return  # numbers outside DynamoDB's range
    assert size == V.item_size(checked)


@given(st.one_of(st.integers(-(10**40), 10**40).map(str), st.from_regex(r"-?0*[0-9]{1,3}")))
def test_integer_fast_path_equals_the_full_normalisation(text: str) -> None:
    try:
        full = V.format_number(V.parse_number(text))
    except DynamoError:
        with pytest.raises(DynamoError):
            V.normalise_number(text)
        return
    assert V.normalise_number(text) == full


def test_puts_held_for_the_commit_are_seen_by_reads_and_deletes(tmp_path: Path) -> None:
    """Item puts in a transaction reach SQLite in one statement at the end; every read
    and delete in between must still see them, in order."""
    engine = Engine(tmp_path)
    try:
        api.handle(engine, "DynamoDB_20120810.CreateTable", json.dumps({
            "TableName": "units", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        }).encode())  # fmt: skip
        t = engine.store.tables["units"]
        a, b = {"pk": {"S": "a"}}, {"pk": {"S": "b"}}
        with engine.store.tx():
            engine.change(t, t.locate(a), None, a)
            assert engine.load(t, t.locate(a)) is not None  # read after a held put
            engine.change(t, t.locate(b), None, b)
            held = (b, V.item_size(b), V.compact_json(b))  # as load would give it, unread
            engine.change(t, t.locate(b), held, None)  # deleted while its put is held
            assert set(engine.store.get_many(t, [t.locate(a), t.locate(b)])) == {t.locate(a)}
        assert engine.load(t, t.locate(a)) is not None
        assert engine.load(t, t.locate(b)) is None
        with pytest.raises(RuntimeError), engine.store.tx():  # a failed one leaves nothing
            engine.change(t, t.locate(b), None, b)
            raise RuntimeError("abort")
        assert engine.load(t, t.locate(b)) is None
        assert engine.store.stats[str(t.tid)][0] == 1
    finally:
        engine.close()
