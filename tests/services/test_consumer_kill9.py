"""kill -9 of consuming services in the middle of a stream loses and repeats nothing.

inventory and payment run as real processes, started by the stack as ``polystore up``
starts them (``emulation/service_workers.py``). N ``order.placed`` events are published;
while they are being applied both processes get SIGKILL, then ``up`` starts them again.
Every event must end applied exactly once: the offset is committed only after the
handler's transaction (or conditional put) succeeded, and a redelivered event finds its
claim (inventory's ``processed_events``) or its item (payment's PaymentId) and stops.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from emulation import procs, report
from emulation.stack import LocalStack
from polystore.naming import store_env_var
from polystore.topology.model import Topology
from service_events import publisher_from_env
from tests.services.conftest import wait_for

pytestmark = pytest.mark.slow
SYSTEMS = ["tcgstore"]
N = 1000  # events: enough that both consumers are still busy when they are killed
CARDS = [f"k9-card-{i}" for i in range(5)]
STOCK = 100_000
WAIT = 180.0  # a restarted member waits for the killed one's session to expire (45 s)




def lines_of(i: int) -> list[dict[str, Any]]:
    first = {"LineNumber": 1, "CardId": CARDS[i % 5], "Quantity": 1 + i % 3, "UnitPrice": "2"}
    if i % 2:
        return [first]
    return [first, {"LineNumber": 2, "CardId": CARDS[(i + 1) % 5], "Quantity": 1,
                    "UnitPrice": "2"}]  # fmt: skip


def kill(stack: LocalStack, name: str) -> None:
    tracked = procs.read_tracked(stack.dir.pids / "workers", name)
    assert tracked is not None and tracked.is_alive(), f"{name} is not running"
    os.kill(tracked.pid, signal.SIGKILL)
    wait_for(f"{name} to die", lambda: not tracked.is_alive(), timeout=10)


def test_kill_9_mid_stream_applies_every_event_once(stack: LocalStack,
                                                    topology: Topology) -> None:  # fmt: skip
    system = topology.system("tcgstore")
    stack.up([system], runtime="embedded", services=True)
    urls = {w: e["url"] for w, e in report.status(stack.dir, [system])["workers"].items()
            if e.get("url")}  # fmt: skip
    for card in CARDS:
        r = httpx.post(f"{urls['svc-tcgstore-inventory']}/cards/{card}/stock-movements",
                       json={"location": "S1", "quantity_delta": STOCK,
                             "movement_type": "receipt"})  # fmt: skip
        assert r.status_code == 201, r.text

    inv_env = report.env(stack.dir, system, "inventory")
    pay_env = report.env(stack.dir, system, "payment")
    run = uuid.uuid4().hex[:8]
    prefix = f"k9-{run}-"
    conn = psycopg.connect(host=inv_env["PGHOST"], port=inv_env["PGPORT"],
                           user=inv_env["PGUSER"], password=inv_env["PGPASSWORD"],
                           dbname=inv_env["PGDATABASE"], autocommit=True)  # fmt: skip
    import boto3

    ddb = boto3.client("dynamodb", endpoint_url=pay_env["AWS_ENDPOINT_URL_DYNAMODB"],
                       region_name=pay_env["AWS_REGION"],
                       aws_access_key_id=pay_env.get("AWS_ACCESS_KEY_ID", "x"),
                       aws_secret_access_key=pay_env.get("AWS_SECRET_ACCESS_KEY", "x"))  # fmt: skip
    var = store_env_var("payments", system.stores["payments"])
    assert var is not None
    table = pay_env[var]

    def applied() -> int:
        row = conn.execute("SELECT count(*) FROM processed_events WHERE event_id LIKE %s",
                           (f"order.placed:{prefix}%",)).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

    def payments() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        args: dict[str, Any] = {"TableName": table, "FilterExpression": "begins_with(OrderId, :p)",
                                "ExpressionAttributeValues": {":p": {"S": prefix}}}  # fmt: skip
        while True:
            page = ddb.scan(**args)
            out += page["Items"]
            if "LastEvaluatedKey" not in page:
                return out
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    pub = publisher_from_env(system, "order", report.env(stack.dir, system, "order"))
    for i in range(N):
        lines = lines_of(i)
        total = sum(Decimal(ln["UnitPrice"]) * ln["Quantity"] for ln in lines)
        pub.publish("order.placed", key=f"{prefix}{i}", data={
            "OrderId": f"{prefix}{i}", "CustomerId": "k9", "Total": str(total),
            "Currency": "USD", "Method": "card", "Lines": lines})  # fmt: skip
    pub.close()

    wait_for("inventory to be mid-stream", lambda: applied() >= N // 10, timeout=WAIT)
    kill(stack, "svc-tcgstore-inventory")
    kill(stack, "svc-tcgstore-payment")
    at_kill = applied(), len(payments())
    assert 0 < at_kill[0] < N, f"inventory was not killed mid-stream: {at_kill[0]} of {N}"
    assert at_kill[1] < N, f"payment was not killed mid-stream: {at_kill[1]} of {N}"

    stack.up([system], runtime="embedded", services=True)  # what a user does: `up` again
    wait_for("inventory to apply every event", lambda: applied() >= N, timeout=WAIT)
    wait_for("payment to record every order", lambda: len(payments()) >= N, timeout=WAIT)
    paid = payments()

    # exactly once: one claim per order, one movement per line, levels that add up
    assert applied() == N
    moves = conn.execute("SELECT reference_id, card_id, quantity_delta FROM stock_movements "
                         "WHERE reference_id LIKE %s", (f"{prefix}%",)).fetchall()  # fmt: skip
    want = Counter((f"{prefix}{i}", ln["CardId"], -ln["Quantity"])
                   for i in range(N) for ln in lines_of(i))  # fmt: skip
    assert Counter(moves) == want
    sold = Counter[str]()
    for i in range(N):
        for ln in lines_of(i):
            sold[ln["CardId"]] += ln["Quantity"]
    levels = dict(conn.execute("SELECT card_id, quantity_on_hand FROM inventory_levels "
                               "WHERE card_id = ANY(%s)", (CARDS,)).fetchall())  # fmt: skip
    assert levels == {c: STOCK - sold[c] for c in CARDS}
    assert conn.execute("SELECT count(*) FROM stock_shortages WHERE order_id LIKE %s",
                        (f"{prefix}%",)).fetchone() == (0,)  # fmt: skip
    conn.close()
    by_order = Counter(p["OrderId"]["S"] for p in paid)
    assert len(paid) == N and set(by_order) == {f"{prefix}{i}" for i in range(N)}
    amounts = {p["OrderId"]["S"]: Decimal(p["Amount"]["S"]) for p in paid}
    assert all(amounts[f"{prefix}{i}"] == sum(Decimal(ln["UnitPrice"]) * ln["Quantity"]
                                              for ln in lines_of(i)) for i in range(N))  # fmt: skip
