"""order-processor (seed 002): registration, deposits and withdrawals, buy/sell orders.

Invariants, kept under any concurrency:
- an email and a username are registered once (conditional puts of the USER item and
  its email claim in one transaction; the EmailIndex query before it only fails fast);
- a balance never goes negative, and it always equals the sum of its TRANS# items: each
  change writes the BALANCE update (conditioned on the balance it read) and its TRANS#
  item in one TransactWriteItems, retried when another change won the race;
- a money-moving request with an Idempotency-Key moves money once: the key is claimed
  in the same transaction, and a retry gets the first answer back.
Orders are the order service's table; it publishes ``order.*`` events and the user
service, the only writer of the users table, applies them (``apply_order_event``).
"""

from __future__ import annotations

import decimal
import hashlib
import re
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import field_validator

from polystore.topology.model import DynamoStore
from services import items
from services.errors import Conflict, NotFound
from services.flows.common import (
    MONEY_PLACES,
    Amount,
    Body,
    Retry,
    hash_password,
    idempotency_key,
    money,
    now_iso,
    retry_on_conflict,
    time_ordered_id,
)
from services.patterns import Context
from services.patterns.dynamodb import plain

# The Idempotency-Key header of money-moving requests (optional; retries send the same).
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Registration(Body):
    username: str
    email: str
    password: str

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if not USERNAME_RE.match(v):
            raise ValueError("3-32 characters: lower-case letters, digits, '.', '_', '-'")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL_RE.match(v) or len(v) > 320:
            raise ValueError("not an email address")
        return v.lower()

    @field_validator("password")
    @classmethod
    def _password(cls, v: str) -> str:
        if len(v) < 8:
            raise ValueError("at least 8 characters")
        return v


class OrderRequest(Body):
    username: str
    asset_id: str
    order_type: Literal["BUY", "SELL"]
    quantity: str
    price: str

    @field_validator("quantity", "price")
    @classmethod
    def _amount(cls, v: str) -> str:
        return str(money(v, "amount"))


def _reasons(exc: Any) -> list[str]:
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]


