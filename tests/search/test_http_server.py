"""The engine's own HTTP/1.1 server at the socket level: keep-alive and pipelining,
chunked bodies, ``Expect: 100-continue``, HTTP/1.0, ``HEAD``, malformed and smuggling-shaped
requests, size limits.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from emulation.search.http_server import MAX_BODY, MAX_HEAD

pytestmark = pytest.mark.usefixtures("engine_only")


@pytest.fixture
def sock(search_url: str) -> Iterator[socket.socket]:
    host, port = search_url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    yield conn
    conn.close()


def read_response(conn: socket.socket, buf: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response from ``conn`` (``buf`` keeps bytes of the next one)."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed before a response head; got {bytes(buf)!r}"
        buf += chunk
    end = buf.index(b"\r\n\r\n")
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    del buf[: end + 4]
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(buf) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed in the middle of a body"
        buf += chunk
    body = bytes(buf[:length])
    del buf[:length]
    return status, headers, body


def test_keep_alive_and_pipelined_requests(sock: socket.socket) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    sock.sendall(request * 3)
    buf = bytearray()
    for _ in range(3):
        status, headers, body = read_response(sock, buf)
        assert status == 200 and json.loads(body)["version"]["distribution"] == "opensearch"
        assert headers["content-type"].startswith("application/json")
    sock.sendall(request)  # the connection is still usable
    assert read_response(sock, buf)[0] == 200


def test_chunked_body_and_expect_continue(sock: socket.socket, index_name: str) -> None:
    doc = json.dumps({"name": "Black Lotus"}).encode()
    half = len(doc) // 2
    sock.sendall(
        f"PUT /{index_name}/_doc/c1?refresh=true HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    buf = bytearray()
    assert read_response(sock, buf)[0] == 100
    chunks = b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n" % (
        half,
        doc[:half],
        len(doc) - half,
        doc[half:],
    )
    for i in range(0, len(chunks), 7):  # arrives in small pieces
        sock.sendall(chunks[i : i + 7])
    status, _, body = read_response(sock, buf)
    assert status == 201, body
    sock.sendall(f"GET /{index_name}/_source/c1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, _, body = read_response(sock, buf)
    assert (status, json.loads(body)) == (200, {"name": "Black Lotus"})


def test_head_has_no_body_and_http10_closes(sock: socket.socket, index_name: str) -> None:
    sock.sendall(f"HEAD /{index_name}-missing HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    buf = bytearray()
    status, _, body = read_response(sock, buf)
    assert (status, body) == (404, b"")
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    status, headers, _ = read_response(sock, buf)
    assert status == 200 and headers["connection"] == "close"
    assert sock.recv(1) == b""  # closed by the server


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NONSENSE\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"POST /_bulk HTTP/1.1\r\nContent-Length: -4\r\n\r\n",
        b"POST /_bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\nX-Folded: a\r\n  b\r\n\r\n",  # obs-fold
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",  # space before the colon
        b"GET / HTTP/1.1\r\nX-Ctl: a\x01b\r\n\r\n",  # control character in a value
        b"GET / HTTP/1.1\nHost: x\n\n",  # bare LF line endings
        b"get / HTTP/1.1\r\n\r\n",  # methods are case-sensitive
        b"GET /a b HTTP/1.1\r\n\r\n",  # space in the target
        b"POST /_bulk HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
        b"POST /_bulk HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nab",  # not chunked
        b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_requests_get_400_and_close(sock: socket.socket, request_bytes: bytes) -> None:
    sock.sendall(request_bytes)
    status, headers, body = read_response(sock, bytearray())
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["status"] == 400
    assert sock.recv(1) == b""


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ],
)
def test_content_length_with_transfer_encoding_is_rejected(
    sock: socket.socket, index_name: str, headers: str
) -> None:
    # The classic smuggling shape: a front end that frames by Content-Length would see one
    # request, one that frames by chunked would see a second, hidden one.
    hidden = f"PUT /{index_name} HTTP/1.1\r\nHost: x\r\n\r\n"
    sock.sendall(f"POST /_bulk HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n0\r\n\r\n{hidden}".encode())
    buf = bytearray()
    status, response_headers, body = read_response(sock, buf)
    assert status == 400 and response_headers["connection"] == "close", body
    assert b"Content-Length" in body and b"Transfer-Encoding" in body
    assert sock.recv(1) == b"" and not buf  # the hidden request got no answer
    with socket.create_connection(sock.getpeername(), timeout=10) as probe:
        probe.sendall(f"HEAD /{index_name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert read_response(probe, bytearray())[0] == 404  # ... and was not executed


def test_chunk_extensions_and_trailers_are_accepted(sock: socket.socket, index_name: str) -> None:
    doc = json.dumps({"name": "Ancestral Recall", "set": "LEA"}).encode()
    chunks = b'%x;name="quoted;value";flag\r\n%s\r\n%x;ext=1\r\n%s\r\n0;last\r\n' % (
        10,
        doc[:10],
        len(doc) - 10,
        doc[10:],
    )
    sock.sendall(
        f"PUT /{index_name}/_doc/x1?refresh=true HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunks
        + b"X-Checksum: 1234\r\n\r\n"  # a trailer field
    )
    buf = bytearray()
    status, _, body = read_response(sock, buf)
    assert status == 201, body
    sock.sendall(f"GET /{index_name}/_source/x1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, _, body = read_response(sock, buf)
    assert (status, json.loads(body)) == (200, json.loads(doc))


def test_pipelined_requests_are_answered_in_order(sock: socket.socket, index_name: str) -> None:
    doc = b'{"name": "Time Walk"}'
    requests = [
        f"PUT /{index_name}/_doc/p1?refresh=true HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(doc)}\r\n\r\n".encode()
        + doc,
        f"GET /{index_name}/_source/p1 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"HEAD /{index_name}/_doc/missing HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"DELETE /{index_name}/_doc/p1 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        f"GET /{index_name}/_source/p1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # after the close: never answered
    ]
    sock.sendall(b"".join(requests))
    buf = bytearray()
    responses = [read_response(sock, buf) for _ in range(5)]
    assert [status for status, _, _ in responses] == [201, 200, 404, 200, 404]
    assert json.loads(responses[1][2]) == json.loads(doc)
    assert responses[2][2] == b"" and json.loads(responses[3][2])["result"] == "deleted"
    assert responses[4][1]["connection"] == "close"
    assert sock.recv(1) == b"" and not buf


def test_request_split_across_many_tiny_writes(sock: socket.socket, index_name: str) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one segment per write
    doc = json.dumps({"name": "Mox Pearl", "text": "ü" * 20}).encode()
    request = (
        f"PUT /{index_name}/_doc/s1?refresh=true&timeout=1m HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(doc)}\r\n\r\n".encode()
        + doc
    )
    for i in range(len(request)):
        sock.sendall(request[i : i + 1])
    buf = bytearray()
    status, _, body = read_response(sock, buf)
    assert status == 201, body
    sock.sendall(f"GET /{index_name}/_source/s1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, _, body = read_response(sock, buf)
    assert (status, json.loads(body)) == (200, json.loads(doc))


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /_bulk HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEAD + 1), 431),  # a head never ending
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\n\r\n", 505),
    ],
)
def test_limits_and_versions_get_their_status_and_close(
    sock: socket.socket, request_bytes: bytes, status: int
) -> None:
    sock.sendall(request_bytes)  # the 413 comes before any of the body is sent
    got, headers, body = read_response(sock, bytearray())
    assert (got, headers["connection"]) == (status, "close"), body
    assert json.loads(body)["status"] == status
    assert sock.recv(1) == b""
