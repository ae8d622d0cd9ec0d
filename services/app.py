"""``create_app``: one service's FastAPI application, from the topology and the environment."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Response
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import errors, routes
from services.clients import Clients
from services.config import ServiceConfig
from services.consumer import consumer_for
from services.events_out import Publisher
from services.patterns import Context

# system -> module with the system's hand-written write flows (``register(app, ctx, pub)``)
# and, where its services consume events, ``handlers(ctx, pub) -> {event type: handler}``.
FLOWS = {
    "order-processor": "services.flows.order_processor",
    "inventory": "services.flows.inventory",
    "tcgstore": "services.flows.tcgstore",
    "ecommerce": "services.flows.ecommerce",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"time": round(record.created, 3), "level": record.levelname,
                               "logger": record.name, "message": record.getMessage()}  # fmt: skip
        doc |= getattr(record, "fields", {})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class AccessLog:
    """One JSON log line per request (method, path, status, ms). Plain ASGI rather than
    ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware spends ~0.3 ms of CPU per
    request (a task and a stream each), as much as the rest of a small request's handling."""

    def __init__(self, app: ASGIApp, log: logging.Logger) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0, status = time.perf_counter(), 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self.log.info("request", extra={"fields": {
                "method": scope["method"], "path": scope["path"], "status": status,
                "ms": round((time.perf_counter() - t0) * 1000, 2)}})  # fmt: skip


def health(ctx: Context) -> dict[str, str]:
    """Each of the service's own stores answers a real request (or says why not)."""
    checks: dict[str, str] = {}
    for name, store in sorted(ctx.config.system.stores_of(ctx.config.service).items()):
        try:
            if store.kind == "postgres":
                with ctx.clients.pg().connection() as conn:
                    conn.execute("SELECT 1")
            elif store.kind == "dynamodb":
                ctx.clients.dynamo().describe_table(TableName=ctx.config.physical(name))
            elif store.kind == "search":
                if not ctx.clients.search().ping():
                    raise RuntimeError("GET / did not answer 200")
            else:
                continue  # topics are checked by the events library when it publishes
            checks[name] = "ok"
        except Exception as exc:  # a health check reports, it does not raise
            checks[name] = f"{type(exc).__name__}: {exc}"[:300]
    return checks


def create_app(config: ServiceConfig, publisher: Any = None) -> FastAPI:
    clients = Clients(config)
    ctx = Context(config, clients)
    pub = publisher or Publisher(config)
    name = FLOWS.get(config.system.name)
    module = importlib.import_module(name) if name is not None else None
    consumer = consumer_for(config, module, ctx, pub)
    # background workers a flow module runs with the server ({name: start/stop/state})
    make_workers = getattr(module, "workers", None)
    workers: dict[str, Any] = make_workers(ctx, pub) if make_workers is not None else {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The consumer lives with the server (uvicorn and ECS run the lifespan); an app
        # used without it (a TestClient outside ``with``) serves requests only.
        for worker in workers.values():
            worker.start()
        if consumer is not None:
            consumer.start()
        yield
        try:
            if consumer is not None:
                consumer.stop()  # first: its handlers may still publish
            for worker in workers.values():
                worker.stop()  # the outbox relays: they publish too
        finally:
            try:
                pub.close()  # flush, then close: a queued event is delivered or named
            finally:
                clients.close()

    system, service = config.system, config.service
    app = FastAPI(title=f"{system.name}.{service}", version="1",
                  description=system.services[service].description, lifespan=lifespan)
    errors.install(app)
    app.state.ctx = ctx
    app.state.publisher = pub
    log = logging.getLogger(f"services.{system.name}.{service}")

    app.add_middleware(AccessLog, log=log)

    @app.get("/health", tags=["operations"])
    async def get_health() -> Response:
        checks = await run_in_threadpool(health, ctx)
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ok" if ok else "unhealthy",
                                "service": f"{system.name}.{service}", "stores": checks}
        if consumer is not None:
            body["consumer"] = consumer.state()
        body |= {name: await run_in_threadpool(w.state) for name, w in workers.items()}
        return Response(json.dumps(body), status_code=200 if ok else 503,
                        media_type="application/json")  # fmt: skip

    routes.install(app, ctx, pub.analytics)
    app.state.consumer = consumer
    if module is not None:
        module.register(app, ctx, pub)
    return app
