"""ecommerce (seed 004): auth registration and the user profile it creates, by event.

Each service touches only its own database; services know each other's rows by id. The
auth service inserts the account and publishes ``user.created`` before its transaction
commits (a failed publish rolls the account back, so a retried registration is not
refused as a duplicate with no event ever sent). The user service's consumer creates the
profile with the same user id, claiming the event id in the same transaction
(``processed_events``): a redelivered event changes nothing.
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
from services.patterns import Context

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


def register_account(ctx: Context, publisher: Any, r: Registration) -> dict[str, Any]:
    import psycopg

    try:
        with ctx.clients.pg().connection() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO users (email, password_hash) VALUES (%s, %s) "
                "RETURNING id::text, email::text, created_at",
                (r.email, hash_password(r.password))).fetchone()  # fmt: skip
            assert row is not None
            user_id, email, created = row
            publisher.domain("user.created", key=user_id,
                             data={"user_id": user_id, "email": email})  # fmt: skip
    except psycopg.errors.UniqueViolation:
        raise Conflict("email is already registered", "email") from None
    return {"id": user_id, "email": email, "created_at": created.isoformat()}


def create_profile(ctx: Context, env: Envelope) -> None:
    """The profile of a new account, same user id; once per event id."""
    consumer = f"{ctx.config.system.name}.{ctx.config.service}"
    with ctx.clients.pg().connection() as conn, conn.transaction():
        if not claim_in_postgres(conn, consumer, env.id):
            return
        conn.execute("INSERT INTO user_profiles (user_id) VALUES (%s) "
                     "ON CONFLICT (user_id) DO NOTHING", (env.data["user_id"],))  # fmt: skip


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    if ctx.config.service == "user":
        return {"user.created": lambda env: create_profile(ctx, env)}
    return {}


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    if ctx.config.service == "auth":

        @app.post("/register", status_code=201, tags=["auth"])
        async def register_user(body: Registration) -> dict[str, Any]:
            """Create an account (email unique, case-insensitive); publishes ``user.created``."""
            return await run_in_threadpool(register_account, ctx, publisher, body)
