"""tcgstore (seed 000): a card catalog worth searching, orders that add up, stock that
is the running total of its movements.

* Cards (the catalog table): names from the game vocabulary, sets with release dates,
  weighted rarities priced by rarity, rules text with keywords, foils.
* Orders of customers with line items (cards from the catalog), one sale per line, one
  payment per order: order Total = sum of LineTotal = payment Amount.
* Inventory (PostgreSQL): a level per card and location; stock movements (receipts,
  then a sale per sold line at that location, adjustments) whose sum is the level's
  ``quantity_on_hand``; reorder points per level.
The card index is fed by the Cards stream (link), so seeding writes only the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from polystore.topology.model import DynamoStore
from seed import values
from seed.domains import cards_vocab as V
from seed.domains.base import Domain, Row
from seed.dynamo_generate import render_keys
from seed.rng import stable_uuid, stream

CARDS_PER_SCALE = 400
ORDERS_PER_SCALE = 150
CENT = Decimal("0.01")


class TcgStore(Domain):
    def _world(self) -> dict[str, Any]:
        if hasattr(self, "_w"):
            return self._w
        clock, seed = self.plan.clock, self.plan.seed
        rng = stream(seed, "tcgstore", "cards")
        cards: list[Row] = []
        names: set[str] = set()
        rarities = list(V.RARITIES)
        weights = [V.RARITIES[r][0] for r in rarities]
        per_set: dict[str, int] = {}
        for n in range(CARDS_PER_SCALE * self.scale):
            set_name, _code, released = V.SETS[n % len(V.SETS)]
            ctype = rng.choices(V.TYPES, V.TYPE_WEIGHTS)[0]
            for _ in range(20):
                name = _card_name(rng, ctype)
                if name not in names:
                    break
            else:
                name = f"{name} {n}"
            names.add(name)
            rarity = rng.choices(rarities, weights)[0]
            lo, hi = V.RARITIES[rarity][1]
            foil = rng.random() < 0.12
            price = values.money(rng, lo, hi) * (3 if foil else 1)
            per_set[set_name] = per_set.get(set_name, 0) + 1
            released_at = dt.datetime.fromisoformat(released).replace(tzinfo=dt.UTC)
            cards.append(
                {
                    "Id": str(stable_uuid(seed, "card", n)),
                    "name": name,
                    "description": _rules_text(rng, name, ctype),
                    "set": set_name,
                    "rarity": rarity,
                    "type": ctype,
                    "number": per_set[set_name],
                    "price": str(price.quantize(CENT)),
                    "foil": foil,
                    "released_at": clock.iso(released_at),
                    "updated_at": clock.iso(clock.after(rng, max(released_at, clock.start), 90)),
                }
            )
        orders: list[Row] = []
        lines: list[Row] = []
        sales: list[Row] = []
        payments: list[Row] = []
        customers = [f"cust-{values.hexstr(rng, 10)}" for _ in range(40 * self.scale)]
        sold: list[tuple[str, str, int, str, dt.datetime]] = []  # card, location, qty, order
        orng = stream(seed, "tcgstore", "orders")
        for n in range(ORDERS_PER_SCALE * self.scale):
            order_id = str(stable_uuid(seed, "order", n))
            created = clock.past(orng)
            total = Decimal(0)
            location = orng.choice(V.LOCATIONS)
            for line_no, card in enumerate(orng.sample(cards, orng.randint(1, 4)), start=1):
                qty = orng.choices([1, 2, 3, 4], [70, 18, 8, 4])[0]
                unit = Decimal(card["price"])
                line_total = (unit * qty).quantize(CENT)
                total += line_total
                lines.append(
                    {
                        "OrderId": order_id,
                        "LineNumber": line_no,
                        "CardId": card["Id"],
                        "Quantity": qty,
                        "UnitPrice": str(unit),
                        "LineTotal": str(line_total),
                    }
                )
                sales.append(
                    {
                        "SaleId": str(stable_uuid(seed, "sale", n, line_no)),
                        "OrderId": order_id,
                        "CardId": card["Id"],
                        "Quantity": qty,
                        "Amount": str(line_total),
                        "SoldAt": clock.iso(created),
                    }
                )
                sold.append((card["Id"], location, qty, order_id, created))
            status = orng.choices(["COMPLETED", "SHIPPED", "PAID"], [70, 20, 10])[0]
            orders.append(
                {
                    "OrderId": order_id,
                    "CustomerId": orng.choice(customers),
                    "Status": status,
                    "Total": str(total.quantize(CENT)),
                    "Currency": "USD",
                    "CreatedAt": clock.iso(created),
                    "UpdatedAt": clock.iso(clock.after(orng, created, 5)),
                }
            )
            payments.append(
                {
                    "PaymentId": str(stable_uuid(seed, "payment", n)),
                    "OrderId": order_id,
                    "Amount": str(total.quantize(CENT)),
                    "Currency": "USD",
                    "Method": orng.choice(V.PAYMENT_METHODS),
                    "Status": "CAPTURED",
                    "ProviderRef": f"pi_{values.hexstr(orng, 24)}",
                    "CreatedAt": clock.iso(created),
                }
            )
        self._w = {
            "cards": cards,
            "orders": orders,
            "lines": lines,
            "sales": sales,
            "payments": payments,
            "sold": sold,
        }
        return self._w

    # -- DynamoDB -------------------------------------------------------------------------
    def items(self, store: str) -> list[Row] | None:
        spec = self.plan.system.stores[store]
        if not isinstance(spec, DynamoStore) or len(spec.items) != 1:
            return None
        ((type_name, itype),) = spec.items.items()
        source = {
            "card": "cards",
            "order": "orders",
            "line_item": "lines",
            "sale": "sales",
            "payment": "payments",
        }.get(type_name)
        if source is None:
            return None
        rows = self._world()[source]
        if rows and not set(rows[0]) <= set(itype.fields):
            return None  # the declared fields moved on: generic data instead
        return [render_keys(spec, itype, dict(r)) for r in rows]

    # -- PostgreSQL -----------------------------------------------------------------------
    def _levels(self) -> tuple[list[Row], list[Row]]:
        if hasattr(self, "_lv"):
            return self._lv
        w = self._world()
        clock = self.plan.clock
        rng = stream(self.plan.seed, "tcgstore", "stock")
        sold_by: dict[tuple[str, str], list[tuple[int, str, dt.datetime]]] = {}
        for card, loc, qty, order, at in w["sold"]:
            sold_by.setdefault((card, loc), []).append((qty, order, at))
        levels: list[Row] = []
        moves: list[Row] = []
        for card in w["cards"]:
            locs = {loc for (c, loc) in sold_by if c == card["Id"]}
            locs.add(rng.choice(V.LOCATIONS))
            for loc in sorted(locs):
                sales = sorted(sold_by.get((card["Id"], loc), []), key=lambda s: s[2])
                need = sum(q for q, _, _ in sales)
                received = clock.between(rng, clock.start, clock.start + dt.timedelta(days=30))
                on_hand = 0
                for batch in range(rng.randint(1, 3)):
                    q = need + rng.randint(4, 40) if batch == 0 else rng.randint(4, 24)
                    on_hand += q
                    moves.append(
                        {
                            "card_id": card["Id"],
                            "location": loc,
                            "quantity_delta": q,
                            "movement_type": "receipt",
                            "reason": "Distributor shipment",
                            "reference_id": f"PO-{values.hexstr(rng, 8).upper()}",
                            "created_by": "receiving",
                            "created_at": received + dt.timedelta(days=20 * batch),
                        }
                    )
                for q, order, at in sales:
                    on_hand -= q
                    moves.append(
                        {
                            "card_id": card["Id"],
                            "location": loc,
                            "quantity_delta": -q,
                            "movement_type": "sale",
                            "reason": "Order fulfilment",
                            "reference_id": order,
                            "created_by": "order-service",
                            "created_at": max(at, received),
                        }
                    )
                if on_hand > 2 and rng.random() < 0.1:
                    on_hand -= 1
                    moves.append(
                        {
                            "card_id": card["Id"],
                            "location": loc,
                            "quantity_delta": -1,
                            "movement_type": "damaged",
                            "reason": "Bent corner",
                            "reference_id": None,
                            "created_by": "stock-audit",
                            "created_at": clock.after(rng, received, 200),
                        }
                    )
                levels.append(
                    {
                        "card_id": card["Id"],
                        "location": loc,
                        "quantity_on_hand": on_hand,
                        "quantity_reserved": rng.randint(0, min(on_hand, 2)),
                        "version": 1 + len(sales),
                        "created_at": received,
                        "updated_at": clock.now,
                    }
                )
        self._lv = (levels, moves)
        return self._lv

    def count(self, store: str, table: str) -> int | None:
        # Tables the order.placed consumer writes (processed_events, stock_shortages) start
        # empty: the seeded orders were never placed through events.
        if self.plan.spec(store, table) is not None and self.partial_rows(store, table) is None:
            return 0
        return None

    def partial_rows(self, store: str, table: str) -> list[Row] | None:
        spec = self.plan.spec(store, table)
        if spec is None:
            return None
        levels, moves = self._levels()
        if {"card_id", "location", "quantity_on_hand"} <= set(spec.columns) and (
            "quantity_reserved" in spec.columns
        ):
            return levels if table == _level_table(self.plan, store) else None
        if {"card_id", "location", "quantity_delta"} <= set(spec.columns):
            return moves
        if {"card_id", "location", "reorder_threshold"} <= set(spec.columns):
            rng = stream(self.plan.seed, "tcgstore", "reorder")
            out = []
            for lv in levels:
                t = rng.randint(2, 8)
                out.append(
                    {
                        "card_id": lv["card_id"],
                        "location": lv["location"],
                        "reorder_threshold": t,
                        "reorder_quantity": rng.randint(8, 36),
                        "max_stock": t + rng.randint(20, 80),
                        "lead_time_days": rng.randint(3, 21),
                    }
                )
            return out
        return None

    # -- invariants -----------------------------------------------------------------------
    def check(self, reader: Any) -> Iterator[str]:
        system = self.plan.system
        stores = {n: s for n, s in system.dynamodb_stores().items() if len(s.items) == 1}
        by_type = {next(iter(s.items)): n for n, s in stores.items()}
        if not {"card", "order", "line_item", "payment"} <= set(by_type):
            return
        cards = {i["Id"] for i in reader.scan(by_type["card"])}
        totals: dict[str, Decimal] = {}
        for line in reader.scan(by_type["line_item"]):
            if line["CardId"] not in cards:
                yield (
                    f"tcgstore: line item of order {line['OrderId']} names unknown card "
                    f"{line['CardId']}"
                )
                return
            totals[line["OrderId"]] = totals.get(line["OrderId"], Decimal(0)) + Decimal(
                line["LineTotal"]
            )
        orders = {o["OrderId"]: Decimal(o["Total"]) for o in reader.scan(by_type["order"])}
        for oid, total in orders.items():
            if totals.get(oid, Decimal(0)) != total:
                yield f"tcgstore: order {oid} Total {total} != sum of its lines {totals.get(oid)}"
                return
        for p in reader.scan(by_type["payment"]):
            if orders.get(p["OrderId"]) != Decimal(p["Amount"]):
                yield f"tcgstore: payment {p['PaymentId']} amount != its order's Total"
                return
        for store in system.postgres_stores():
            level = _level_table(self.plan, store)
            moves = next(
                (
                    t
                    for (s, t) in self.plan.order
                    if s == store and "quantity_delta" in self.plan.specs[(s, t)].columns
                ),
                None,
            )
            if not level or not moves:
                continue
            rows = reader.sql(
                store,
                f"SELECT l.card_id, l.location, l.quantity_on_hand, "
                f"coalesce(sum(m.quantity_delta), 0) FROM {level} l LEFT JOIN "
                f"{moves} m USING (card_id, location) GROUP BY 1, 2, 3 "
                "HAVING l.quantity_on_hand <> coalesce(sum(m.quantity_delta), 0)"
                " LIMIT 1",
            )
            for card, loc, on_hand, total in rows:
                yield (
                    f"tcgstore: {store}.{level} {card}@{loc}: quantity_on_hand {on_hand} != "
                    f"sum of its movements {total}"
                )
                return
            ids = {r[0] for r in reader.sql(store, f"SELECT DISTINCT card_id FROM {level}")}
            if not ids <= cards:
                yield f"tcgstore: {store}.{level} has stock of cards not in the catalog"
                return


def _level_table(plan: Any, store: str) -> str | None:
    for s, t in plan.order:
        cols = plan.specs[(s, t)].columns
        if s == store and {"card_id", "location", "quantity_on_hand"} <= set(cols):
            return t
    return None


def _card_name(rng: Any, ctype: str) -> str:
    if ctype == "Creature":
        base = f"{rng.choice(V.PREFIXES)}{rng.choice(V.CORES)} {rng.choice(V.CREATURES)}"
    else:
        base = f"{rng.choice(V.PREFIXES)}{rng.choice(V.CORES)} {rng.choice(V.THINGS[ctype])}"
    if rng.random() < 0.15:
        base += " " + rng.choice(V.TITLES)
    return base


def _rules_text(rng: Any, name: str, ctype: str) -> str:
    parts = []
    if ctype in ("Creature", "Hero") and rng.random() < 0.7:
        parts.append(", ".join(rng.sample(V.KEYWORDS, rng.randint(1, 2))) + ".")
    parts.append(rng.choice(V.EFFECTS).format(name=name, n=rng.randint(1, 4)))
    if rng.random() < 0.4:
        parts.append(f"“{rng.choice(V.FLAVOR)}”")
    return " ".join(parts)


DOMAIN = TcgStore