class Users:
    """The user service's writes to its single table."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store_name = next(n for n, s in ctx.config.system.stores_of("user").items()
                               if s.kind == "dynamodb")  # fmt: skip
        store = ctx.config.system.stores[self.store_name]
        assert isinstance(store, DynamoStore)
        self.store = store
        self.table = ctx.config.physical(self.store_name)

    @property
    def db(self) -> Any:
        return self.ctx.clients.dynamo()

    def _put(self, item_type: str, condition: bool = True, **values: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table,
                               "Item": items.item(self.store, item_type, **values)}
        if condition:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        return {"Put": put}

    def register(self, r: Registration) -> dict[str, Any]:
        taken = self.db.query(TableName=self.table, IndexName="EmailIndex",
                              KeyConditionExpression="email = :e",
                              ExpressionAttributeValues={":e": {"S": r.email}}, Limit=1)
        if taken.get("Items"):
            raise Conflict("email is already registered", "email")
        now = now_iso()
        try:
            self.db.transact_write_items(TransactItems=[
                self._put("user", username=r.username, email=r.email,
                          password_hash=hash_password(r.password), status="ACTIVE",
                          created_at=now, updated_at=now),
                self._put("email_claim", email=r.email, username=r.username, created_at=now),
                self._put("balance", username=r.username, current_balance="0",
                          total_deposits="0", total_withdrawals="0", created_at=now,
                          updated_at=now),
            ])  # fmt: skip
        except self.db.exceptions.TransactionCanceledException as exc:
            codes = _reasons(exc)
            if codes[0] == "ConditionalCheckFailed":
                raise Conflict("username is already taken", "username") from None
            if codes[1] == "ConditionalCheckFailed":
                raise Conflict("email is already registered", "email") from None
            raise
        return {"username": r.username, "email": r.email, "status": "ACTIVE", "created_at": now}

    def _balance(self, username: str) -> dict[str, Any]:
        got = self.db.get_item(TableName=self.table, ConsistentRead=True,
                               Key=items.key(self.store, "balance", username=username))
        if "Item" not in got:
            raise NotFound(f"no user {username!r}")
        return got["Item"]  # type: ignore[no-any-return]

    def _replayed(self, username: str, key: str) -> dict[str, Any] | None:
        got = self.db.get_item(TableName=self.table, ConsistentRead=True, Key=items.key(
            self.store, "idempotency_key", username=username, key=key))  # fmt: skip
        if "Item" not in got:
            return None
        tx = got["Item"]["transaction_id"]["S"]
        trans = self.db.get_item(TableName=self.table, ConsistentRead=True, Key=items.key(
            self.store, "balance_transaction", username=username, transaction_id=tx))
        return plain(trans["Item"])

    def move(self, username: str, kind: str, amount: decimal.Decimal, *,
             key: str | None = None, description: str = "", order_id: str = "",
             transaction_id: str | None = None) -> tuple[dict[str, Any], bool]:  # fmt: skip
        """Apply one balance change; return (the TRANS# item, whether it is new)."""
        if key is not None:
            before = self._replayed(username, key)
            if before is not None:
                return before, False
        sign = 1 if kind in ("DEPOSIT", "ORDER_REFUND", "ORDER_PROCEEDS") else -1
        total = "total_deposits" if sign > 0 else "total_withdrawals"

        def attempt() -> tuple[dict[str, Any], bool]:
            bal = self._balance(username)
            prev = decimal.Decimal(bal["current_balance"]["S"])
            new = prev + sign * amount
            if new < 0:
                raise Conflict(f"insufficient funds: balance {prev}, {kind.lower()} {amount}",
                               "amount")  # fmt: skip
            tx = transaction_id or time_ordered_id()
            now = now_iso()
            trans = items.item(self.store, "balance_transaction", username=username,
                               transaction_id=tx, transaction_type=kind, amount=str(amount),
                               previous_balance=str(prev), new_balance=str(new),
                               status="COMPLETED", description=description,
                               order_id=order_id, created_at=now)  # fmt: skip
            old_total = decimal.Decimal(bal.get(total, {"S": "0"})["S"])
            actions: list[dict[str, Any]] = [
                {"Update": {"TableName": self.table, "Key": items.key(
                    self.store, "balance", username=username),
                    "UpdateExpression": f"SET current_balance = :new, {total} = :tot, "
                                        "updated_at = :now",
                    "ConditionExpression": "current_balance = :prev",
                    "ExpressionAttributeValues": {
                        ":new": {"S": str(new)}, ":prev": {"S": str(prev)},
                        ":tot": {"S": str(old_total + amount)}, ":now": {"S": now}}}},
                {"Put": {"TableName": self.table, "Item": trans,
                         "ConditionExpression": "attribute_not_exists(PK)"}},
            ]  # fmt: skip
            if key is not None:
                actions.append(self._put("idempotency_key", username=username, key=key,
                                         transaction_id=tx, created_at=now))  # fmt: skip
            try:
                self.db.transact_write_items(TransactItems=actions)
            except self.db.exceptions.TransactionCanceledException as exc:
                codes = _reasons(exc)
                if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                    replay = self._replayed(username, key or "")
                    if replay is not None:
                        return replay, False
                if transaction_id is not None and codes[1] == "ConditionalCheckFailed":
                    # an event applied twice: the item with this id is already there
                    got = self.db.get_item(TableName=self.table, ConsistentRead=True,
                                           Key={k: trans[k] for k in ("PK", "SK")})
                    return plain(got["Item"]), False
                if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                    raise Retry from None
                raise
            return plain(trans), True

        return retry_on_conflict(attempt, f"{kind.lower()} for {username}")


class Orders:
    """The order service's writes to its orders table, and the events it publishes."""

    def __init__(self, ctx: Context, publisher: Any) -> None:
        self.ctx = ctx
        self.publisher = publisher
        self.store_name = next(n for n, s in ctx.config.system.stores_of("order").items()
                               if s.kind == "dynamodb")  # fmt: skip
        store = ctx.config.system.stores[self.store_name]
        assert isinstance(store, DynamoStore)
        self.store = store
        self.table = ctx.config.physical(self.store_name)

    def create(self, r: OrderRequest, key: str | None) -> tuple[dict[str, Any], bool]:
        db = self.ctx.clients.dynamo()
        # With a key the id is derived from it, so a retry lands on the same item.
        order_id = (hashlib.sha256(f"{r.username}\0{key}".encode()).hexdigest()[:26]
                    if key else time_ordered_id())  # fmt: skip
        now = now_iso()
        total = (decimal.Decimal(r.quantity) * decimal.Decimal(r.price)).quantize(MONEY_PLACES)
        order = items.item(self.store, "order", order_id=order_id, username=r.username,
                           asset_id=r.asset_id, order_type=r.order_type, quantity=r.quantity,
                           order_price=r.price, total_amount=str(total), status="PENDING",
                           created_at=now, updated_at=now, entity_type="order")  # fmt: skip
        try:
            db.put_item(TableName=self.table, Item=order,
                        ConditionExpression="attribute_not_exists(PK)")  # fmt: skip
        except db.exceptions.ConditionalCheckFailedException:
            got = db.get_item(TableName=self.table, ConsistentRead=True,
                              Key={k: order[k] for k in ("PK", "SK")})  # fmt: skip
            return plain(got["Item"]), False
        body = plain(order)
        self.publisher.domain("order.created", key=r.username, data={
            k: body[k] for k in ("order_id", "username", "asset_id", "order_type", "quantity",
                                 "order_price", "total_amount")})  # fmt: skip
        return body, True

    def transition(self, order_id: str, event: str) -> tuple[dict[str, Any], bool]:
        """PENDING -> EXECUTED/CANCELLED once (a conditional update), then publish
        ``order.executed``/``order.cancelled``. A retry of the same transition publishes
        the same event again (the consumer applies it once), so a publish lost after the
        update is not lost for good; any other state is a 409."""
        status = {"order.executed": "EXECUTED", "order.cancelled": "CANCELLED"}[event]
        db = self.ctx.clients.dynamo()
        key = items.key(self.store, "order", order_id=order_id)
        now = now_iso()
        try:
            got = db.update_item(
                TableName=self.table, Key=key, ReturnValues="ALL_NEW",
                UpdateExpression="SET #s = :new, updated_at = :now",
                ConditionExpression="attribute_exists(PK) AND #s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":new": {"S": status}, ":now": {"S": now},
                                           ":pending": {"S": "PENDING"}})  # fmt: skip
            order, new = plain(got["Attributes"]), True
        except db.exceptions.ConditionalCheckFailedException:
            current = db.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            if "Item" not in current:
                raise NotFound(f"no order {order_id!r}") from None
            order, new = plain(current["Item"]), False
            if order["status"] != status:
                raise Conflict(f"order {order_id} is {order['status']}, not PENDING",
                               "status") from None  # fmt: skip
        data = {k: order[k] for k in ("order_id", "username", "asset_id", "order_type",
                                      "quantity", "order_price", "total_amount")}  # fmt: skip
        if event == "order.executed":
            data["executed_at"] = order["updated_at"]
        self.publisher.domain(event, key=order["username"], data=data)
        return order, new


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    """The user service applies the order service's events (services.flows.order_events)."""
    if ctx.config.service != "user":
        return {}
    from services.flows.order_events import user_handlers

    return user_handlers(Users(ctx))


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    service = ctx.config.service
    if service == "user":
        users = Users(ctx)

        @app.post("/users", status_code=201, tags=["users"])
        async def register_user(body: Registration) -> dict[str, Any]:
            """Register a user: email and username unique, a zero balance created with it."""
            return await run_in_threadpool(users.register, body)

        async def _move(username: str, body: Amount, key: str | None, kind: str) -> Any:
            item, new = await run_in_threadpool(
                users.move, username, kind, decimal.Decimal(body.amount),
                key=idempotency_key(key), description=body.description)  # fmt: skip
            return JSONResponse(item, status_code=201 if new else 200)

        @app.post("/users/{username}/deposits", status_code=201, tags=["balances"])
        async def deposit(username: str, body: Amount,
                          idem: IdemKey = None) -> Any:  # fmt: skip
            """Deposit: BALANCE and its TRANS# item in one transaction."""
            return await _move(username, body, idem, "DEPOSIT")

        @app.post("/users/{username}/withdrawals", status_code=201, tags=["balances"])
        async def withdraw(username: str, body: Amount,
                           idem: IdemKey = None) -> Any:  # fmt: skip
            """Withdraw: refused with 409 when the balance would go negative."""
            return await _move(username, body, idem, "WITHDRAW")

    elif service == "order":
        orders = Orders(ctx, publisher)

        @app.post("/orders", status_code=201, tags=["orders"])
        async def create_order(body: OrderRequest,
                               idem: IdemKey = None) -> Any:  # fmt: skip
            """Place a buy/sell order; publishes ``order.created``."""
            item, new = await run_in_threadpool(orders.create, body, idempotency_key(idem))
            return JSONResponse(item, status_code=201 if new else 200)

        @app.post("/orders/{order_id}/execution", status_code=201, tags=["orders"])
        async def execute_order(order_id: str) -> Any:
            """Execute a PENDING order; publishes ``order.executed`` (the user service
            then writes the holding). Repeating it answers 200 with the same order."""
            item, new = await run_in_threadpool(orders.transition, order_id, "order.executed")
            return JSONResponse(item, status_code=201 if new else 200)

        @app.post("/orders/{order_id}/cancellation", status_code=201, tags=["orders"])
        async def cancel_order(order_id: str) -> Any:
            """Cancel a PENDING order; publishes ``order.cancelled`` (a reserved payment
            is refunded by the user service). Repeating it answers 200."""
            item, new = await run_in_threadpool(orders.transition, order_id, "order.cancelled")
            return JSONResponse(item, status_code=201 if new else 200)
