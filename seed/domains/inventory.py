"""inventory (seed 003): warehouses in real cities, stock per SKU and warehouse, and an
event store that replays to that stock.

Per inventory row a timeline is generated first — receipts, allocations for orders
(some fulfilled by a shipment, some released or expired, some still held), returns,
adjustments — then written three ways that must agree: ``stock_transactions`` (signed
quantities with ``quantity_after``; their sum is ``quantity_on_hand``), ``allocations``
(the held ones sum to ``quantity_allocated``) and one event per change in the DynamoDB
event store (``entity_id`` = the inventory row's id, ``sequence`` 1..n in time order,
``payload`` as the inventory service writes it), so replaying an entity's events with
the service's own fold gives its PostgreSQL row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from polystore.topology.model import DynamoStore
from seed import values
from seed.domains.base import Domain, Row
from seed.dynamo_generate import render_keys
from seed.rng import stable_uuid, stream

WAREHOUSES_PER_SCALE = 6
SKUS_PER_SCALE = 40
EVENT_RETENTION = dt.timedelta(days=3 * 365)  # TTL: events archive three years after
ACTIVE = ("pending", "confirmed")
PRODUCTS = [
    "Trail Runner",
    "Rain Shell",
    "Base Layer",
    "Camp Stove",
    "Headlamp",
    "Dry Bag",
    "Trekking Pole",
    "Sleeping Pad",
    "Water Filter",
    "Down Jacket",
    "Day Pack",
]


class Inventory(Domain):
    def _tables(self) -> dict[str, str] | None:
        """Our roles -> table names, found by their columns in the topology."""
        found: dict[str, str] = {}
        for (store, table), spec in self.plan.specs.items():
            cols = set(spec.columns)
            if {"code", "country_code", "timezone"} <= cols:
                found["warehouses"] = table
            elif {"sku", "warehouse_id", "quantity_on_hand", "quantity_allocated"} <= cols:
                found["inventory"] = table
            elif {"inventory_id", "order_id", "quantity", "status"} <= cols:
                found["allocations"] = table
            elif {"inventory_id", "transaction_type", "quantity", "quantity_after"} <= cols:
                found["transactions"] = table
            found.setdefault("store", store)
        return found if len(found) == 5 else None

    def _world(self) -> dict[str, list[Row]]:
        if hasattr(self, "_w"):
            return self._w
        seed, clock = self.plan.seed, self.plan.clock
        rng = stream(seed, "inventory", "world")
        warehouses: list[Row] = []
        places = sorted({p.city: p for p in values.vocab.US_PLACES}.values())
        for n in range(WAREHOUSES_PER_SCALE * self.scale):
            p = places[(n * 7) % len(places)]
            code = f"WH-{values.slugify(p.city).replace('-', '')[:3].upper()}-{n + 1:02d}"
            warehouses.append(
                {
                    "id": stable_uuid(seed, "warehouse", n),
                    "code": code,
                    "name": f"{p.city} Fulfillment Center",
                    "address_line1": values.street(rng),
                    "city": p.city,
                    "region": rng.choice(values.vocab.US_STATES),
                    "postal_code": f"{rng.randint(10000, 99999)}",
                    "country_code": p.country,
                    "timezone": p.timezone,
                    "is_active": True,
                    "created_at": clock.start,
                    "updated_at": clock.start,
                }
            )
        inventory: list[Row] = []
        allocations: list[Row] = []
        transactions: list[Row] = []
        events: list[Row] = []
        for s in range(SKUS_PER_SCALE * self.scale):
            sku = f"SKU-{values.slugify(PRODUCTS[s % len(PRODUCTS)]).upper()[:8]}-{s:05d}"
            for wh in rng.sample(warehouses, rng.randint(1, min(3, len(warehouses)))):
                inv_id = stable_uuid(seed, "inventory", sku, str(wh["id"]))
                state = _timeline(rng, clock, inv_id, sku, wh)
                inventory.append(
                    {
                        "id": inv_id,
                        "sku": sku,
                        "warehouse_id": wh["id"],
                        "quantity_on_hand": state["on_hand"],
                        "quantity_allocated": state["allocated"],
                        "reorder_level": rng.choice([5, 10, 20, 25]),
                        "version": state["version"],
                        "created_at": state["first"],
                        "updated_at": state["last"],
                    }
                )
                allocations += state["allocations"]
                transactions += state["transactions"]
                events += state["events"]
        self._w = {
            "warehouses": warehouses,
            "inventory": inventory,
            "allocations": allocations,
            "transactions": transactions,
            "events": events,
        }
        return self._w

    def partial_rows(self, store: str, table: str) -> list[Row] | None:
        roles = self._tables()
        if roles is None or store != roles["store"]:
            return None
        role = next((r for r, t in roles.items() if t == table and r != "store"), None)
        return self._world()[role] if role else None

    def items(self, store: str) -> list[Row] | None:
        spec = self.plan.system.stores[store]
        if not isinstance(spec, DynamoStore) or self._tables() is None:
            return None
        if len(spec.items) != 1:
            return None
        ((_, itype),) = spec.items.items()
        if not {"entity_id", "sequence", "event_type", "payload"} <= set(itype.fields):
            return None
        return [render_keys(spec, itype, dict(e)) for e in self._world()["events"]]

    def check(self, reader: Any) -> Iterator[str]:
        roles = self._tables()
        stores = [
            n for n, s in self.plan.system.dynamodb_stores().items() if "entity_id" in s.attributes
        ]
        if roles is None or not stores:
            return
        store, inv, tx = roles["store"], roles["inventory"], roles["transactions"]
        rows = reader.sql(
            store,
            f"SELECT i.id, i.quantity_on_hand, i.quantity_allocated, i.version, "
            f"(SELECT t.quantity_after FROM {tx} t WHERE t.inventory_id = i.id "
            f"ORDER BY t.created_at DESC, t.quantity_after LIMIT 1) FROM {inv} i",
        )
        effects = _effects()
        replay: dict[str, list[int]] = {}
        seqs: dict[str, list[int]] = {}
        for e in reader.scan(stores[0]):
            st = replay.setdefault(str(e["entity_id"]), [0, 0])
            d_on, d_alloc = effects[str(e["event_type"])]
            st[0] += d_on * int(e["payload"]["quantity"])
            st[1] += d_alloc * int(e["payload"]["quantity"])
            seqs.setdefault(str(e["entity_id"]), []).append(int(e["sequence"]))
        for inv_id, on_hand, allocated, version, last_after in rows:
            entity = f"inventory-{inv_id}"
            if last_after is not None and last_after != on_hand:
                yield (
                    f"inventory: {inv} {inv_id}: quantity_on_hand {on_hand} != the last "
                    f"stock transaction's quantity_after {last_after}"
                )
                return
            got = replay.get(entity, [0, 0])
            if got != [on_hand, allocated]:
                yield (
                    f"inventory: events of {entity} replay to on_hand={got[0]} "
                    f"allocated={got[1]}, PostgreSQL has {on_hand}/{allocated}"
                )
                return
            seq = sorted(seqs.get(entity, []))
            if seq != list(range(1, len(seq) + 1)) or len(seq) != version:
                yield (
                    f"inventory: events of {entity} are not 1..version ({version}): "
                    f"{len(seq)} events"
                )
                return


def _effects() -> dict[str, tuple[int, int]]:
    """How each event type moves (on hand, allocated): the inventory service's own table,
    so its replay endpoint folds seeded events exactly as it folds its own."""
    from services.flows.inventory import EFFECT

    return dict(EFFECT)


def _timeline(rng: Any, clock: Any, inv_id: Any, sku: str, wh: Row) -> dict[str, Any]:
    """One inventory row's history, written as the inventory service writes it: every
    change is a stock transaction (signed quantity, ``quantity_after``) and an event
    (``entity_id`` ``inventory-<id>``, sequence = the row's version after it)."""
    effects = _effects()
    t = clock.between(rng, clock.start, clock.start + dt.timedelta(days=60))
    first = t
    state = {"on_hand": 0, "allocated": 0}
    txs: list[Row] = []
    allocs: list[Row] = []
    events: list[Row] = []

    def change(kind: str, qty: int, at: dt.datetime, ref_type: str, ref: str) -> None:
        d_on, d_alloc = effects[kind]
        state["on_hand"] += d_on * qty
        state["allocated"] += d_alloc * qty
        txs.append({"id": stable_uuid(0, "tx", str(inv_id), len(txs)), "inventory_id": inv_id,
                    "transaction_type": kind, "quantity": qty if kind == "receipt" else -qty,
                    "quantity_after": state["on_hand"], "reference_type": ref_type,
                    "reference_id": ref, "note": None, "created_by": "inventory-service",
                    "created_at": at})  # fmt: skip
        events.append({"entity_id": f"inventory-{inv_id}", "sequence": len(events) + 1,
                       "event_type": kind,
                       "payload": {"quantity": qty, "on_hand": state["on_hand"],
                                   "allocated": state["allocated"],
                                   "reference": f"{ref_type}:{ref}"},
                       "occurred_at": clock.iso(at),
                       "expires_at": int((at + EVENT_RETENTION).timestamp())})  # fmt: skip

    change("receipt", rng.randint(40, 300), t, "purchase_order", f"PO-{values.hexstr(rng, 8)}")
    for _ in range(rng.randint(2, 9)):
        t = clock.after(rng, t, 40)
        if t >= clock.now:
            break
        free = state["on_hand"] - state["allocated"]
        if rng.random() < 0.7 and free > 0:
            qty = rng.randint(1, max(1, min(12, free)))
            order = f"ORD-{values.hexstr(rng, 10).upper()}"
            outcome = rng.choices(["fulfilled", "released", "expired", "pending", "confirmed"],
                                  [50, 12, 8, 15, 15])[0]  # fmt: skip
            change("allocation", qty, t, "order", order)
            done = t
            if outcome in ("fulfilled", "released", "expired"):
                done = clock.after(rng, t, 3) + dt.timedelta(seconds=1)
                change("shipment" if outcome == "fulfilled" else "release", qty, done, "order",
                       order)  # fmt: skip
            allocs.append({"id": stable_uuid(0, "alloc", str(inv_id), len(allocs)),
                           "inventory_id": inv_id, "order_id": order, "quantity": qty,
                           "status": outcome, "expires_at": t + dt.timedelta(days=2),
                           "created_at": t, "updated_at": done})  # fmt: skip
            t = done + dt.timedelta(seconds=1)
        else:
            change("receipt", rng.randint(20, 120), t, "purchase_order",
                   f"PO-{values.hexstr(rng, 8)}")  # fmt: skip
    return {"on_hand": state["on_hand"], "allocated": state["allocated"], "transactions": txs,
            "allocations": allocs, "events": events, "first": first, "last": t,
            "version": len(events)}  # fmt: skip


DOMAIN = Inventory
