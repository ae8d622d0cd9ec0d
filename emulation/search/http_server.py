"""A small HTTP/1.1 server for the engine: asyncio framing around llhttp (``httptools``).

Handlers are synchronous and run under the engine lock, so the server needs no more than
an event loop reading requests and writing responses: keep-alive and pipelining,
``Content-Length`` and ``chunked`` bodies, ``Expect: 100-continue``, ``HEAD``. It replaced
uvicorn + h11, whose per-request cost (about 0.35 ms on the benchmark machine) was more
than the engine's own work for a typical search. Request parsing is llhttp's, the parser
uvicorn and Node.js use, in its strict mode: it rejects what request smuggling relies on
(Content-Length with Transfer-Encoding, duplicate Content-Length, obs-fold, bare LF).
Malformed requests get 400 and the connection is closed; bodies over ``MAX_BODY``
(OpenSearch's ``http.max_content_length``, 100 MB) get 413, heads over ``MAX_HEAD`` 431.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from urllib.parse import parse_qsl

import httptools

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


class _Connection(asyncio.Protocol):
    """One client connection: llhttp (``httptools``) frames the requests, each one is
    handled as soon as its message is complete, so pipelined responses go out in order."""

    def __init__(self, server: SearchServer) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.closing = False
        self.in_head = False
        self.head_size = 0
        self._reset()

    def _reset(self) -> None:
        self.url: list[bytes] = []
        self.body: list[bytes] = []
        self.body_size = 0
        self.has_body = False
        self.expects_continue = False

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
        if self.closing:
            return
        try:
            self.parser.feed_data(data)
            if self.in_head:  # llhttp buffers an unfinished head without limit: bound it
                self.head_size += len(data)
                if self.head_size > MAX_HEAD:
                    raise BadRequestError(431, f"request head larger than {MAX_HEAD} bytes")
        except httptools.HttpParserCallbackError as err:
            cause = err.__context__  # what a callback below raised
            if not isinstance(cause, BadRequestError):
                raise (cause or err) from None
            self._reject(cause)
        except httptools.HttpParserUpgrade:
            self._reject(BadRequestError(400, "protocol upgrades and CONNECT are not supported"))
        except httptools.HttpParserError as err:
            self._reject(BadRequestError(400, f"malformed HTTP request: {err}"))
        except BadRequestError as err:
            self._reject(err)

    def _reject(self, err: BadRequestError) -> None:
        body = SearchError(err.status, "illegal_argument_exception", str(err)).body()
        self._respond(err.status, json.dumps(body).encode(), head=False, keep_alive=False)

    # httptools callbacks, in the order llhttp calls them for each request

    def on_message_begin(self) -> None:
        self.in_head, self.head_size = True, 0

    def on_url(self, part: bytes) -> None:
        self.url.append(part)  # may arrive in pieces

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp has validated names and values, Content-Length digits, and that
        # Content-Length and Transfer-Encoding are not both present (smuggling)
        name = name.lower()
        if name == b"content-length":
            length = int(value)
            if length > MAX_BODY:  # refused before the client sends it
                raise BadRequestError(413, f"request body larger than {MAX_BODY} bytes")
            self.has_body = length > 0
        elif name == b"transfer-encoding":  # llhttp accepts it only with chunked last
            self.has_body = True
        elif name == b"expect":
            self.expects_continue = value.lower() == b"100-continue"

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.closing:
            return
        version = self.parser.get_http_version()
        if version not in ("1.1", "1.0"):
            raise BadRequestError(505, f"HTTP/{version} is not supported; use HTTP/1.1")
        if self.parser.should_upgrade():  # else llhttp would complete it first, then stop
            raise BadRequestError(400, "protocol upgrades and CONNECT are not supported")
        if self.expects_continue and self.has_body:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, part: bytes) -> None:
        self.body_size += len(part)
        if self.body_size > MAX_BODY:  # chunked: the size is known only as it arrives
            raise BadRequestError(413, f"request body larger than {MAX_BODY} bytes")
        self.body.append(part)

    def on_message_complete(self) -> None:
        url, body = b"".join(self.url), b"".join(self.body)
        self._reset()
        if self.closing:  # a request pipelined after one that closed the connection
            return
        try:
            parsed = httptools.parse_url(url)
        except httptools.HttpParserInvalidURLError:
            raise BadRequestError(400, f"invalid request target {url[:100]!r}") from None
        query = parsed.query
        params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {}
        method = self.parser.get_method().decode("ascii")
        request = Request(method, (parsed.path or b"/").decode("latin-1"), params, body)
        status, payload = handle(self.server.engine, request)
        self._respond(status, payload, method == "HEAD", self.parser.should_keep_alive())

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

    def __init__(self, engine: Engine, host: str, port: int, refresh_tick: float = 0.025) -> None:
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
