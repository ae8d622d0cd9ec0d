"""Benchmark the service layer: requests/s and p50/p99 per endpoint kind, locally.

Each service runs as a real process (``python -m services``, as on ECS) against a
fresh embedded stack; one keep-alive HTTP client sends sequential requests. The
baseline, measured in the same run, is the same read made directly with the store's
client (boto3 / psycopg): the ratio is what the HTTP layer costs on top.

    python bench/bench_services.py [--requests 2000]

Kinds: key lookup (GET /cards/{id}: DynamoDB GetItem) and SQL join (inventory of a
SKU joined with its warehouse). GSI query and search need services that publish
events (Kafka) and the stream-to-search link; they join this script with those.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    n = parser.parse_args().requests
    topology = load_topology()
    tcg, inv = topology.system("tcgstore"), topology.system("inventory")
    print(f"cores: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  requests per kind: {n}")
    with tempfile.TemporaryDirectory(prefix="polystore-bench-svc-") as tmp:
        stack = LocalStack(Path(tmp) / "state")
        procs = []
        try:
            stack.up([tcg, inv], runtime="embedded")
            cat, cat_url = serve(stack, tcg, "catalog")
            invp, inv_url = serve(stack, inv, "inventory")
            procs += [cat, invp]
            with httpx.Client(base_url=cat_url) as http:
                card = http.post("/cards", json={
                    "name": "Bench", "set": "S", "rarity": "rare", "number": 1,
                    "price": "1"}).json()  # fmt: skip
                env = report.env(stack.dir, tcg, "catalog")
                import boto3

                ddb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
                                   region_name=env["AWS_REGION"], aws_access_key_id="x",
                                   aws_secret_access_key="x")  # fmt: skip
                table = env["DYNAMODB_TABLE_CARDS"]
                print(line("key lookup", timed(n, lambda: http.get(f"/cards/{card['Id']}")),
                           timed(n, lambda: ddb.get_item(TableName=table,
                                                         Key={"Id": {"S": card["Id"]}}))))
            with httpx.Client(base_url=inv_url) as http:
                wid = http.post("/warehouses", json={"code": "B1", "name": "Bench",
                                                     "country_code": "US"}).json()["id"]
                for i in range(20):
                    http.post("/inventory/receipts", json={"sku": f"SKU-{i % 2}",
                                                           "warehouse_id": wid, "quantity": 5})
                import psycopg

                e = report.env(stack.dir, inv, "inventory")
                with psycopg.connect(host=e["PGHOST"], port=e["PGPORT"], user=e["PGUSER"],
                                     password=e["PGPASSWORD"], dbname=e["PGDATABASE"],
                                     autocommit=True) as conn:  # fmt: skip
                    sql = ("SELECT t.*, to_jsonb(w) FROM inventory t LEFT JOIN warehouses w "
                           "ON t.warehouse_id = w.id WHERE t.sku = %s ORDER BY t.id LIMIT 51")
                    print(line("SQL join", timed(n, lambda: http.get(
                        "/queries/inventory-of-sku", params={"sku": "SKU-1"})),
                        timed(n, lambda: conn.execute(sql, ("SKU-1",)).fetchall())))
        finally:
            for p in procs:
                p.terminate()
            stack.reset()


if __name__ == "__main__":
    main()
