"""HTTP/1.1 framing for our engines: asyncio around llhttp (``httptools``).

Both engines (DynamoDB, search) answer short synchronous handlers, so the server needs no
more than an event loop reading requests and writing responses: keep-alive and
pipelining, ``Content-Length`` and ``chunked`` bodies, ``Expect: 100-continue``, ``HEAD``.
Handlers run inline on the loop, one request at a time per connection: each engine has
one writer (SQLite, the index writer) and each operation is short, so a thread hop would
cost more than most operations. It replaced uvicorn + h11, whose per-request cost (about
0.35 ms) was more than the engines' own work. llhttp runs in its strict mode: it rejects
what request smuggling relies on (Content-Length with Transfer-Encoding, duplicate
Content-Length, obs-fold, bare LF). Malformed requests get 400 and the connection is
closed; bodies over the app's ``max_body`` get 413, heads over ``MAX_HEAD`` 431.

An engine plugs in an :class:`App`: which headers it reads, how it answers a request and
how it words a rejection (each service has its own error body and response headers).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol, cast

import httptools

if TYPE_CHECKING:
    from emulation.engine_http.serving import EngineServer

MAX_HEAD = 64 * 1024


@dataclass(slots=True)
class Request:
    """One complete request; ``headers`` holds only the names the app asked for (lower
    case), ``url`` is the raw request target."""

    method: str
    url: bytes
    headers: dict[bytes, bytes]
    body: bytes


@dataclass(slots=True)
class Response:
    """``headers`` is the app's header block (``name: value\\r\\n`` lines, content type
    included); the framing adds the status line, ``content-length`` and ``connection``."""

    status: int
    headers: bytes
    payload: bytes


class App(Protocol):
    """What an engine gives the framing."""

    max_body: int
    wanted_headers: frozenset[bytes]  # lower-case names copied into Request.headers

    def handle(self, request: Request) -> Response: ...

    def reject(self, status: int, message: str) -> Response:
        """The answer to a request the framing refused (malformed, too large)."""
        ...


class BadRequestError(ValueError):
    """The bytes on the connection are not an HTTP/1.x request this server accepts."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


_STATUS_LINES: dict[int, bytes] = {}


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {phrase}\r\n".encode()
    return line


class Connection(asyncio.Protocol):
    """One client connection: llhttp frames the requests, each one is handled as soon as
    its message is complete, so pipelined responses go out in order."""

    def __init__(self, server: EngineServer) -> None:
        self.server = server
        self.app = server.app
        self.wanted = server.app.wanted_headers
        self.max_body = server.app.max_body
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.closing = False
        self.in_head = False
        self.head_size = 0
        self._reset()

    def _reset(self) -> None:
        self.url: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.body_size = 0
        self.has_body = False
        self.expects_continue = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a TCP transport (uvloop's does not subclass asyncio.Transport, but is one)
        self.transport = cast(asyncio.Transport, transport)
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
        self._respond(self.app.reject(err.status, str(err)), head=False, keep_alive=False)

    # httptools callbacks, in the order llhttp calls them for each request

    def on_message_begin(self) -> None:
        self.in_head, self.head_size = True, 0

    def on_url(self, part: bytes) -> None:
        self.url.append(part)  # may arrive in pieces

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp has validated names and values, Content-Length digits, and that
        # Content-Length and Transfer-Encoding are not both present (smuggling)
        name = name.lower()
        if name in self.wanted:
            self.headers[name] = value
        if name == b"content-length":
            length = int(value)
            if length > self.max_body:  # refused before the client sends it
                raise BadRequestError(413, f"request body larger than {self.max_body} bytes")
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
        if self.body_size > self.max_body:  # chunked: the size is known only as it arrives
            raise BadRequestError(413, f"request body larger than {self.max_body} bytes")
        self.body.append(part)

    def on_message_complete(self) -> None:
        url, headers = b"".join(self.url), self.headers
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        self._reset()
        if self.closing:  # a request pipelined after one that closed the connection
            return
        method = self.parser.get_method().decode("ascii")
        response = self.app.handle(Request(method, url, headers, body))
        self._respond(response, method == "HEAD", self.parser.should_keep_alive())

    def _respond(self, response: Response, head: bool, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        out = [status_line(response.status), response.headers]
        if not head:
            out.append(b"content-length: %d\r\n" % len(response.payload))
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out.append(b"\r\n")
        if not head:
            out.append(response.payload)
        self.transport.write(b"".join(out))
        if not keep_alive:
            self.close()
