"""The REST surface: OpenSearch paths routed to the handlers (``http_server`` serves it).

Handlers run synchronously under the engine lock, so the server is a single writer
and readers always see a consistent index, however many clients connect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from emulation.search import handlers_docs as docs
from emulation.search import handlers_indices as idx
from emulation.search import handlers_search as srch
from emulation.search import url_params
from emulation.search.engine import Engine
from emulation.search.errors import SearchError
from emulation.search.request import Request

log = logging.getLogger(__name__)
Handler = Callable[..., tuple[int, Any]]

# (path pattern, {method: handler}); "{i}" = index expression, "{d}" = doc id, "{a}" = alias.
ROUTES: list[tuple[tuple[str, ...], dict[str, Handler]]] = [
    ((), {"GET": idx.root, "HEAD": idx.root}),
    (("_cluster", "health"), {"GET": lambda e, r: idx.health(e, r, None)}),
    (("_cluster", "health", "{i}"), {"GET": idx.health}),
    (
        ("_search",),
        {"GET": lambda e, r: srch.search(e, r, None), "POST": lambda e, r: srch.search(e, r, None)},
    ),
    (
        ("_count",),
        {"GET": lambda e, r: srch.count(e, r, None), "POST": lambda e, r: srch.count(e, r, None)},
    ),
    (
        ("_msearch",),
        {
            "GET": lambda e, r: srch.msearch(e, r, None),
            "POST": lambda e, r: srch.msearch(e, r, None),
        },
    ),
    (("_search", "scroll"), {"GET": srch.scroll, "POST": srch.scroll, "DELETE": srch.clear_scroll}),
    (
        ("_search", "scroll", "{d}"),
        {"GET": srch.scroll, "POST": srch.scroll, "DELETE": srch.clear_scroll},
    ),
    (("_search", "point_in_time"), {"DELETE": srch.delete_pit}),
    (
        ("_search", "point_in_time", "_all"),
        {"DELETE": lambda e, r: srch.delete_pit(e, r, "_all")},
    ),
    (
        ("_bulk",),
        {"POST": lambda e, r: docs.bulk(e, r, None), "PUT": lambda e, r: docs.bulk(e, r, None)},
    ),
    (
        ("_mget",),
        {"GET": lambda e, r: docs.mget(e, r, None), "POST": lambda e, r: docs.mget(e, r, None)},
    ),
    (
        ("_refresh",),
        {"GET": lambda e, r: idx.refresh(e, r, None), "POST": lambda e, r: idx.refresh(e, r, None)},
    ),
    (("_mapping",), {"GET": lambda e, r: idx.get_mapping(e, r, None)}),
    (
        ("_settings",),
        {
            "GET": lambda e, r: idx.get_settings(e, r, None),
            "PUT": lambda e, r: idx.put_settings(e, r, None),
        },
    ),
    (
        ("_aliases",),
        {"POST": idx.update_aliases, "GET": lambda e, r: idx.get_alias(e, r, None, None)},
    ),
    (
        ("_alias",),
        {
            "GET": lambda e, r: idx.get_alias(e, r, None, None),
            "HEAD": lambda e, r: idx.get_alias(e, r, None, None),
        },
    ),
    (
        ("_alias", "{a}"),
        {
            "GET": lambda e, r, a: idx.get_alias(e, r, None, a),
            "HEAD": lambda e, r, a: idx.get_alias(e, r, None, a),
        },
    ),
    (
        ("{i}",),
        {
            "PUT": idx.create_index,
            "DELETE": idx.delete_index,
            "HEAD": idx.index_exists,
            "GET": idx.get_index,
        },
    ),
    (("{i}", "_search"), {"GET": srch.search, "POST": srch.search}),
    (("{i}", "_count"), {"GET": srch.count, "POST": srch.count}),
    (("{i}", "_msearch"), {"GET": srch.msearch, "POST": srch.msearch}),
    (("{i}", "_search", "point_in_time"), {"POST": srch.create_pit}),
    (("{i}", "_update_by_query"), {"POST": docs.update_by_query}),
    (("{i}", "_bulk"), {"POST": docs.bulk, "PUT": docs.bulk}),
    (("{i}", "_mget"), {"GET": docs.mget, "POST": docs.mget}),
    (("{i}", "_refresh"), {"GET": idx.refresh, "POST": idx.refresh}),
    (
        ("{i}", "_mapping"),
        {"GET": idx.get_mapping, "PUT": idx.put_mapping, "POST": idx.put_mapping},
    ),
    (("{i}", "_settings"), {"GET": idx.get_settings, "PUT": idx.put_settings}),
    (("{i}", "_delete_by_query"), {"POST": docs.delete_by_query}),
    (
        ("{i}", "_alias"),
        {
            "GET": lambda e, r, i: idx.get_alias(e, r, i, None),
            "HEAD": lambda e, r, i: idx.get_alias(e, r, i, None),
        },
    ),
    (("{i}", "_aliases"), {"GET": lambda e, r, i: idx.get_alias(e, r, i, None)}),
    (
        ("{i}", "_alias", "{a}"),
        {
            "PUT": idx.put_alias,
            "POST": idx.put_alias,
            "DELETE": idx.delete_alias,
            "GET": idx.get_alias,
            "HEAD": idx.get_alias,
        },
    ),
    (
        ("{i}", "_aliases", "{a}"),
        {
            "PUT": idx.put_alias,
            "POST": idx.put_alias,
            "DELETE": idx.delete_alias,
            "GET": idx.get_alias,
            "HEAD": idx.get_alias,
        },
    ),
    (("{i}", "_doc"), {"POST": lambda e, r, i: docs.index_doc(e, r, i, None)}),
    (
        ("{i}", "_doc", "{d}"),
        {
            "PUT": docs.index_doc,
            "POST": docs.index_doc,
            "GET": docs.get_doc,
            "HEAD": docs.get_doc,
            "DELETE": docs.delete_doc,
        },
    ),
    (
        ("{i}", "_create", "{d}"),
        {
            "PUT": lambda e, r, i, d: docs.index_doc(e, r, i, d, "create"),
            "POST": lambda e, r, i, d: docs.index_doc(e, r, i, d, "create"),
        },
    ),
    (("{i}", "_update", "{d}"), {"POST": docs.update_doc}),
    (("{i}", "_source", "{d}"), {"GET": docs.get_source, "HEAD": docs.get_source}),
]


# The OpenSearch API a (path pattern, method) serves, for its URL parameter list.
_API_BY_SEGMENT = {
    "_search": "search",
    "_count": "count",
    "_bulk": "bulk",
    "_mget": "mget",
    "_refresh": "indices.refresh",
    "_settings": "indices.get_settings",
    "_delete_by_query": "delete_by_query",
    "_update_by_query": "update_by_query",
    "_update": "update",
    "_create": "index",
    "_source": "get",
    "_msearch": "msearch",
    "scroll": "scroll",
    "health": "cluster.health",
    "point_in_time": "pit",
}


def api_name(pattern: tuple[str, ...], method: str) -> str | None:
    """The OpenSearch API name of a route (``None``: no parameter check)."""
    literals = [p for p in pattern if not p.startswith("{")]
    if not pattern:
        return "info"
    if pattern == ("{i}",):
        return {
            "PUT": "indices.create",
            "DELETE": "indices.delete",
            "HEAD": "indices.get",
            "GET": "indices.get",
        }[method]
    last = literals[-1]
    if last == "_doc":
        return {"GET": "get", "HEAD": "get", "DELETE": "delete"}.get(method, "index")
    if last == "_settings":
        return "indices.get_settings" if method == "GET" else "indices.put_settings"
    if last == "_mapping":
        return "indices.get_mapping" if method == "GET" else "indices.put_mapping"
    if last in ("_alias", "_aliases"):
        return "indices.get_alias" if method in ("GET", "HEAD") else "indices.aliases"
    if last == "scroll" and method == "DELETE":
        return "clear_scroll"
    return _API_BY_SEGMENT.get(last)


_ROUTES_BY_LENGTH: dict[int, list[tuple[tuple[str, ...], dict[str, Handler]]]] = {}
for _route in ROUTES:  # only patterns of the path's length can match it
    _ROUTES_BY_LENGTH.setdefault(len(_route[0]), []).append(_route)


def _match(pattern: tuple[str, ...], parts: list[str]) -> list[str] | None:
    if len(pattern) != len(parts):
        return None
    args: list[str] = []
    for want, got in zip(pattern, parts, strict=True):
        if want.startswith("{"):
            if want == "{i}" and got.startswith("_") and got not in ("_all",):
                return None
            args.append(got)
        elif want != got:
            return None
    return args


def dispatch(engine: Engine, req: Request) -> tuple[int, Any]:
    parts = [unquote(p) for p in req.path.strip("/").split("/") if p]
    allowed: list[str] = []
    for pattern, methods in _ROUTES_BY_LENGTH.get(len(parts), ()):
        args = _match(pattern, parts)
        if args is None:
            continue
        handler = methods.get(req.method)
        if handler is None:
            allowed.extend(methods)
            continue
        url_params.check(api_name(pattern, req.method), req.path, req.params)
        with engine.locked():
            return handler(engine, req, *args)
    if allowed:
        return 405, {
            "error": f"Incorrect HTTP method for uri [{req.path}] and method "
            f"[{req.method}], allowed: {sorted(set(allowed))}",
            "status": 405,
        }
    raise SearchError(
        400,
        "illegal_argument_exception",
        f"no handler found for uri [{req.path}] and method [{req.method}]; this "
        "API is not supported by the polystore embedded search engine",
    )


def handle(engine: Engine, req: Request) -> tuple[int, bytes]:
    try:
        status, body = dispatch(engine, req)
    except SearchError as err:
        status, body = err.status, err.body()
    except ValueError as err:  # tantivy reports bad input (e.g. an invalid regex) this way
        status, body = 400, SearchError(400, "illegal_argument_exception", str(err)).body()
    except BaseException as err:  # pyo3 panics derive from BaseException
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        log.exception("search engine failure on %s %s", req.method, req.path)
        status, body = 500, SearchError(500, "exception", f"{type(err).__name__}: {err}").body()
    if req.method == "HEAD":
        return status, b""
    if isinstance(body, bytes):  # already encoded (``_bulk``)
        return status, body
    return status, json.dumps(body, separators=(",", ":")).encode()
