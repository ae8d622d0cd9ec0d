"""HTTP/1.1 for the engine: asyncio + llhttp (``httptools``), keep-alive, one request at
a time per connection, handlers run inline on the event loop.

DynamoDB clients POST a JSON body with ``X-Amz-Target``; the answer carries
``x-amz-crc32`` (boto3 checks it) and ``x-amzn-RequestId``. Running handlers inline is
deliberate: SQLite has one writer, each operation is short, and a thread hop would cost
more than most operations. Malformed HTTP gets 400 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from collections.abc import Callable

import httptools

log = logging.getLogger(__name__)
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024 + 64 * 1024  # BatchGetItem answers are 16 MB; requests are smaller
Handler = Callable[[str, bytes], tuple[int, bytes]]
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    413: b"Payload Too Large",
    500: b"Internal Server Error",
}


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class _Connection(asyncio.Protocol):
    def __init__(self, server: DynamoServer) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.target = ""
        self.body: list[bytes] = []
        self.size = 0
        self.head = 0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.closed = True

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as err:
            cause = err.__context__
            if isinstance(cause, _Reject):
                self._reject(cause)
            else:
                raise
        except httptools.HttpParserError as err:
            self._reject(_Reject(400, f"malformed HTTP request: {err}"))
        except _Reject as err:
            self._reject(err)

    def _reject(self, err: _Reject) -> None:
        body = json.dumps({"__type": "com.amazon.coral.service#SerializationException",
                           "message": str(err)}).encode()  # fmt: skip
        self._send(err.status, body, keep_alive=False)

    def on_message_begin(self) -> None:
        self.target, self.body, self.size, self.head = "", [], 0, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head += len(name) + len(value)
        if self.head > MAX_HEAD:
            raise _Reject(431, "request head too large")
        lname = name.lower()
        if lname == b"x-amz-target":
            self.target = value.decode("latin-1")
        elif lname == b"content-length" and int(value) > MAX_BODY:
            raise _Reject(413, "request body too large")
        elif lname == b"expect" and value.lower() == b"100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, part: bytes) -> None:
        self.size += len(part)
        if self.size > MAX_BODY:
            raise _Reject(413, "request body too large")
        self.body.append(part)

    def on_message_complete(self) -> None:
        if self.closed:
            return
        status, payload = self.server.handler(self.target, b"".join(self.body))
        self._send(status, payload, self.parser.should_keep_alive())

    def _send(self, status: int, payload: bytes, keep_alive: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: application/x-amz-json-1.0\r\n"
            b"content-length: %d\r\nx-amz-crc32: %d\r\nx-amzn-requestid: %s\r\n"
            % (status, _REASONS.get(status, b"Error"), len(payload), zlib.crc32(payload),
               uuid.uuid4().hex.encode())
        )  # fmt: skip
        if not keep_alive:
            head += b"connection: close\r\n"
        self.transport.write(head + b"\r\n" + payload)
        if not keep_alive:
            self.closed = True
            self.transport.close()


class DynamoServer:
    """Serves ``handler`` on host:port until :meth:`request_stop`; ``tick`` runs every
    ``tick_s`` seconds on the loop (TTL sweeps, stream trimming)."""

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        tick: Callable[[], None] | None = None,
        tick_s: float = 1.0,
    ) -> None:
        self.handler, self.host, self.port = handler, host, port
        self.tick, self.tick_s = tick, tick_s
        self.connections: set[_Connection] = set()
        self.bound_port: int | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, started: asyncio.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _Connection(self), self.host, self.port,
                                                reuse_address=True)  # fmt: skip
        self.bound_port = int(server.sockets[0].getsockname()[1])
        ticker = asyncio.create_task(self._ticks())
        if started is not None:
            started.set()
        try:
            await self._stop.wait()
        finally:
            ticker.cancel()
            server.close()
            for conn in list(self.connections):
                if conn.transport is not None:
                    conn.transport.close()
            await server.wait_closed()

    def request_stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _ticks(self) -> None:
        while self.tick is not None:
            await asyncio.sleep(self.tick_s)
            try:
                self.tick()
            except Exception:
                log.exception("periodic task failed")
