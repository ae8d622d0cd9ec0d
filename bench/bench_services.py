"""Benchmark the service layer: requests/s and p50/p99 per endpoint kind, locally.

Each service runs as a real process (``python -m services``, as on ECS) against a
fresh embedded stack; one keep-alive HTTP client sends sequential requests. The
baseline, measured in the same run, is the same read made directly with the store's
client (boto3 / psycopg): the ratio is what the HTTP layer costs on top.

    python bench/bench_services.py [--requests 2000]

Kinds, each against its direct-client baseline:

- key lookup: ``GET /cards/{id}`` (catalog) vs boto3 GetItem;
- GSI query: ``GET /customers/{id}/orders`` (order; CustomerOrdersIndex, newest first,
  limit 50, 20 orders) vs boto3 Query on the index;
- search: ``GET /cards/search?q=`` (catalog; seed 000's flow) vs opensearch-py search with
  the same body, then boto3 BatchGetItem of the ids (300 cards, indexed by the stream
  poller; 20 hits per request);
- SQL join: ``GET /queries/inventory-of-sku`` (inventory) vs psycopg, same SQL.

Target: key lookup p50 <= 3 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from emulation import report  # noqa: E402
from emulation.ports import free_port  # noqa: E402
from emulation.runtimes.embedded import process_env  # noqa: E402
from emulation.stack import LocalStack  # noqa: E402
from emulation.waits import wait_for  # noqa: E402
from polystore import load_topology  # noqa: E402


def timed(n: int, call: Callable[[], Any]) -> list[float]:
    for _ in range(min(50, n)):  # warm up connections and caches
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def line(kind: str, service: list[float], direct: list[float]) -> str:
    def p(xs: list[float], q: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000

    s50, d50 = statistics.median(service) * 1000, statistics.median(direct) * 1000
    return (f"{kind:<22} service p50 {s50:6.2f} ms  p99 {p(service, 0.99):6.2f} ms  "
            f"{len(service) / sum(service):7.0f} req/s | direct p50 {d50:6.2f} ms  "
            f"p99 {p(direct, 0.99):6.2f} ms | ratio p50 {s50 / d50:4.1f}x")


def serve(stack: LocalStack, system: Any, service: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = process_env(report.env(stack.dir, system, service))
    proc = subprocess.Popen([sys.executable, "-m", "services", f"{system.name}.{service}",
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/health").raise_for_status(), what=service, timeout=60)
    return proc, url


WORDS = ["Dragon", "Goblin", "Angel", "Wizard", "Serpent", "Knight", "Phoenix", "Golem",
         "Elf", "Titan"]
HOW = ["Ancient", "Shadow", "Crimson", "Storm", "Iron", "Silent"]


def dynamo(env: dict[str, str]) -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
                        region_name=env["AWS_REGION"], aws_access_key_id="x",
                        aws_secret_access_key="x")  # fmt: skip


def bench_catalog(stack: LocalStack, tcg: Any, url: str, n: int) -> None:
    from opensearchpy import OpenSearch

    from polystore.naming import store_env_var
    from services.patterns.search import query_body

    env = report.env(stack.dir, tcg, "catalog")
    ddb = dynamo(env)
    table = env[str(store_env_var("cards", tcg.stores["cards"]))]
    index = env[str(store_env_var("cards-index", tcg.stores["cards-index"]))]
    search = OpenSearch(hosts=[env["OPENSEARCH_URL"]])
    with httpx.Client(base_url=url) as http:
        ids = []
        for i in range(300):
            name = f"{HOW[i % len(HOW)]} {WORDS[i % len(WORDS)]} {i}"
            ids.append(http.post("/cards", json={
                "name": name, "description": f"A {WORDS[(i * 7) % len(WORDS)].lower()} card.",
                "set": f"S{i % 4}", "rarity": "rare", "number": i, "price": "1"}).json()["Id"])
        print(line("key lookup", timed(n, lambda: http.get(f"/cards/{ids[0]}")),
                   timed(n, lambda: ddb.get_item(TableName=table,
                                                 Key={"Id": {"S": ids[0]}}))))  # fmt: skip
        wait_for(lambda: 1 / (search.count(index=index)["count"] >= len(ids)),
                 what="the cards indexed by the stream poller", timeout=120)  # fmt: skip
        ap = tcg.access_patterns["search-cards"]
        body = query_body(ap, tcg.stores["cards-index"], "dragon", {}, 20, 0)

        def direct() -> None:
            hits = search.search(index=index, body=body)["hits"]["hits"]
            keys = [{"Id": {"S": h["_id"]}} for h in hits]
            got = ddb.batch_get_item(RequestItems={table: {"Keys": keys}})
            assert len(got["Responses"][table]) == len(keys) == 20

        def service() -> None:
            r = http.get("/cards/search", params={"q": "dragon", "limit": 20})
            assert len(r.json()["items"]) == 20

        print(line("search (+BatchGet)", timed(n, service), timed(n, direct)))


def bench_orders(stack: LocalStack, tcg: Any, url: str, n: int) -> None:
    env = report.env(stack.dir, tcg, "order")
    ddb = dynamo(env)
    from polystore.naming import store_env_var

    table = env[str(store_env_var("orders", tcg.stores["orders"]))]
    with httpx.Client(base_url=url) as http:
        for _ in range(20):
            http.post("/orders", json={"customer_id": "bench-cust", "lines": [
                {"card_id": "c-1", "quantity": 1, "unit_price": "1"}]}).raise_for_status()

        def service() -> None:
            assert len(http.get("/customers/bench-cust/orders").json()["items"]) == 20

        def direct() -> None:
            got = ddb.query(TableName=table, IndexName="CustomerOrdersIndex",
                            KeyConditionExpression="CustomerId = :c",
                            ExpressionAttributeValues={":c": {"S": "bench-cust"}},
                            ScanIndexForward=False, Limit=50)  # fmt: skip
            assert len(got["Items"]) == 20

        print(line("GSI query", timed(n, service), timed(n, direct)))


def bench_join(stack: LocalStack, inv: Any, url: str, n: int) -> None:
    import psycopg

    with httpx.Client(base_url=url) as http:
        wid = http.post("/warehouses", json={"code": "B1", "name": "Bench",
                                             "country_code": "US"}).json()["id"]  # fmt: skip
        for i in range(20):
            http.post("/inventory/receipts", json={"sku": f"SKU-{i % 2}",
                                                   "warehouse_id": wid, "quantity": 5})  # fmt: skip
        e = report.env(stack.dir, inv, "inventory")
        with psycopg.connect(host=e["PGHOST"], port=e["PGPORT"], user=e["PGUSER"],
                             password=e["PGPASSWORD"], dbname=e["PGDATABASE"],
                             autocommit=True) as conn:  # fmt: skip
            sql = ("SELECT t.*, to_jsonb(w) FROM inventory t LEFT JOIN warehouses w "
                   "ON t.warehouse_id = w.id WHERE t.sku = %s ORDER BY t.id LIMIT 51")
            print(line("SQL join", timed(n, lambda: http.get(
                "/queries/inventory-of-sku", params={"sku": "SKU-1"})),
                timed(n, lambda: conn.execute(sql, ("SKU-1",)).fetchall())))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    n = parser.parse_args().requests
    topology = load_topology()
    tcg, inv = topology.system("tcgstore"), topology.system("inventory")
    print(f"cores: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  requests per kind: {n}")
    with tempfile.TemporaryDirectory(prefix="polystore-bench-svc-") as tmp:
        stack = LocalStack(Path(tmp) / "state")
        procs: list[subprocess.Popen[bytes]] = []
        try:
            stack.up([tcg, inv], runtime="embedded")
            for system, service, run in ((tcg, "catalog", bench_catalog),
                                         (tcg, "order", bench_orders),
                                         (inv, "inventory", bench_join)):  # fmt: skip
                proc, url = serve(stack, system, service)
                procs.append(proc)
                run(stack, system, url, n)
        finally:
            for p in procs:
                p.terminate()
                p.wait(30)
            stack.reset()


if __name__ == "__main__":
    main()
