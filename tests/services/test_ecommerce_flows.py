"""ecommerce's shopping path end to end through the stack's real Kafka and PostgreSQL.

register → cart → checkout → order (items, history) → payment → confirmed → shipment →
tracking → delivered → return → approval → refund → order refunded, each service in its
own process-like app (consumer and outbox relay threads running), touching only its own
database. Plus: a redelivered event changes nothing, a repeated POST with the same
Idempotency-Key answers the same, an event whose publish failed after its commit is
relayed later, bad input is a 4xx naming the field, each service's login opens only its
own database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from emulation.stack import LocalStack
from polystore.topology.model import EventLink, Topology
from service_events import publisher_from_env
from service_events.envelope import Envelope
from tests.services.conftest import client_for, service_env
from tests.services.test_order_events import wait_for

pytestmark = pytest.mark.slow
SYSTEMS = ["ecommerce"]
SERVICES = ["auth", "user", "cart", "order", "payment", "shipping", "return"]
ADDRESS = {"recipient_name": "Erin Example", "line1": "1 Harbor Way", "city": "Portland",
           "region": "OR", "postal_code": "97201", "country_code": "US"}  # fmt: skip


def connect(stack: LocalStack, topology: Topology, service: str,
            dbname: str | None = None) -> psycopg.Connection[Any]:  # fmt: skip
    env = service_env(stack, topology, f"ecommerce.{service}")
    return psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
                           dbname=dbname or env["PGDATABASE"], password=env.get("PGPASSWORD"),
                           autocommit=True)  # fmt: skip


def one(conn: psycopg.Connection[Any], sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def apps(stack: LocalStack, topology: Topology) -> Iterator[dict[str, TestClient]]:
    # an operator's set-up in shipping's own database: one carrier and one method
    with connect(stack, topology, "shipping") as conn:
        carrier = one(conn, "INSERT INTO carriers (code, name) VALUES ('acme', 'Acme Parcel') "
                            "RETURNING id")  # fmt: skip
        conn.execute(
            "INSERT INTO shipping_methods (carrier_id, code, name, service_level) "
            "VALUES (%s, 'acme-standard', 'Acme Standard', 'standard')",
            (carrier,),
        )
    clients = {s: client_for(stack, topology, f"ecommerce.{s}") for s in SERVICES}
    for c in clients.values():
        c.__enter__()  # the lifespan: consumer and outbox relay threads run
    try:
        yield clients
    finally:
        for c in clients.values():
            c.__exit__(None, None, None)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def until(what: str, fetch: Callable[[], Any], check: Callable[[Any], bool]) -> Any:
    """Poll ``fetch`` until ``check`` holds for what it returns; return that."""
    got: list[Any] = []

    def probe() -> bool:
        got[:] = [fetch()]
        return check(got[0])

    wait_for(what, probe)
    return got[0]


def register(apps: dict[str, TestClient]) -> str:
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    return str(
        ok(apps["auth"].post("/register", json={"email": email, "password": "correct horse"}), 201)[
            "id"
        ]
    )


def line(product: uuid.UUID, quantity: int, price: str) -> dict[str, Any]:
    return {
        "product_id": str(product),
        "quantity": quantity,
        "unit_price": price,
        "sku": f"SKU-{str(product)[:8]}",
        "product_name": f"Product {str(product)[:4]}",
    }


def order_of(apps: dict[str, TestClient], user_id: str) -> dict[str, Any]:
    items = until("the order from the checkout",
                  lambda: ok(apps["order"].get("/queries/user-orders",
                                               params={"user_id": user_id}))["items"],
                  lambda got: len(got) == 1)  # fmt: skip
    return ok(apps["order"].get(f"/orders/{items[0]['id']}"))


def order_status(apps: dict[str, TestClient], order_id: str, status: str) -> dict[str, Any]:
    return until(f"order {order_id} {status}",
                 lambda: ok(apps["order"].get(f"/orders/{order_id}")),
                 lambda o: o["status"] == status)  # fmt: skip


def test_cart_to_refund_end_to_end(apps: dict[str, TestClient], stack: LocalStack,
                                   topology: Topology) -> None:  # fmt: skip
    cart, payment, shipping, ret = apps["cart"], apps["payment"], apps["shipping"], apps["return"]
    user_id = register(apps)
    jacket, mug, lamp = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ok(cart.post(f"/users/{user_id}/cart/items", json=line(jacket, 2, "19.99")), 201)
    ok(cart.post(f"/users/{user_id}/cart/items", json=line(mug, 1, "5.00")), 201)
    c = ok(cart.post(f"/users/{user_id}/cart/items", json=line(jacket, 1, "19.99")), 201)
    c = ok(cart.post(f"/users/{user_id}/cart/items", json=line(lamp, 1, "42.00")), 201)
    by_product = {i["product_id"]: i for i in c["items"]}
    assert by_product[str(jacket)]["quantity"] == 3  # the same product again adds up
    c = ok(cart.patch(f"/users/{user_id}/cart/items/{by_product[str(mug)]['id']}",
                      json={"quantity": 2}))  # fmt: skip
    c = ok(cart.delete(f"/users/{user_id}/cart/items/{by_product[str(lamp)]['id']}"))
    assert (c["subtotal"], c["item_count"], len(c["items"])) == ("69.97", 5, 2)
    cart_id = c["id"]

    checkout = {"shipping_address": ADDRESS, "shipping_method": "acme-standard"}
    assert ok(cart.post(f"/carts/{cart_id}/checkout", json=checkout), 201)["status"] == "converted"
    again = ok(cart.post(f"/carts/{cart_id}/checkout", json=checkout))  # no second event
    assert again["status"] == "converted"

    order = order_of(apps, user_id)
    order_id = order["id"]
    assert (order["status"], order["cart_id"], order["grand_total"]) == ("pending", cart_id,
                                                                          "69.97")  # fmt: skip
    assert sorted((i["sku"], i["quantity"], i["line_total"]) for i in order["items"]) == sorted(
        [(f"SKU-{str(jacket)[:8]}", 3, "59.97"), (f"SKU-{str(mug)[:8]}", 2, "10.00")]
    )
    assert order["shipping_addresses"][0]["city"] == "Portland"
    assert [h["to_status"] for h in order["status_history"]] == ["pending"]
    with connect(stack, topology, "cart") as conn:
        until("cart.converted_order_id", lambda: one(
            conn, "SELECT converted_order_id::text FROM carts WHERE id = %s", cart_id),
            lambda got: got == order_id)  # fmt: skip

    pays = until("the payment opened by order.created",
                 lambda: ok(payment.get("/queries/payments-of-order",
                                        params={"order_id": order_id}))["items"],
                 lambda got: len(got) == 1)  # fmt: skip
    payment_id = pays[0]["id"]
    assert (pays[0]["status"], pays[0]["amount"]) == ("pending", "69.97")
    capture = {"provider": "stripe", "provider_payment_id": "pi_3Q0test"}
    key = {"Idempotency-Key": f"capture-{payment_id}"}
    first = ok(payment.post(f"/payments/{payment_id}/capture", json=capture, headers=key), 201)
    second = ok(payment.post(f"/payments/{payment_id}/capture", json=capture, headers=key))
    assert first == second and first["status"] == "captured"
    assert [t["transaction_type"] for t in first["transactions"]] == ["capture"]

    order_status(apps, order_id, "confirmed")
    ships = until("the shipment of the confirmed order",
                  lambda: ok(shipping.get("/queries/shipments-of-order",
                                          params={"order_id": order_id}))["items"],
                  lambda got: len(got) == 1)  # fmt: skip
    shipment_id = ships[0]["id"]
    assert ships[0]["ship_to"]["recipient_name"] == "Erin Example"
    moving = {"status": "in_transit", "tracking_number": "1Z999AA10123456784",
              "carrier_event_code": "E1", "location": "Portland, OR"}  # fmt: skip
    ok(shipping.post(f"/shipments/{shipment_id}/tracking", json=moving), 201)
    replay = ok(shipping.post(f"/shipments/{shipment_id}/tracking", json=moving))
    assert len(replay["tracking"]) == 1  # the same carrier event once
    order_status(apps, order_id, "shipped")
    done = {"status": "delivered", "carrier_event_code": "E2"}
    assert ok(shipping.post(f"/shipments/{shipment_id}/tracking", json=done),
              201)["delivered_at"] is not None  # fmt: skip
    order = order_status(apps, order_id, "delivered")

    jacket_item = next(i for i in order["items"] if i["product_id"] == str(jacket))
    request = {
        "order_id": order_id,
        "user_id": user_id,
        "payment_id": payment_id,
        "reason_code": "damaged",
        "items": [
            {
                "order_item_id": jacket_item["id"],
                "product_id": str(jacket),
                "quantity": 1,
                "refund_amount": "19.99",
                "item_condition": "damaged",
            }
        ],
    }
    return_id = ok(ret.post("/returns", json=request), 201)["id"]
    approved = ok(ret.post(f"/returns/{return_id}/approval", json={}), 201)
    assert approved["status"] == "approved" and len(approved["authorizations"]) == 1
    assert ok(ret.post(f"/returns/{return_id}/approval", json={}))["authorizations"] == \
        approved["authorizations"]  # fmt: skip
    refunded = until("the return refunded", lambda: ok(ret.get(f"/returns/{return_id}")),
                     lambda r: r["status"] == "refunded")  # fmt: skip
    assert [h["to_status"] for h in refunded["status_history"]] == ["requested", "approved",
                                                                    "refunded"]  # fmt: skip
    assert refunded["refunds"][0]["status"] == "succeeded"
    paid = ok(payment.get(f"/payments/{payment_id}"))
    assert (paid["status"], paid["amount_refunded"]) == ("partially_refunded", "19.99")
    assert refunded["refunds"][0]["payment_refund_id"] == paid["refunds"][0]["id"]

    # the rest by hand, money-moving: the same key twice is one refund
    key = {"Idempotency-Key": f"rest-of-{order_id}"}
    rest = {"amount": "49.98", "reason": "goodwill"}
    r1 = ok(payment.post(f"/payments/{payment_id}/refunds", json=rest, headers=key), 201)
    r2 = ok(payment.post(f"/payments/{payment_id}/refunds", json=rest, headers=key))
    assert r1 == r2
    paid = ok(payment.get(f"/payments/{payment_id}"))
    assert (paid["status"], paid["amount_refunded"], len(paid["refunds"])) == (
        "refunded", "69.97", 2)  # fmt: skip

    order = order_status(apps, order_id, "refunded")
    moves = [h["to_status"] for h in order["status_history"]
             if h["from_status"] != h["to_status"]]  # fmt: skip
    assert moves == ["pending", "confirmed", "shipped", "delivered", "refunded"]
    notes = [h["reason"] for h in order["status_history"] if h["from_status"] == h["to_status"]]
    assert f"return {return_id} approved" in notes and any("partial refund" in n for n in notes)

    for service in ("auth", "cart", "order", "payment", "shipping", "return"):
        with connect(stack, topology, service) as conn:
            until(f"{service}'s outbox relayed", lambda conn=conn: one(
                conn, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
                lambda n: n == 0)  # fmt: skip


def test_redelivered_events_change_nothing(apps: dict[str, TestClient], stack: LocalStack,
                                           topology: Topology) -> None:  # fmt: skip
    """Every envelope the path published, sent again through Kafka: no second order,
    payment, shipment, refund or history row."""
    tables = {"order": ["orders", "order_items", "order_status_history"],
              "payment": ["payments", "refunds", "payment_transactions"],
              "shipping": ["shipments"], "return": ["return_status_history"],
              "cart": ["carts"]}  # fmt: skip

    def counts() -> dict[str, int]:
        out = {}
        for service, names in tables.items():
            with connect(stack, topology, service) as conn:
                out |= {n: one(conn, f"SELECT count(*) FROM {n}") for n in names}
        return out

    if counts()["orders"] == 0:
        # xdist may run this test on a worker of its own (the stack is per worker): the
        # path's events must exist first
        test_cart_to_refund_end_to_end(apps, stack, topology)
    before = counts()
    assert before["orders"] >= 1
    handled_before = {s: apps[s].get("/health").json()["consumer"]["handled"]
                      for s in ("order", "payment", "shipping", "return", "cart")}  # fmt: skip
    carries = {link.event: link.carries for link in topology.system("ecommerce").links.values()
               if isinstance(link, EventLink)}  # fmt: skip
    sent = 0
    for service in ("cart", "order", "payment", "shipping", "return"):
        with connect(stack, topology, service) as conn:
            rows = conn.execute("SELECT envelope FROM outbox ORDER BY seq").fetchall()
        env = service_env(stack, topology, f"ecommerce.{service}")
        pub = publisher_from_env(topology.system("ecommerce"), service, env)
        for (doc,) in rows:
            envelope = Envelope.from_bytes(json.dumps(doc).encode())
            # what travels is what the topology's link says it carries
            assert set(envelope.data) == set(carries[envelope.type]), envelope.type
            pub.publish_envelope(envelope)
            sent += 1
        pub.flush()
    assert sent >= 8

    def handled() -> int:
        return sum(apps[s].get("/health").json()["consumer"]["handled"] - handled_before[s]
                   for s in handled_before)  # fmt: skip

    # each consumer got the copies it is declared to consume (and skipped nothing new)
    until("the redeliveries consumed", handled, lambda n: n >= sent)
    assert counts() == before


def test_outbox_relays_an_event_whose_publish_failed(apps: dict[str, TestClient],
                                                     stack: LocalStack,
                                                     topology: Topology) -> None:  # fmt: skip
    """Kafka refuses the publish after auth's commit (a crash there looks the same): the
    account exists, its event waits in the outbox, and a relay — here the other auth
    process's background relay — publishes it; the profile follows."""

    class KafkaDown:
        def relay(self, envelopes: list[Any]) -> None:
            raise ConnectionError("broker unreachable")

        def domain(self, *args: Any) -> None:
            raise ConnectionError("broker unreachable")

        analytics = domain

        def close(self) -> None:
            pass

    broken = client_for(stack, topology, "ecommerce.auth", KafkaDown())  # no lifespan
    email = f"late-{uuid.uuid4().hex[:8]}@example.com"
    user_id = ok(broken.post("/register", json={"email": email, "password": "correct horse"}),
                 201)["id"]  # fmt: skip
    profile = until(
        "the profile of the relayed user.created",
        lambda: (
            apps["user"]
            .get("/queries/profile-of-user", params={"user_id": user_id})
            .json()["items"]
        ),
        bool,
    )
    assert profile[0]["user_id"] == user_id
    with connect(stack, topology, "auth") as conn:
        attempts, error, sent = conn.execute(
            "SELECT attempts, last_error, sent_at FROM outbox WHERE event_key = %s",
            (user_id,)).fetchone() or (None, None, None)  # fmt: skip
    assert sent is not None and attempts >= 1 and error is None


