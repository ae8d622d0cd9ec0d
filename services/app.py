"""``create_app``: one service's FastAPI application, from the topology and the environment."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

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
        if consumer is not None:
            consumer.stop()
        for worker in workers.values():
            worker.stop()
        clients.close()
        pub.close()

    system, service = config.system, config.service
    app = FastAPI(title=f"{system.name}.{service}", version="1",
                  description=system.services[service].description, lifespan=lifespan)
    errors.install(app)
    app.state.ctx = ctx
    app.state.publisher = pub
    log = logging.getLogger(f"services.{system.name}.{service}")

    @app.middleware("http")
    async def access_log(request: Request, call_next: Any) -> Response:
        t0 = time.perf_counter()
        response: Response = await call_next(request)
        log.info("request", extra={"fields": {
            "method": request.method, "path": request.url.path, "status": response.status_code,
            "ms": round((time.perf_counter() - t0) * 1000, 2)}})  # fmt: skip
        return response

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
