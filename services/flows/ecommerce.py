"""ecommerce (seed 004): the ten services' flows, one module per service; this one routes.

Each service touches only its own database; services know each other's rows by id and
learn of each other's changes by events, published through each database's outbox
(:mod:`services.flows.ecommerce_outbox`): an event commits with its change and is relayed
after the commit. Here: auth registration (the account and its ``user.created`` commit
together) and the profile the user service creates from it, with the same user id,
claiming the event id in the same transaction (``processed_events``). The shopping path
— cart → order → payment → shipment → return and refund — is in ``ecommerce_<service>``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import field_validator

from service_events.dedupe import claim_in_postgres
from service_events.envelope import Envelope
from services.errors import Conflict
from services.flows.common import Body, hash_password
from services.flows.ecommerce_common import outbox_of
from services.flows.ecommerce_outbox import Outbox, OutboxRelay, has_outbox
from services.patterns import Context

# service -> the module of its flows (register, handlers)
MODULES = {
    "cart": "services.flows.ecommerce_cart",
    "order": "services.flows.ecommerce_order",
    "payment": "services.flows.ecommerce_payment",
    "shipping": "services.flows.ecommerce_shipping",
    "return": "services.flows.ecommerce_returns",
}

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Registration(Body):
    email: str
    password: str

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL_RE.match(v) or len(v) > 320:
            raise ValueError("not an email address")
        return v

    @field_validator("password")
    @classmethod
    def _password(cls, v: str) -> str:
        if not 8 <= len(v) <= 256:
            raise ValueError("8-256 characters")
        return v


def register_account(ctx: Context, outbox: Outbox, r: Registration) -> dict[str, Any]:
    """The account and its ``user.created`` commit together (the outbox row); the event
    is relayed after the commit, and by the background relay if that fails."""
    import psycopg

    try:
        with ctx.clients.pg().connection() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO users (email, password_hash) VALUES (%s, %s) "
                "RETURNING id::text, email::text, created_at",
                (r.email, hash_password(r.password))).fetchone()  # fmt: skip
            assert row is not None
            user_id, email, created = row
            outbox.add(conn, "user.created", key=user_id,
                       data={"user_id": user_id, "email": email})  # fmt: skip
    except psycopg.errors.UniqueViolation:
        raise Conflict("email is already registered", "email") from None
    outbox.relay_quietly()
    return {"id": user_id, "email": email, "created_at": created.isoformat()}


def create_profile(ctx: Context, env: Envelope) -> None:
    """The profile of a new account, same user id; once per event id."""
    consumer = f"{ctx.config.system.name}.{ctx.config.service}"
    with ctx.clients.pg().connection() as conn, conn.transaction():
        if not claim_in_postgres(conn, consumer, env.id):
            return
        conn.execute("INSERT INTO user_profiles (user_id) VALUES (%s) "
                     "ON CONFLICT (user_id) DO NOTHING", (env.data["user_id"],))  # fmt: skip


def _module(ctx: Context) -> Any:
    import importlib

    name = MODULES.get(ctx.config.service)
    return importlib.import_module(name) if name is not None else None


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    if ctx.config.service == "user":
        return {"user.created": lambda env: create_profile(ctx, env)}
    module = _module(ctx)
    return module.handlers(ctx, publisher) if module is not None else {}


def workers(ctx: Context, publisher: Any) -> dict[str, Any]:
    """The background outbox relay of a service whose database has an outbox."""
    return {"outbox": OutboxRelay(outbox_of(ctx, publisher))} if has_outbox(ctx) else {}


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    if ctx.config.service == "auth":
        outbox = outbox_of(ctx, publisher)

        @app.post("/register", status_code=201, tags=["auth"])
        async def register_user(body: Registration) -> dict[str, Any]:
            """Create an account (email unique, case-insensitive); publishes ``user.created``."""
            return await run_in_threadpool(register_account, ctx, outbox, body)

    module = _module(ctx)
    if module is not None:
        module.register(app, ctx, publisher)
