"""A small HTTP/1.1 server for the engine, on asyncio (no framework).

Handlers are synchronous and run under the engine lock, so the server needs no more than
an event loop reading requests and writing responses: keep-alive and pipelining,
``Content-Length`` and ``chunked`` bodies, ``Expect: 100-continue``, ``HEAD``. It replaced
uvicorn + h11, whose per-request cost (about 0.35 ms on the benchmark machine) was more
than the engine's own work for a typical search. Malformed requests get 400 and the
connection is closed; bodies over ``MAX_BODY`` (OpenSearch's ``http.max_content_length``,
100 MB) get 413.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from urllib.parse import parse_qsl

from emulation.search.engine import Engine
from emulation.search.errors import SearchError
from emulation.search.http_api import handle
from emulation.search.request import Request

log = logging.getLogger(__name__)
MAX_HEAD = 64 * 1024
MAX_BODY = 100 * 1024 * 1024
_CONTENT_TYPE = b"content-type: application/json; charset=UTF-8\r\n"


class BadRequestError(ValueError):
    """The bytes on the connection are not an HTTP/1.x request this server accepts."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode()
    return line


_STATUS_LINES: dict[int, bytes] = {}


class _Head:
    """A parsed request line and headers, and how the body is framed."""

    def __init__(self, raw: bytes) -> None:
        lines = raw.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise BadRequestError(400, f"malformed request line {lines[0][:100]!r}")
        self.method = parts[0].decode("ascii", "replace").upper()
        target = parts[1].decode("latin-1")
        self.path, _, self.query = target.partition("?")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name.strip():
                raise BadRequestError(400, f"malformed header line {line[:100]!r}")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        connection = headers.get("connection", "").lower()
        if parts[2] == b"HTTP/1.0":
            self.keep_alive = "keep-alive" in connection
        else:
            self.keep_alive = "close" not in connection
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        try:
            self.length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequestError(400, "invalid Content-Length") from None
        if self.length < 0:
            raise BadRequestError(400, "invalid Content-Length")
        if self.length > MAX_BODY:
            raise BadRequestError(413, f"request body larger than {MAX_BODY} bytes")
        self.expects_continue = headers.get("expect", "").lower() == "100-continue"


class _Chunks:
    """Incremental ``Transfer-Encoding: chunked`` decoding over a growing buffer."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def feed(self, buf: bytearray) -> bytes | None:
        """Consume complete chunks from ``buf``; the body once the last chunk is in."""
        while True:
            eol = buf.find(b"\r\n")
            if eol < 0:
                return None
            try:
                size = int(bytes(buf[:eol]).split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequestError(400, "malformed chunk size") from None
            if size == 0:
                end = buf.find(b"\r\n\r\n", eol)  # after optional trailers
                if end < 0:
                    return None
                del buf[: end + 4]
                return b"".join(self.parts)
            if len(buf) < eol + 2 + size + 2:
                return None
            self.size += size
            if self.size > MAX_BODY:
                raise BadRequestError(413, f"request body larger than {MAX_BODY} bytes")
            self.parts.append(bytes(buf[eol + 2 : eol + 2 + size]))
            del buf[: eol + 2 + size + 2]


class _Connection(asyncio.Protocol):
    def __init__(self, server: SearchServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.head: _Head | None = None
        self.chunks: _Chunks | None = None
        self.transport: asyncio.Transport | None = None
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.closing = True

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        try:
            self._process()
        except BadRequestError as err:
            body = SearchError(err.status, "illegal_argument_exception", str(err)).body()
            self._respond(err.status, json.dumps(body).encode(), head=False, keep_alive=False)

    def _process(self) -> None:
        while not self.closing:
            if self.head is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > MAX_HEAD:
                        raise BadRequestError(431, "request headers too large")
                    return
                if end == 0:  # stray CRLF between pipelined requests
                    del self.buf[:4]
                    continue
                self.head = _Head(bytes(self.buf[:end]))
                del self.buf[: end + 4]
                self.chunks = _Chunks() if self.head.chunked else None
                if self.head.expects_continue and (self.head.length or self.head.chunked):
                    assert self.transport is not None
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            head = self.head
            if self.chunks is not None:
                body = self.chunks.feed(self.buf)
                if body is None:
                    return
            else:
                if len(self.buf) < head.length:
                    return
                body = bytes(self.buf[: head.length])
                del self.buf[: head.length]
            self.head, self.chunks = None, None
            params = dict(parse_qsl(head.query, keep_blank_values=True))
            status, payload = handle(
                self.server.engine, Request(head.method, head.path, params, body)
            )
            self._respond(status, payload, head.method == "HEAD", head.keep_alive)

    def _respond(self, status: int, payload: bytes, head: bool, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        out = [_status_line(status), _CONTENT_TYPE]
        if not head:
            out.append(b"content-length: %d\r\n" % len(payload))
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out.append(b"\r\n")
        if not head:
            out.append(payload)
        self.transport.write(b"".join(out))
        if not keep_alive:
            self.close()


class SearchServer:
    """Serves one engine on host:port until :meth:`request_stop`; closes the engine."""

    def __init__(self, engine: Engine, host: str, port: int, refresh_tick: float = 0.1) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        self.refresh_tick = refresh_tick
        self.connections: set[_Connection] = set()
        self.bound_port: int | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, started: asyncio.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True
        )
        self.bound_port = int(server.sockets[0].getsockname()[1])
        refresher = asyncio.create_task(self._refresh_loop())
        if started is not None:
            started.set()
        try:
            await self._stop.wait()
        finally:
            refresher.cancel()
            server.close()
            for conn in list(self.connections):
                conn.close()
            await server.wait_closed()
            self.engine.close()  # commits every index: nothing acknowledged is lost

    def request_stop(self) -> None:
        """Ask the server to stop (safe from any thread and from signal handlers)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_tick)
            try:
                self.engine.refresh_due()
            except Exception:
                log.exception("periodic refresh failed")
