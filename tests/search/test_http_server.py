"""The engine's own HTTP/1.1 server at the socket level: keep-alive and pipelining,
chunked bodies, ``Expect: 100-continue``, HTTP/1.0, ``HEAD`` and malformed requests.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

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
    ],
)
def test_malformed_requests_get_400_and_close(sock: socket.socket, request_bytes: bytes) -> None:
    sock.sendall(request_bytes)
    status, headers, body = read_response(sock, bytearray())
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["status"] == 400
    assert sock.recv(1) == b""
