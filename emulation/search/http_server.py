"""The search engine on HTTP: OpenSearch's REST requests framed by the shared engine server
(:mod:`emulation.engine_http`), answered by :func:`emulation.search.http_api.handle`.

Handlers are synchronous and run under the engine lock on the event loop. Bodies over
``MAX_BODY`` (OpenSearch's ``http.max_content_length``, 100 MB) get 413, heads over
``MAX_HEAD`` 431; refusals carry OpenSearch's error body.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httptools

from emulation.engine_http.framing import MAX_HEAD, BadRequestError, Request, Response
from emulation.engine_http.serving import EngineServer, Periodic
from emulation.search.engine import Engine
from emulation.search.errors import SearchError
from emulation.search.http_api import handle
from emulation.search.request import Request as SearchRequest

__all__ = ["MAX_BODY", "MAX_HEAD", "SearchApp", "make_server"]
MAX_BODY = 100 * 1024 * 1024
_HEADERS = b"content-type: application/json; charset=UTF-8\r\n"


class SearchApp:
    """OpenSearch's REST surface for the shared framing."""

    max_body = MAX_BODY
    wanted_headers: frozenset[bytes] = frozenset()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle(self, request: Request) -> Response:
        try:
            parsed = httptools.parse_url(request.url)
        except httptools.HttpParserInvalidURLError:
            # raised through the framing: 400 and the connection is closed
            raise BadRequestError(400, f"invalid request target {request.url[:100]!r}") from None
        query = parsed.query
        params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {}
        path = (parsed.path or b"/").decode("latin-1")
        status, payload = handle(self.engine, SearchRequest(request.method, path, params,
                                                            request.body))  # fmt: skip
        return Response(status, _HEADERS, payload)

    def reject(self, status: int, message: str) -> Response:
        body = SearchError(status, "illegal_argument_exception", message).body()
        return Response(status, _HEADERS, json.dumps(body).encode())


def make_server(engine: Engine, host: str, port: int, refresh_tick: float = 0.025) -> EngineServer:
    """The engine on host:port: refreshes due indexes every ``refresh_tick`` seconds and
    closes the engine (commits every index) when the server stops."""
    return EngineServer(
        SearchApp(engine),
        host,
        port,
        periodic=(Periodic(engine.refresh_due, refresh_tick, "refresh"),),
        on_stopped=engine.close,
    )
