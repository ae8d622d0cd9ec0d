"""order-processor (seed 002): crypto users with deposits, withdrawals and trades.

Every user gets a USER item, a timeline of balance transactions (``TRANS#<id>``) whose
``previous_balance``/``new_balance`` chain never goes negative, a BALANCE item equal to
the chain's end, asset trades (``TRANS#<user>#<asset>`` keyed by time) against orders in
the order service's table, and ``ASSET#<asset>`` holdings equal to BUY minus SELL.
Item shapes follow the declared item types (``store.items``); values follow seed 002.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

from polystore.topology.model import DynamoStore
from seed import values
from seed.domains.base import Domain, Row
from seed.dynamo_generate import render_keys
from seed.rng import stream

USERS_PER_SCALE = 50
# asset -> (low, high) USD price over the seeded history
ASSETS = {
    "BTC": (38000, 72000),
    "ETH": (1900, 4100),
    "SOL": (20, 210),
    "ADA": (0.25, 1.2),
    "DOT": (4, 11),
    "LINK": (6, 22),
    "XRP": (0.4, 0.9),
    "AVAX": (12, 55),
}
CENT = Decimal("0.01")
QTY = Decimal("0.0001")
DEPOSIT_NOTES = ["Bank transfer", "Wire transfer", "Card top-up", "ACH deposit"]
WITHDRAW_NOTES = ["ATM withdrawal", "Bank transfer out", "Wire to savings"]
# balance change by transaction type (SYSTEM_ADJUSTMENT carries its own sign)
CREDIT = {"DEPOSIT": 1, "ORDER_REFUND": 1, "WITHDRAW": -1, "ORDER_PAYMENT": -1}


def signed(item: Row) -> Decimal:
    """The signed effect of a balance transaction on the balance."""
    amount = Decimal(item["amount"])
    return amount * CREDIT.get(item["transaction_type"], 1)


class OrderProcessor(Domain):
    def _stores(self) -> tuple[str, str] | None:
        """(users store, orders store): the stores holding user and order item types."""
        users = orders = None
        for name, store in self.plan.system.dynamodb_stores().items():
            if {"user", "balance", "balance_transaction"} <= set(store.items):
                users = name
            elif "order" in store.items:
                orders = name
        return (users, orders) if users and orders else None

    def items(self, store: str) -> list[Row] | None:
        names = self._stores()
        if names is None or store not in names:
            return None
        if not hasattr(self, "_built"):
            self._built = self._build(*names)
        return self._built[store]

    def _build(self, users_store: str, orders_store: str) -> dict[str, list[Row]]:
        system, clock, seed = self.plan.system, self.plan.clock, self.plan.seed
        us: DynamoStore = system.stores[users_store]  # type: ignore[assignment]
        os_: DynamoStore = system.stores[orders_store]  # type: ignore[assignment]
        out: dict[str, list[Row]] = {users_store: [], orders_store: []}
        events: list[Row] = []
        for n in range(USERS_PER_SCALE * self.scale):
            rng = stream(seed, system.name, "user", str(n))
            first, last = values.person(rng)
            username = f"{values.slugify(first)}_{values.slugify(last)}{n}".replace("-", "_")
            joined = clock.between(rng, clock.start, clock.start + (clock.now - clock.start) / 3)
            t = joined
            user = {
                "username": username,
                "email": values.email(rng, first, last, n),
                "password_hash": "$2b$12$" + values.hexstr(rng, 53),
                "status": "ACTIVE",
                "created_at": clock.iso(joined),
                "updated_at": clock.iso(joined),
            }
            out[users_store].append(render_keys(us, us.items["user"], user))
            balance = Decimal(0)
            deposits = withdrawals = Decimal(0)
            holdings: dict[str, Decimal] = {}
            first_held: dict[str, str] = {}
            last_trade: dict[str, str] = {}
            trans: list[Row] = []

            def balance_tx(
                kind: str,
                amount: Decimal,
                note: str,
                at: Any,
                order_id: str | None = None,
                rng: Any = rng,
                username: str = username,
                trans: list[Row] = trans,
            ) -> None:
                nonlocal balance
                prev = balance
                balance = prev + amount * CREDIT.get(kind, 1)
                tid = f"{kind.lower().replace('_', '-')}-{values.hexstr(rng, 10)}"
                item = {
                    "username": username,
                    "transaction_id": tid,
                    "transaction_type": kind,
                    "amount": str(abs(amount).quantize(CENT)),
                    "previous_balance": str(prev.quantize(CENT)),
                    "new_balance": str(balance.quantize(CENT)),
                    "status": "COMPLETED",
                    "description": note,
                    "created_at": clock.iso(at),
                }
                if order_id:
                    item["order_id"] = order_id
                trans.append(render_keys(us, us.items["balance_transaction"], item))

            for step in range(rng.randint(6, 18)):
                t = clock.after(rng, t, 20)
                if t >= clock.now:
                    break
                roll = rng.random()
                if step == 0 or roll < 0.25:
                    amount = values.money(rng, 200, 20000)
                    deposits += amount
                    balance_tx("DEPOSIT", amount, rng.choice(DEPOSIT_NOTES), t)
                elif roll < 0.35 and balance > 50:
                    amount = (balance * Decimal(rng.uniform(0.05, 0.4))).quantize(CENT)
                    withdrawals += amount
                    balance_tx("WITHDRAW", amount, rng.choice(WITHDRAW_NOTES), t)
                else:
                    asset = rng.choice(sorted(ASSETS))
                    lo, hi = ASSETS[asset]
                    price = Decimal(str(rng.uniform(lo, hi))).quantize(CENT)
                    held = holdings.get(asset, Decimal(0))
                    sell = held > 0 and rng.random() < 0.35
                    if sell:
                        qty = (held * Decimal(rng.uniform(0.2, 1))).quantize(QTY, ROUND_DOWN)
                    else:
                        spend = balance * Decimal(rng.uniform(0.05, 0.5))
                        qty = (spend / price).quantize(QTY, ROUND_DOWN)
                    total = (qty * price).quantize(CENT, ROUND_DOWN)
                    if qty <= 0 or total <= 0:
                        continue
                    order_id = f"order-{values.hexstr(rng, 12)}"
                    cancelled = not sell and rng.random() < 0.1
                    status = "CANCELLED" if cancelled else "COMPLETED"
                    order = {
                        "order_id": order_id,
                        "username": username,
                        "asset_id": asset,
                        "order_type": "SELL" if sell else "BUY",
                        "quantity": _qty(qty),
                        "order_price": str(price),
                        "total_amount": str(total),
                        "status": status,
                        "expires_at": clock.iso(clock.after(rng, t, 1)),
                        "created_at": clock.iso(t),
                        "updated_at": clock.iso(t),
                        "entity_type": "order",
                    }
                    out[orders_store].append(render_keys(os_, os_.items["order"], order))
                    events.append(
                        {
                            "event": "order.created",
                            "order_id": order_id,
                            "username": username,
                            "asset_id": asset,
                        }
                    )
                    if sell:
                        balance_tx(
                            "SYSTEM_ADJUSTMENT",
                            total,
                            f"Order #{order_id} sale proceeds",
                            t,
                            order_id,
                        )
                        holdings[asset] = held - qty
                    else:
                        balance_tx(
                            "ORDER_PAYMENT", total, f"Order #{order_id} payment", t, order_id
                        )
                        if cancelled:
                            t = clock.after(rng, t, 1)
                            balance_tx(
                                "ORDER_REFUND", total, f"Order #{order_id} cancelled", t, order_id
                            )
                            events.append(
                                {
                                    "event": "order.cancelled",
                                    "order_id": order_id,
                                    "username": username,
                                }
                            )
                            continue
                        holdings[asset] = held + qty
                    events.append(
                        {
                            "event": "order.executed",
                            "order_id": order_id,
                            "username": username,
                            "asset_id": asset,
                        }
                    )
                    first_held.setdefault(asset, clock.iso(t))
                    last_trade[asset] = clock.iso(t)
                    at = {
                        "username": username,
                        "asset_id": asset,
                        "transaction_type": "SELL" if sell else "BUY",
                        "quantity": _qty(qty),
                        "price": str(price),
                        "total_amount": str(total),
                        "order_id": order_id,
                        "status": "COMPLETED",
                        "created_at": clock.iso(t),
                    }
                    trans.append(render_keys(us, us.items["asset_transaction"], at))
            out[users_store].extend(trans)
            out[users_store].append(
                render_keys(
                    us,
                    us.items["balance"],
                    {
                        "username": username,
                        "current_balance": str(balance.quantize(CENT)),
                        "total_deposits": str(deposits.quantize(CENT)),
                        "total_withdrawals": str(withdrawals.quantize(CENT)),
                        "created_at": clock.iso(joined),
                        "updated_at": clock.iso(t),
                    },
                )
            )
            for asset, qty in sorted(holdings.items()):
                out[users_store].append(
                    render_keys(
                        us,
                        us.items["asset_balance"],
                        {
                            "username": username,
                            "asset_id": asset,
                            "quantity": _qty(qty),
                            "created_at": first_held[asset],
                            "updated_at": last_trade[asset],
                        },
                    )
                )
        self._events = events
        return out

    def check(self, reader: Any) -> Iterator[str]:
        names = self._stores()
        if names is None:
            return
        orders = {str(o["order_id"]) for o in reader.scan(names[1]) if "order_id" in o}
        yield from check_users(reader.scan(names[0]), orders)

    def events(self, store: str) -> list[Row] | None:
        names = self._stores()
        if names is None:
            return None
        self.items(names[0])
        producer_topics = {
            link.topic for link in self.plan.system.links.values() if link.kind == "event"
        }
        return self._events if store in producer_topics else None


def check_users(items: list[Row], order_ids: set[str]) -> Iterator[str]:
    """Balances = the sum of their TRANS# items and never negative; asset quantities =
    BUY - SELL; every trade names an order of the order service."""
    trans: dict[str, list[Row]] = {}
    trades: dict[tuple[str, str], Decimal] = {}
    balances: dict[str, Row] = {}
    holdings: dict[tuple[str, str], Decimal] = {}
    for it in items:
        pk, sk = str(it["PK"]), str(it["SK"])
        if sk == "BALANCE":
            balances[pk] = it
        elif sk.startswith("TRANS#"):
            trans.setdefault(pk, []).append(it)
        elif sk.startswith("ASSET#"):
            holdings[(pk, str(it["asset_id"]))] = Decimal(it["quantity"])
        elif pk.startswith("TRANS#"):
            sign = 1 if it["transaction_type"] == "BUY" else -1
            key = (str(it["username"]), str(it["asset_id"]))
            trades[key] = trades.get(key, Decimal(0)) + sign * Decimal(it["quantity"])
            if it.get("order_id") and it["order_id"] not in order_ids:
                yield f"order-processor: trade {pk} {sk} names unknown order {it['order_id']}"
                return
    for user, bal in sorted(balances.items()):
        running = Decimal(0)
        for t in sorted(trans.get(user, []), key=lambda i: (i["created_at"], i["SK"])):
            if Decimal(t["previous_balance"]) != running:
                yield (
                    f"order-processor: {user} {t['SK']}: previous_balance "
                    f"{t['previous_balance']} but the transactions before it sum to {running}"
                )
                return
            running += signed(t)
            if running < 0:
                yield f"order-processor: {user}'s balance goes negative at {t['SK']}"
                return
        if Decimal(bal["current_balance"]) != running:
            yield (
                f"order-processor: {user} BALANCE current_balance {bal['current_balance']} "
                f"!= sum of its TRANS# items {running}"
            )
            return
    for key, qty in sorted(holdings.items()):
        if trades.get(key, Decimal(0)) != qty:
            yield (
                f"order-processor: {key[0]} ASSET#{key[1]} quantity {qty} != BUY - SELL "
                f"{trades.get(key, Decimal(0))}"
            )
            return


def _qty(q: Decimal) -> str:
    """A quantity as the seed writes it: ``"2.5"``, ``"10.0"``, ``"0.0125"``."""
    text = format(q.normalize(), "f")
    return text if "." in text else text + ".0"


DOMAIN = OrderProcessor
