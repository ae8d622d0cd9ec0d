"""Read endpoints generated from the access patterns a service's stores declare.

Each pattern is served at its declared ``route`` (``GET /restaurants/{id}``) or at
``GET /queries/<pattern>``. Patterns may share a route: a request is served by the
one whose parameters are exactly those given (``?city=`` vs ``?city=&cuisine=``).
Lists answer ``{"items": [...], "next": cursor|null}``; a pattern that fixes a whole
key answers the item itself, or 404. Unknown query parameters are a 422, so a typo
never silently widens a query.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from polystore.topology import key_conditions as kc
from polystore.topology.model import AccessPattern, PostgresStore, System
from services.errors import BadParameter, NotFound
from services.patterns import Context, Page, executor

PAGING = ("cursor", "limit")


def served_patterns(system: System, service: str) -> dict[str, AccessPattern]:
    own = system.stores_of(service)
    return {n: ap for n, ap in sorted(system.access_patterns.items()) if ap.store in own}


def parameters(ap: AccessPattern) -> list[str]:
    extra = ["q", *ap.filter_fields] if ap.operation == "search" else []
    return ap.placeholders() + [p for p in extra if p not in ap.placeholders()]


def required(ap: AccessPattern) -> set[str]:
    return set(ap.placeholders()) | ({"q"} if ap.operation == "search" else set())


def is_single(system: System, ap: AccessPattern) -> bool:
    """Whether the pattern fixes a whole key: it answers one item (or 404), not a list."""
    if ap.operation == "get":
        return True
    store = system.stores[ap.store]
    if isinstance(store, PostgresStore) and ap.operation == "select" and ap.table and \
            ap.index in (None, "primary key") and ap.key_condition:  # fmt: skip
        fixed = {t.attribute for t in kc.parse(ap.key_condition) if t.op == "="}
        pk = system.schema(ap.store).tables[ap.table].primary_key
        return bool(pk) and set(pk) <= fixed
    return False


def _openapi(system: System, route: str, group: list[tuple[str, AccessPattern]]
             ) -> dict[str, Any]:  # fmt: skip
    path_params = set(group[0][1].path_params(group[0][0]))
    names: dict[str, None] = {}
    for _, ap in group:
        for p in parameters(ap):
            names.setdefault(p, None)
    params = [{"name": p, "in": "path" if p in path_params else "query",
               "required": p in path_params, "schema": {"type": "string", "minLength": 1}}
              for p in names]  # fmt: skip
    params += [{"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
               {"name": "limit", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]  # fmt: skip
    doc = "; ".join(f"{n}: {ap.description or ap.key_condition or 'listing'}" for n, ap in group)
    single = all(is_single(system, ap) for _, ap in group)
    ok = ({"type": "object"} if single else {"type": "object", "required": ["items", "next"],
          "properties": {"items": {"type": "array", "items": {"type": "object"}},
                         "next": {"type": ["string", "null"]}}})  # fmt: skip
    return {"parameters": params, "description": doc,
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": ok}}},
                "404": {"description": "Not found"},
                "422": {"description": "Invalid or unknown parameter"}}}  # fmt: skip


def install(app: FastAPI, ctx: Context, emit: Any) -> list[str]:
    """Add one endpoint per route; return the routes added."""
    system, service = ctx.config.system, ctx.config.service
    groups: dict[str, list[tuple[str, AccessPattern]]] = defaultdict(list)
    for name, ap in served_patterns(system, service).items():
        groups[ap.http_route(name)].append((name, ap))
    # Static paths before parameterised ones: /cards/search must not be /cards/{id}.
    for route, group in sorted(groups.items(), key=lambda kv: (kv[0].count("{"), kv[0])):
        _, path = route.split(" ", 1)
        app.add_api_route(path, _handler(ctx, group, emit), methods=["GET"],
                          name=" / ".join(n for n, _ in group), response_model=None,
                          openapi_extra=_openapi(system, route, group),
                          tags=["access patterns"])  # fmt: skip
    return list(groups)


def _handler(ctx: Context, group: list[tuple[str, AccessPattern]], emit: Any) -> Any:
    system = ctx.config.system
    known = {p for _, ap in group for p in parameters(ap)} | set(PAGING)

    async def handle(request: Request) -> Any:
        given = {k: v for k, v in request.query_params.items()}
        given |= dict(request.path_params)
        unknown = sorted(set(given) - known)
        if unknown:
            raise BadParameter(f"unknown parameter {unknown[0]!r} (this endpoint takes: "
                               f"{', '.join(sorted(known))})", unknown[0])  # fmt: skip
        limit = _limit(given.pop("limit", None))
        cursor = given.pop("cursor", None)
        provided = {k for k, v in given.items() if v != ""}
        match = [(n, ap) for n, ap in group if required(ap) == provided & required(ap)
                 and provided <= set(parameters(ap))]  # fmt: skip
        match.sort(key=lambda pair: -len(required(pair[1])))
        if not match:
            options = " or ".join("{" + ", ".join(sorted(required(ap))) + "}" or "{}"
                                  for _, ap in group)  # fmt: skip
            raise BadParameter(f"parameters {sorted(provided)} match no query here "
                               f"(give {options})")  # fmt: skip
        name, ap = match[0]
        store = system.stores[ap.store]
        page: Page = await run_in_threadpool(executor(store.kind).run, ctx, name,
                                             {k: v for k, v in given.items() if v != ""},
                                             cursor, limit)  # fmt: skip
        if ap.emits:
            await run_in_threadpool(emit, ap.emits, name, given, len(page.items))
        if is_single(system, ap):
            if not page.items:
                asked = ", ".join(f"{k}={v}" for k, v in given.items())
                raise NotFound(f"nothing found for {asked}")
            return page.items[0]
        return {"items": page.items, "next": page.next, **page.extra}

    return handle


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"limit: {raw!r} is not a whole number", "limit") from None
    if not 1 <= value <= 500:
        raise BadParameter("limit: must be between 1 and 500", "limit")
    return value
