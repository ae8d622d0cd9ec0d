"""order-processor's user service applies the order service's ``order.*`` events.

The user service is the only writer of the users table, so an order reaches balances and
holdings through events: ``order.created`` reserves a BUY's ORDER_PAYMENT,
``order.executed`` writes the ASSET# balance with its TRANS#user#asset item (a SELL also
credits ORDER_PROCEEDS), ``order.cancelled`` refunds a reserved payment (ORDER_REFUND).

Idempotent by construction, because Kafka delivers at least once: every balance change
carries the transaction id ``{order_id}-{created|executed|cancelled}`` and is a
conditional put of that TRANS# item (``Users.move``), and the holding update is one
transaction with the TRANS#user#asset item keyed by the execution time the event carries
(a redelivery finds the item of its own order and stops).
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Callable
from typing import Any

from service_events.envelope import Envelope
from services import items
from services.errors import Conflict, NotFound
from services.flows.common import Retry, now_iso, retry_on_conflict

log = logging.getLogger("services.order_events")
SLOTS = 20  # same-millisecond executions of one user's asset: try the next ms, this often


def _later(ts: str, ms: int) -> str:
    """``ts`` (ISO, ms precision, Z) plus ``ms`` milliseconds, same format."""
    from datetime import datetime, timedelta

    t = datetime.fromisoformat(ts.replace("Z", "+00:00")) + timedelta(milliseconds=ms)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class OrderEvents:
    def __init__(self, users: Any) -> None:
        self.users = users  # services.flows.order_processor.Users

    @property
    def db(self) -> Any:
        return self.users.db

    def created(self, env: Envelope) -> None:
        d = env.data
        if d["order_type"] != "BUY":
            return  # a SELL moves money only when it executes
        try:
            self.users.move(d["username"], "ORDER_PAYMENT", decimal.Decimal(d["total_amount"]),
                            order_id=d["order_id"], transaction_id=f"{d['order_id']}-created",
                            description=f"payment reserved for order {d['order_id']}")  # fmt: skip
        except (Conflict, NotFound) as exc:
            # Nothing to retry: the payment cannot be reserved (no funds, no user). The
            # topology declares no rejection event; the order stays unpaid (see docs).
            log.warning("order %s not paid: %s", d["order_id"], exc)

    def cancelled(self, env: Envelope) -> None:
        d = env.data
        if d["order_type"] != "BUY" or not self._has(d["username"], f"{d['order_id']}-created"):
            return  # nothing was reserved, so nothing is refunded
        self.users.move(d["username"], "ORDER_REFUND", decimal.Decimal(d["total_amount"]),
                        order_id=d["order_id"], transaction_id=f"{d['order_id']}-cancelled",
                        description=f"refund of cancelled order {d['order_id']}")  # fmt: skip

    def executed(self, env: Envelope) -> None:
        d = env.data
        try:
            self._holding(d)
        except Conflict as exc:  # a SELL of more than is held: nothing to retry
            log.warning("order %s not applied: %s", d["order_id"], exc)
            return
        if d["order_type"] == "SELL":
            self.users.move(d["username"], "ORDER_PROCEEDS", decimal.Decimal(d["total_amount"]),
                            order_id=d["order_id"], transaction_id=f"{d['order_id']}-executed",
                            description=f"proceeds of order {d['order_id']}")  # fmt: skip

    def _has(self, username: str, transaction_id: str) -> bool:
        got = self.db.get_item(TableName=self.users.table, ConsistentRead=True, Key=items.key(
            self.users.store, "balance_transaction", username=username,
            transaction_id=transaction_id))  # fmt: skip
        return "Item" in got

    def _holding(self, d: dict[str, Any]) -> None:
        """ASSET# quantity and the TRANS#user#asset item, in one transaction, once."""
        store, table = self.users.store, self.users.table
        user, asset, order_id = d["username"], d["asset_id"], d["order_id"]
        qty = decimal.Decimal(d["quantity"])
        sign = 1 if d["order_type"] == "BUY" else -1
        key = items.key(store, "asset_balance", username=user, asset_id=asset)

        def attempt() -> None:
            got = self.db.get_item(TableName=table, Key=key, ConsistentRead=True)
            prev = decimal.Decimal(got["Item"]["quantity"]["S"]) if "Item" in got else None
            new = (prev or decimal.Decimal(0)) + sign * qty
            if new < 0:
                raise Conflict(f"{user} holds {prev or 0} {asset}, cannot sell {qty}", "quantity")
            now = now_iso()
            update = {"Update": {
                "TableName": table, "Key": key,
                "UpdateExpression": "SET quantity = :new, updated_at = :now, username = :u, "
                                    "asset_id = :a, created_at = if_not_exists(created_at, :now)",
                "ConditionExpression": "attribute_not_exists(PK)" if prev is None
                                       else "quantity = :prev",
                "ExpressionAttributeValues": {
                    ":new": {"S": str(new)}, ":now": {"S": now}, ":u": {"S": user},
                    ":a": {"S": asset}, **({":prev": {"S": str(prev)}} if prev is not None
                                           else {})}}}  # fmt: skip
            for slot in range(SLOTS):
                at = _later(d["executed_at"], slot)
                trans = items.item(store, "asset_transaction", username=user, asset_id=asset,
                                   created_at=at, transaction_type=d["order_type"],
                                   quantity=d["quantity"], price=d["order_price"],
                                   total_amount=d["total_amount"], order_id=order_id,
                                   status="COMPLETED")  # fmt: skip
                try:
                    self.db.transact_write_items(TransactItems=[update, {"Put": {
                        "TableName": table, "Item": trans,
                        "ConditionExpression": "attribute_not_exists(PK)"}}])  # fmt: skip
                    return
                except self.db.exceptions.TransactionCanceledException as exc:
                    codes = [r.get("Code", "None")
                             for r in exc.response.get("CancellationReasons", [])]  # fmt: skip
                    if len(codes) < 2 or codes[1] != "ConditionalCheckFailed":
                        raise Retry from None
                    there = self.db.get_item(TableName=table, ConsistentRead=True,
                                             Key={k: trans[k] for k in ("PK", "SK")})  # fmt: skip
                    if there["Item"]["order_id"]["S"] == order_id:
                        return  # applied before: a redelivery
                    # another order of this user and asset executed in the same ms: next slot
            raise RuntimeError(f"no free TRANS#{user}#{asset} slot near {d['executed_at']}")

        retry_on_conflict(attempt, f"holding of {user} in {asset}")


def user_handlers(users: Any) -> dict[str, Callable[[Envelope], None]]:
    ev = OrderEvents(users)
    return {"order.created": ev.created, "order.executed": ev.executed,
            "order.cancelled": ev.cancelled}  # fmt: skip