def test_bad_input_is_4xx(apps: dict[str, TestClient]) -> None:
    cart, order, payment = apps["cart"], apps["order"], apps["payment"]
    shipping, ret = apps["shipping"], apps["return"]
    user = str(uuid.uuid4())
    product = uuid.uuid4()
    for bad, field in ((line(product, 1, "0"), "unit_price"), (line(product, 1, "1.999"),
                       "unit_price"), (line(product, 0, "1.00"), "quantity"),
                       (line(product, 1, "abc"), "unit_price"),
                       (line(product, 1, "1.00") | {"color": "red"}, "color")):  # fmt: skip
        r = cart.post(f"/users/{user}/cart/items", json=bad)
        assert r.status_code == 422 and field in str(r.json()["detail"]), (bad, r.text)
    r = cart.post("/users/not-a-uuid/cart/items", json=line(product, 1, "1.00"))
    assert r.status_code == 422 and "user_id" in str(r.json()["detail"])
    checkout = {"shipping_address": ADDRESS}
    r = cart.post(f"/carts/{uuid.uuid4()}/checkout", json=checkout)
    assert r.status_code == 404 and r.json()["error"]["field"] == "cart_id"
    r = cart.post(
        f"/carts/{uuid.uuid4()}/checkout",
        json={"shipping_address": ADDRESS | {"country_code": "usa"}},
    )
    assert r.status_code == 422 and "country_code" in str(r.json()["detail"])
    assert cart.get(f"/users/{user}/cart").status_code == 404
    r = cart.delete(f"/users/{user}/cart/items/{uuid.uuid4()}")
    assert r.status_code == 404
    assert order.get(f"/orders/{uuid.uuid4()}").status_code == 404
    assert order.post(f"/orders/{uuid.uuid4()}/cancellation", json={}).status_code == 404
    r = payment.post(
        f"/payments/{uuid.uuid4()}/capture",
        json={"provider": "stripe", "provider_payment_id": "pi"},
    )
    assert r.status_code == 404 and r.json()["error"]["field"] == "payment_id"
    r = payment.post(f"/payments/{uuid.uuid4()}/refunds", json={"amount": "1.00"},
                     headers={"Idempotency-Key": "x" * 129})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["field"] == "Idempotency-Key"
    r = payment.post(f"/payments/{uuid.uuid4()}/refunds", json={"amount": "-1"})
    assert r.status_code == 422 and "amount" in str(r.json()["detail"])
    r = shipping.post(f"/shipments/{uuid.uuid4()}/tracking", json={"status": "lost"})
    assert r.status_code == 422 and "status" in str(r.json()["detail"])
    r = shipping.post(f"/shipments/{uuid.uuid4()}/tracking", json={"status": "in_transit"})
    assert r.status_code == 404
    r = ret.post("/returns", json={"order_id": str(uuid.uuid4()), "user_id": user,
                                   "payment_id": str(uuid.uuid4()), "reason_code": "x",
                                   "items": []})  # fmt: skip
    assert r.status_code == 422 and "items" in str(r.json()["detail"])
    assert ret.post(f"/returns/{uuid.uuid4()}/approval", json={}).status_code == 404


