"""ecommerce (seed 004): one shopper's story told consistently by ten databases.

Users sign up in auth (the same id becomes the user service's profile), browse products
(brands, categories with a hierarchy, variants), fill carts, check out: each order has
line items priced from the catalog, totals that add up (subtotal - discount + shipping +
tax), a status history, a shipping-address snapshot, a payment for its grand total, a
coupon usage when a coupon was applied, a shipment once shipped, and sometimes a return
with a refund against its payment. Every cross-database ID is one the other database
holds — the reference map of ``stacks/ecommerce.yaml`` — and tables this module does not
shape (tokens, audit logs, notifications, rates...) come from the generic generator.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from seed import values
from seed.domains.base import Domain, Row
from seed.rng import stable_uuid, stream

USERS_PER_SCALE = 200
PRODUCTS_PER_SCALE = 60
ORDERS_PER_USER = 2
CENT = Decimal("0.01")
TAX = Decimal("0.08")
BRANDS = [
    "Northwind",
    "Alder & Co",
    "Summit",
    "Kestrel",
    "Harbor Supply",
    "Pinecrest",
    "Lumen",
    "Fieldhouse",
    "Ridgeway",
    "Marlowe",
]
# top category -> (subcategories, nouns, price range)
CATALOG = {
    "Apparel": (
        ["Jackets", "Shirts", "Knitwear"],
        ["Rain Jacket", "Flannel Shirt", "Merino Sweater", "Fleece Hoodie", "Chore Coat"],
        (25, 220),
    ),
    "Footwear": (
        ["Running", "Hiking", "Casual"],
        ["Trail Runner", "Hiking Boot", "Canvas Sneaker", "Leather Loafer"],
        (45, 240),
    ),
    "Outdoor": (
        ["Camping", "Climbing", "Bags"],
        ["Camp Stove", "Headlamp", "Day Pack", "Sleeping Bag", "Trekking Poles", "Dry Bag"],
        (15, 400),
    ),
    "Home": (
        ["Kitchen", "Bedding", "Decor"],
        ["Cast Iron Skillet", "Linen Duvet", "Ceramic Mug Set", "Wool Throw", "Pour-Over Kettle"],
        (12, 260),
    ),
    "Electronics": (
        ["Audio", "Power", "Accessories"],
        ["Wireless Earbuds", "Power Bank", "Bluetooth Speaker", "USB-C Hub", "Smart Lamp"],
        (19, 330),
    ),
}
ADJECTIVES = [
    "Classic",
    "Everyday",
    "Lightweight",
    "Waterproof",
    "Heritage",
    "Packable",
    "Insulated",
    "Organic",
    "Pro",
    "Compact",
    "Recycled",
    "Ultralight",
]
COUPONS = [
    ("WELCOME10", "percentage", 10),
    ("SPRING25", "percentage", 25),
    ("FREESHIP", "free_shipping", 0),
    ("SAVE15", "fixed_amount", 15),
    ("VIP20", "percentage", 20),
    ("BUNDLE5", "fixed_amount", 5),
]
CARRIERS = [
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking_number}"),
    ("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}"),
    ("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}"),
    ("dhl", "DHL", "https://www.dhl.com/track?tracking-id={tracking_number}"),
]
STATUS_PATH = ["pending", "confirmed", "paid", "processing", "shipped", "delivered"]


class Ecommerce(Domain):
    def __init__(self, plan: Any) -> None:
        super().__init__(plan)
        self._handed: set[tuple[str, str]] = set()

    def _world(self) -> dict[tuple[str, str], list[Row]]:
        if hasattr(self, "_w"):
            return self._w
        seed, clock, scale = self.plan.seed, self.plan.clock, self.scale
        rng = stream(seed, "ecommerce", "world")
        W: dict[tuple[str, str], list[Row]] = {}

        def add(store: str, table: str, row: Row) -> None:
            W.setdefault((store, table), []).append(row)

        # auth + user: the same id in both databases, names matching the email
        users: list[Row] = []
        for n in range(USERS_PER_SCALE * scale):
            first, last = values.person(rng)
            uid = stable_uuid(seed, "user", n)
            signup = clock.between(rng, clock.start, clock.now - dt.timedelta(days=30))
            email = values.email(rng, first, last, n)
            place = rng.choice(values.vocab.US_PLACES)
            users.append(
                {"id": uid, "first": first, "last": last, "signup": signup, "place": place}
            )
            add(
                "auth-db",
                "users",
                {
                    "id": uid,
                    "email": email,
                    "password_hash": "$2b$12$" + values.hexstr(rng, 53),
                    "is_active": rng.random() < 0.97,
                    "email_verified_at": signup,
                    "mfa_enabled": rng.random() < 0.1,
                    "mfa_secret_encrypted": None,
                    "failed_login_attempts": 0,
                    "locked_until": None,
                    "last_login_at": clock.after(rng, signup, 200),
                    "password_changed_at": signup,
                    "created_at": signup,
                    "updated_at": signup,
                    "deleted_at": None,
                },
            )
            add(
                "user-db",
                "user_profiles",
                {
                    "id": stable_uuid(seed, "profile", n),
                    "user_id": uid,
                    "first_name": first,
                    "last_name": last,
                    "display_name": f"{first} {last[0]}.",
                    "phone": values.phone(rng),
                    "locale": "en-US",
                    "timezone": place.timezone,
                    "created_at": signup,
                    "updated_at": signup,
                    "deleted_at": None,
                },
            )
            add(
                "user-db",
                "addresses",
                {
                    "id": stable_uuid(seed, "address", n),
                    "user_id": uid,
                    "address_type": "shipping",
                    "label": "Home",
                    "recipient_name": f"{first} {last}",
                    "line1": values.street(rng),
                    "city": place.city,
                    "region": rng.choice(values.vocab.US_STATES),
                    "postal_code": f"{rng.randint(10000, 99999)}",
                    "country_code": "US",
                    "phone": values.phone(rng),
                    "is_default": True,
                    "created_at": signup,
                    "updated_at": signup,
                },
            )
        addr = {a["user_id"]: a for a in W[("user-db", "addresses")]}
        # product catalog: categories with a hierarchy, products, one variant each at least
        cats: dict[str, Any] = {}
        for pos, (top, (subs, _, _)) in enumerate(CATALOG.items()):
            tid = stable_uuid(seed, "category", top)
            cats[top] = tid
            add(
                "product-db",
                "categories",
                {
                    "id": tid,
                    "parent_id": None,
                    "name": top,
                    "slug": values.slugify(top),
                    "position": pos,
                    "is_active": True,
                    "created_at": clock.start,
                },
            )
            for i, sub in enumerate(subs):
                sid = stable_uuid(seed, "category", top, sub)
                cats[f"{top}/{sub}"] = sid
                add(
                    "product-db",
                    "categories",
                    {
                        "id": sid,
                        "parent_id": tid,
                        "name": sub,
                        "slug": values.slugify(f"{top} {sub}"),
                        "position": i,
                        "is_active": True,
                        "created_at": clock.start,
                    },
                )
        products: list[Row] = []
        for n in range(PRODUCTS_PER_SCALE * scale):
            top = sorted(CATALOG)[n % len(CATALOG)]
            subs, nouns, (lo, hi) = CATALOG[top]
            brand, adj, noun = rng.choice(BRANDS), rng.choice(ADJECTIVES), rng.choice(nouns)
            name = f"{brand} {adj} {noun}"
            price = values.money(rng, lo, hi)
            pid = stable_uuid(seed, "product", n)
            sku = f"{values.slugify(brand)[:4].upper()}-{n:06d}"
            p = {
                "id": pid,
                "sku": sku,
                "slug": f"{values.slugify(name)}-{n}",
                "name": name,
                "description": f"The {adj.lower()} {noun.lower()} by {brand}, built to last.",
                "brand": brand,
                "price": price,
                "compare_at_price": (price * Decimal("1.25")).quantize(CENT)
                if rng.random() < 0.3
                else None,
                "cost_price": (price * Decimal("0.45")).quantize(CENT),
                "currency": "USD",
                "status": rng.choices(["active", "draft", "archived"], [90, 5, 5])[0],
                "weight_grams": rng.randint(150, 4000),
                "attributes": {"material": adj},
                "created_at": clock.start,
            }
            products.append(p)
            add("product-db", "products", p)
            add(
                "product-db",
                "product_categories",
                {
                    "product_id": pid,
                    "category_id": cats[f"{top}/{rng.choice(subs)}"],
                    "is_primary": True,
                    "position": 0,
                },
            )
            for v, size in enumerate(rng.sample(["S", "M", "L", "XL"], rng.randint(1, 3))):
                add(
                    "product-db",
                    "product_variants",
                    {
                        "id": stable_uuid(seed, "variant", n, size),
                        "product_id": pid,
                        "sku": f"{sku}-{size}",
                        "name": f"{name} / {size}",
                        "options": {"size": size},
                        "price": None,
                        "position": v,
                        "is_active": True,
                    },
                )
        sellable = [p for p in products if p["status"] == "active"] or products
        coupons = []
        for code, kind, value in COUPONS:
            coupons.append(
                {
                    "id": stable_uuid(seed, "coupon", code),
                    "code": code,
                    "discount_type": kind,
                    "discount_value": Decimal(value),
                    "description": f"{code} promotion",
                    "currency": "USD",
                    "usage_limit": None,
                    "usage_limit_per_user": 1,
                    "times_used": 0,
                    "starts_at": clock.start,
                    "ends_at": None,
                    "is_active": True,
                    "created_at": clock.start,
                }
            )
        carriers = []
        for code, name, tmpl in CARRIERS:
            c = {
                "id": stable_uuid(seed, "carrier", code),
                "code": code,
                "name": name,
                "tracking_url_template": tmpl,
                "is_active": True,
                "created_at": clock.start,
            }
            carriers.append(c)
            add("shipping-db", "carriers", c)
        # orders, with everything that follows from each
        n_order = 0
        for u in users:
            t = u["signup"]
            for _ in range(rng.randint(0, 2 * ORDERS_PER_USER)):
                t = clock.after(rng, t, 60)
                if t >= clock.now:
                    break
                n_order += 1
                oid = stable_uuid(seed, "order", n_order)
                cart_id = stable_uuid(seed, "cart", n_order)
                lines = []
                for k, p in enumerate(rng.sample(sellable, rng.randint(1, 4))):
                    qty = rng.choices([1, 2, 3], [75, 20, 5])[0]
                    lines.append((k, p, qty, (p["price"] * qty).quantize(CENT)))
                subtotal = sum((ln[3] for ln in lines), Decimal(0))
                coupon = rng.choice(coupons) if rng.random() < 0.2 else None
                shipping = Decimal("0") if subtotal >= 75 else Decimal("7.95")
                discount = Decimal(0)
                if coupon:
                    coupon["times_used"] += 1
                    if coupon["discount_type"] == "percentage":
                        discount = (subtotal * coupon["discount_value"] / 100).quantize(CENT)
                    elif coupon["discount_type"] == "fixed_amount":
                        discount = min(coupon["discount_value"], subtotal)
                    else:
                        discount, shipping = shipping, Decimal(0)
                        discount = Decimal(0)
                tax = ((subtotal - discount) * TAX).quantize(CENT)
                grand = subtotal - discount + shipping + tax
                final = rng.choices(
                    [*STATUS_PATH[1:], "cancelled", "refunded"], [3, 5, 5, 12, 60, 8, 7]
                )[0]
                path = (
                    ["pending", "cancelled"]
                    if final == "cancelled"
                    else [*STATUS_PATH, "refunded"]
                    if final == "refunded"
                    else STATUS_PATH[: STATUS_PATH.index(final) + 1]
                )
                times = [t]
                for _s in path[1:]:
                    times.append(clock.after(rng, times[-1], 3))
                add(
                    "order-db",
                    "orders",
                    {
                        "id": oid,
                        "user_id": u["id"],
                        "cart_id": cart_id,
                        "coupon_code": coupon["code"] if coupon else None,
                        "order_number": f"ORD-{t.year}-{n_order:07d}",
                        "status": final,
                        "currency": "USD",
                        "subtotal": subtotal,
                        "discount_total": discount,
                        "shipping_total": shipping,
                        "tax_total": tax,
                        "grand_total": grand,
                        "placed_at": t,
                        "cancelled_at": times[-1] if final == "cancelled" else None,
                        "created_at": t,
                        "updated_at": times[-1],
                    },
                )
                for i, (frm, to) in enumerate(zip([None, *path[:-1]], path, strict=True)):
                    add(
                        "order-db",
                        "order_status_history",
                        {
                            "id": stable_uuid(seed, "osh", n_order, i),
                            "order_id": oid,
                            "order_user_id": u["id"],
                            "from_status": frm,
                            "to_status": to,
                            "changed_by": "system",
                            "metadata": {},
                            "created_at": times[i],
                        },
                    )
                a = addr[u["id"]]
                add(
                    "order-db",
                    "shipping_addresses",
                    {
                        "id": stable_uuid(seed, "oaddr", n_order),
                        "order_id": oid,
                        "order_user_id": u["id"],
                        "address_type": "shipping",
                        **{
                            k: a[k]
                            for k in (
                                "recipient_name",
                                "line1",
                                "city",
                                "region",
                                "postal_code",
                                "country_code",
                                "phone",
                            )
                        },
                        "created_at": t,
                    },
                )
                add(
                    "cart-db",
                    "carts",
                    {
                        "id": cart_id,
                        "user_id": u["id"],
                        "session_id": None,
                        "status": "converted",
                        "currency": "USD",
                        "subtotal": subtotal,
                        "item_count": sum(ln[2] for ln in lines),
                        "converted_order_id": oid,
                        "expires_at": None,
                        "created_at": t - dt.timedelta(minutes=40),
                        "updated_at": t,
                    },
                )
                for k, p, qty, total in lines:
                    item_id = stable_uuid(seed, "oitem", n_order, k)
                    add(
                        "order-db",
                        "order_items",
                        {
                            "id": item_id,
                            "order_id": oid,
                            "order_user_id": u["id"],
                            "product_id": p["id"],
                            "variant_id": None,
                            "sku": p["sku"],
                            "product_name": p["name"],
                            "quantity": qty,
                            "unit_price": p["price"],
                            "discount_amount": Decimal(0),
                            "tax_amount": Decimal(0),
                            "line_total": total,
                            "created_at": t,
                        },
                    )
                    add(
                        "cart-db",
                        "cart_items",
                        {
                            "id": stable_uuid(seed, "citem", n_order, k),
                            "cart_id": cart_id,
                            "product_id": p["id"],
                            "variant_id": None,
                            "quantity": qty,
                            "unit_price": p["price"],
                            "created_at": t - dt.timedelta(minutes=30),
                            "updated_at": t - dt.timedelta(minutes=30),
                        },
                    )
                if coupon:
                    add(
                        "discount-db",
                        "coupon_usage",
                        {
                            "id": stable_uuid(seed, "cusage", n_order),
                            "coupon_id": coupon["id"],
                            "user_id": u["id"],
                            "order_id": oid,
                            "discount_amount": discount,
                            "currency": "USD",
                            "used_at": t,
                        },
                    )
                if final == "cancelled":
                    continue
                pay_id = stable_uuid(seed, "payment", n_order)
                paid = final not in ("confirmed",)
                add(
                    "payment-db",
                    "payments",
                    {
                        "id": pay_id,
                        "order_id": oid,
                        "user_id": u["id"],
                        "payment_method_id": None,
                        "provider": "stripe",
                        "provider_payment_id": f"pi_{values.hexstr(rng, 24)}",
                        "idempotency_key": f"order-{oid}",
                        "amount": grand,
                        "amount_refunded": grand if final == "refunded" else Decimal(0),
                        "status": "refunded"
                        if final == "refunded"
                        else "captured"
                        if paid
                        else "authorized",
                        "currency": "USD",
                        "authorized_at": t,
                        "captured_at": times[min(2, len(times) - 1)] if paid else None,
                        "created_at": t,
                        "updated_at": times[-1],
                    },
                )
                if final in ("shipped", "delivered", "refunded"):
                    carrier = rng.choice(carriers)
                    shipped = times[STATUS_PATH.index("shipped")]
                    delivered = final != "shipped"
                    add(
                        "shipping-db",
                        "shipments",
                        {
                            "id": stable_uuid(seed, "shipment", n_order),
                            "order_id": oid,
                            "carrier_id": carrier["id"],
                            "tracking_number": f"1Z{values.hexstr(rng, 16).upper()}",
                            "status": "delivered" if delivered else "in_transit",
                            "shipping_cost": shipping,
                            "currency": "USD",
                            "ship_to": {
                                k: a[k]
                                for k in (
                                    "recipient_name",
                                    "line1",
                                    "city",
                                    "region",
                                    "postal_code",
                                    "country_code",
                                )
                            },
                            "shipped_at": shipped,
                            "estimated_delivery_at": shipped + dt.timedelta(days=5),
                            "delivered_at": times[STATUS_PATH.index("delivered")]
                            if delivered
                            else None,
                            "created_at": shipped,
                            "updated_at": times[-1],
                        },
                    )
                if final == "refunded":
                    rid = stable_uuid(seed, "return", n_order)
                    requested = times[-1] - dt.timedelta(hours=12)
                    add(
                        "return-db",
                        "return_requests",
                        {
                            "id": rid,
                            "order_id": oid,
                            "user_id": u["id"],
                            "status": "refunded",
                            "reason_code": rng.choice(
                                ["wrong_size", "damaged", "not_as_described", "changed_mind"]
                            ),
                            "refund_method": "original_payment",
                            "requested_at": requested,
                            "resolved_at": times[-1],
                            "created_at": requested,
                            "updated_at": times[-1],
                        },
                    )
                    for k, p, qty, total in lines:
                        add(
                            "return-db",
                            "return_items",
                            {
                                "id": stable_uuid(seed, "ritem", n_order, k),
                                "return_request_id": rid,
                                "order_item_id": stable_uuid(seed, "oitem", n_order, k),
                                "product_id": p["id"],
                                "quantity": qty,
                                "reason_code": None,
                                "item_condition": "like_new",
                                "refund_amount": total,
                                "created_at": requested,
                            },
                        )
                    pay_refund = stable_uuid(seed, "prefund", n_order)
                    add(
                        "payment-db",
                        "refunds",
                        {
                            "id": pay_refund,
                            "payment_id": pay_id,
                            "order_id": oid,
                            "return_request_id": rid,
                            "idempotency_key": f"return-{rid}",
                            "amount": grand,
                            "currency": "USD",
                            "reason": "return",
                            "status": "succeeded",
                            "provider_refund_id": f"re_{values.hexstr(rng, 24)}",
                            "processed_at": times[-1],
                            "created_at": requested,
                            "updated_at": times[-1],
                        },
                    )
                    add(
                        "return-db",
                        "refunds",
                        {
                            "id": stable_uuid(seed, "rrefund", n_order),
                            "return_request_id": rid,
                            "payment_id": pay_id,
                            "payment_refund_id": pay_refund,
                            "amount": grand,
                            "currency": "USD",
                            "status": "succeeded",
                            "requested_at": requested,
                            "completed_at": times[-1],
                            "created_at": requested,
                            "updated_at": times[-1],
                        },
                    )
        for c in coupons:
            add("discount-db", "coupons", c)
        self._w = W
        return W

    def partial_rows(self, store: str, table: str) -> list[Row] | None:
        # taken out of the story once handed over: a streaming run keeps no copy
        rows = self._world().pop((store, table), None)
        if rows is not None:
            self._handed.add((store, table))
        return self.fit(store, table, rows) if rows is not None else None

    def count(self, store: str, table: str) -> int | None:
        if table == "outbox":
            return 0  # events not yet relayed: a seeded row would be published as real
        spec = self.plan.spec(store, table)
        if spec is None or (store, table) in self._world() or (store, table) in self._handed:
            return None
        # tables no story shapes: proportional to the users (generic rows)
        per_user = {"auth-db": 1, "notification-db": 2, "user-db": 1}.get(store)
        if per_user and any(p.target == ("auth-db", "users") for p in spec.parents):
            return per_user * USERS_PER_SCALE * self.scale
        return None


DOMAIN = Ecommerce