def test_a_refund_beyond_the_payment_is_409(apps: dict[str, TestClient]) -> None:
    cart, payment = apps["cart"], apps["payment"]
    user_id = register(apps)
    c = ok(cart.post(f"/users/{user_id}/cart/items", json=line(uuid.uuid4(), 1, "10.00")), 201)
    ok(
        cart.post(
            f"/carts/{c['id']}/checkout",
            json={"shipping_address": ADDRESS, "shipping_method": "acme-standard"},
        ),
        201,
    )
    order = order_of(apps, user_id)
    pays = until(
        "the payment",
        lambda: ok(payment.get("/queries/payments-of-order", params={"order_id": order["id"]}))[
            "items"
        ],
        bool,
    )
    pid = pays[0]["id"]
    r = payment.post(f"/payments/{pid}/refunds", json={"amount": "1.00"})
    assert r.status_code == 409  # nothing captured yet
    ok(
        payment.post(
            f"/payments/{pid}/capture", json={"provider": "stripe", "provider_payment_id": "pi_x"}
        ),
        201,
    )
    r = payment.post(f"/payments/{pid}/refunds", json={"amount": "10.01"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "amount"
    # cancelling the confirmed order refunds what was captured (order.cancelled)
    order_status(apps, order["id"], "confirmed")
    ok(apps["order"].post(f"/orders/{order['id']}/cancellation", json={}), 201)
    until("the cancelled order's refund", lambda: ok(payment.get(f"/payments/{pid}")),
          lambda p: p["status"] == "refunded")  # fmt: skip


def test_each_service_opens_only_its_own_database(stack: LocalStack,
                                                  topology: Topology) -> None:  # fmt: skip
    system = topology.system("ecommerce")
    databases = {svc: next(s.database for s in system.stores_of(svc).values()
                           if s.kind == "postgres")  # type: ignore[union-attr]
                 for svc in system.services}  # fmt: skip
    assert len(set(databases.values())) == 10
    for svc, own in databases.items():
        assert service_env(stack, topology, f"ecommerce.{svc}")["PGDATABASE"] == own
        with connect(stack, topology, svc) as conn:
            assert one(conn, "SELECT current_database()") == own
        for other in set(databases.values()) - {own}:
            with pytest.raises(psycopg.OperationalError, match="permission denied"):
                connect(stack, topology, svc, dbname=other)


def test_concurrent_writes_keep_their_invariants(apps: dict[str, TestClient]) -> None:
    """16 first adds to one user's cart make one active cart; 24 refunds of 1.00 on a
    10.00 payment refund exactly 10.00."""
    from concurrent.futures import ThreadPoolExecutor

    cart, payment = apps["cart"], apps["payment"]
    user_id = register(apps)
    products = [uuid.uuid4() for _ in range(16)]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda p: cart.post(f"/users/{user_id}/cart/items",
                                                  json=line(p, 1, "0.625")).status_code,
                              products))  # fmt: skip
    assert codes.count(422) == 16  # 3 decimal places: refused, nothing written
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda p: cart.post(f"/users/{user_id}/cart/items",
                                                  json=line(p, 1, "0.625"[:4])).status_code,
                              products))  # fmt: skip
    assert codes == [201] * 16
    c = ok(cart.get(f"/users/{user_id}/cart"))
    assert (len(c["items"]), c["item_count"], c["subtotal"]) == (16, 16, "9.92")
    ok(cart.post(f"/users/{user_id}/cart/items", json=line(uuid.uuid4(), 1, "0.08")), 201)
    ok(
        cart.post(
            f"/carts/{c['id']}/checkout",
            json={"shipping_address": ADDRESS, "shipping_method": "acme-standard"},
        ),
        201,
    )
    order = order_of(apps, user_id)
    assert order["grand_total"] == "10.00"
    pays = until(
        "the payment",
        lambda: ok(payment.get("/queries/payments-of-order", params={"order_id": order["id"]}))[
            "items"
        ],
        bool,
    )
    pid = pays[0]["id"]
    ok(
        payment.post(
            f"/payments/{pid}/capture", json={"provider": "stripe", "provider_payment_id": "pi_c"}
        ),
        201,
    )
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: payment.post(
            f"/payments/{pid}/refunds", json={"amount": "1.00"},
            headers={"Idempotency-Key": f"c-{pid}-{i}"}).status_code, range(24)))  # fmt: skip
    assert sorted(codes) == [201] * 10 + [409] * 14
    paid = ok(payment.get(f"/payments/{pid}"))
    assert (paid["status"], paid["amount_refunded"], len(paid["refunds"])) == (
        "refunded", "10.00", 10)  # fmt: skip
