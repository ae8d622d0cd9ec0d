"""Benchmark bellyfed's CDC pipeline: PostgreSQL → Debezium → Kafka → sink → DynamoDB.

Everything is real and local: embedded PostgreSQL, Kafka + Connect with Debezium
(``emulation/kafka``), the sink consumer process (``python -m cdc.consumer``), and the
embedded runtime's DynamoDB engine (moto today; the project's own engine replaces it).

Figures:
- lag: commit in PostgreSQL → item readable in DynamoDB (GetItem polled every 5 ms), one
  change in flight, p50/p99 (target p99 ≤ 1 s);
- throughput: N rows inserted in 500-row transactions → all N items in the read model,
  changes/s (target ≥ 5,000), against a baseline measured in the same run: the same sink
  writing the same N items straight into DynamoDB (no PostgreSQL, Debezium or Kafka) —
  the ceiling the DynamoDB engine sets;
- kill -9 of the sink consumer, of Kafka Connect and of Kafka, each in the middle of a
  load of inserts/updates/deletes: restarted, the read model converges to the tables
  (missing/extra/different items = 0), and no item's version ever went back while the
  read model was sampled (no older change over a newer one).

  .venv/bin/python bench/bench_cdc.py [--rows 1000] [--lag-samples 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdc.sink import ReadModelSink  # noqa: E402
from cdc.transform import operations  # noqa: E402
from emulation.kafka import engine  # noqa: E402
from polystore import load_topology  # noqa: E402
from tests.cdc import debezium as dbz  # noqa: E402
from tests.support.cdc_pipeline import Pipeline, start_kafka  # noqa: E402

TARGET_P99_S, TARGET_RATE = 1.0, 5000


def client(p: Pipeline) -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=p.ep.url("dynamodb"), region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip


def count(c: Any, table: str) -> int:
    total = 0
    for page in c.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        total += page["Count"]
    return total


def insert(conn: Any, n: int, tx_rows: int = 500) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for start in range(0, n, tx_rows):
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO restaurants (restaurant_id, name, slug, cuisine, city) "
                "VALUES (%s, %s, %s, 'thai', 'Austin')",
                [(i, f"n-{i[:8]}", i) for i in ids[start : start + tx_rows]])  # fmt: skip
    return ids


def lag(p: Pipeline, samples: int) -> list[float]:
    c = client(p)
    out = []
    with p.connect_db() as conn:
        for _ in range(samples):
            rid = str(uuid.uuid4())
            t0 = time.perf_counter()
            conn.execute("INSERT INTO restaurants (restaurant_id, name, slug, cuisine, city) "
                         "VALUES (%s, 'lag', %s, 'thai', 'Austin')", (rid, rid))  # fmt: skip
            key = {"PK": {"S": f"RESTAURANT#{rid}"}, "SK": {"S": "PROFILE"}}
            while "Item" not in c.get_item(TableName=p.table, Key=key):
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"row {rid} not in the read model after 30 s")
                time.sleep(0.005)
            out.append(time.perf_counter() - t0)
    return out


def throughput(p: Pipeline, rows: int) -> float:
    c = client(p)
    before = count(c, p.table)
    with p.connect_db() as conn:
        t0 = time.perf_counter()
        insert(conn, rows)
    while count(c, p.table) < before + rows:
        if time.perf_counter() - t0 > 900:
            raise RuntimeError("throughput run did not finish in 15 minutes")
        time.sleep(0.2)
    return rows / (time.perf_counter() - t0)


def baseline(p: Pipeline, rows: int) -> float:
    """The same sink writing the same number of new items straight into DynamoDB."""
    sink = ReadModelSink(client(p), p.table, p.spec)
    ops = [op for i in range(rows) for op in operations(
        p.spec, dbz.change("restaurants", "c", 10**12 + i,
                           after=dbz.restaurant(f"baseline-{i}")))]  # fmt: skip
    t0 = time.perf_counter()
    for start in range(0, len(ops), 500):  # the consumer's batch size
        sink.apply(ops[start : start + 500])
    rate = rows / (time.perf_counter() - t0)
    c = client(p)
    for i in range(rows):  # not part of the tables: remove before the convergence checks
        c.delete_item(TableName=p.table, Key={"PK": {"S": f"RESTAURANT#baseline-{i}"},
                                              "SK": {"S": "PROFILE"}})  # fmt: skip
    return rate


class VersionWatch(threading.Thread):
    """Samples the read model; records any item whose version went back."""

    def __init__(self, p: Pipeline) -> None:
        super().__init__(daemon=True)
        self.p, self.c = p, client(p)
        self.stop = threading.Event()
        self.seen: dict[tuple[str, str], str] = {}
        self.regressions: list[str] = []
        self.samples = 0

    def run(self) -> None:
        v = self.p.spec.version_attribute
        while not self.stop.is_set():
            for page in self.c.get_paginator("scan").paginate(TableName=self.p.table):
                for raw in page["Items"]:
                    key = (raw["PK"]["S"], raw["SK"]["S"])
                    now = raw.get(v, {}).get("S", "")
                    if now < self.seen.get(key, ""):
                        self.regressions.append(f"{key}: {self.seen[key]} -> {now}")
                    self.seen[key] = max(now, self.seen.get(key, ""))
            self.samples += 1
            self.stop.wait(0.5)


def mixed_load(p: Pipeline, rounds: int) -> None:
    """Inserts, updates (some moving review items), deletes: ~10 changes per round."""
    with p.connect_db() as conn:
        user = str(uuid.uuid4())
        conn.execute("INSERT INTO users (user_id, email, username) VALUES (%s, %s, %s)",
                     (user, f"{user}@example.com", user[:20]))  # fmt: skip
        for r in range(rounds):
            with conn.transaction():
                rid = insert(conn, 1)[0]
                conn.execute("INSERT INTO menu_items (restaurant_id, name, price) "
                             "VALUES (%s, 'dish', 9.50)", (rid,))  # fmt: skip
                conn.execute("INSERT INTO reviews (restaurant_id, user_id, rating) "
                             "VALUES (%s, %s, 3)", (rid, user))  # fmt: skip
            conn.execute("UPDATE restaurants SET name = name || '+' WHERE restaurant_id = %s",
                         (rid,))  # fmt: skip
            conn.execute("UPDATE menu_items SET price = price + 1 WHERE restaurant_id = %s",
                         (rid,))  # fmt: skip
            conn.execute("UPDATE reviews SET created_at = created_at - interval '1 hour' "
                         "WHERE restaurant_id = %s", (rid,))  # fmt: skip
            if r % 3 == 0:
                conn.execute("DELETE FROM restaurants WHERE restaurant_id = %s", (rid,))
            time.sleep(0.01)


def kill_run(p: Pipeline, kafka: Any, victim: str, rounds: int) -> dict[str, Any]:
    watch = VersionWatch(p)
    watch.start()
    load = threading.Thread(target=mixed_load, args=(p, rounds))
    load.start()
    time.sleep(3)  # in the middle of the load
    if victim == "consumer":
        p.kill_consumer()
        time.sleep(2)
        p.start_consumer()
    else:
        kafka.kill9(victim)
        time.sleep(2)
        kafka.start((victim,))
    load.join()
    converged = p.wait_converged(600)
    watch.stop.set()
    watch.join()
    missing, extra, different = p.diff()
    dead = p.logs / "cdc-dead-letter.jsonl"
    return {
        "victim": victim,
        "converge_s": converged,
        "missing": missing,
        "extra": extra,
        "different": different,
        "regressions": len(watch.regressions),
        "samples": watch.samples,
        "dead_letters": len(dead.read_text().splitlines()) if dead.exists() else 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--lag-samples", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=60, help="mixed-load rounds per kill run")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    root = Path(tempfile.mkdtemp(prefix="bench-cdc-"))
    kafka = start_kafka(root / "kafka")
    p = Pipeline.start(load_topology(), root / "state", kafka.bootstrap, kafka.connect_url)
    try:
        p.start_consumer()
        p.wait_converged(120)
        lags = sorted(lag(p, args.lag_samples))
        p50 = statistics.median(lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        ok = "met" if p99 <= TARGET_P99_S else "NOT met"
        print(
            f"lag commit → item readable ({len(lags)} changes, one in flight): "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 ≤ 1 s: {ok})"
        )
        base = baseline(p, args.rows)
        rate = throughput(p, args.rows)
        ok = "met" if rate >= TARGET_RATE else "NOT met"
        print(
            f"throughput {args.rows} inserts: pipeline {rate:.0f} changes/s; sink straight "
            f"into DynamoDB {base:.0f} items/s (pipeline/baseline {rate / base:.2f}); "
            f"target ≥ {TARGET_RATE}/s: {ok} (load average now {os.getloadavg()[0]:.1f})"
        )
        for victim in ("consumer", engine.CONNECT, engine.KAFKA):
            r = kill_run(p, kafka, victim, args.rounds)
            print(
                f"kill -9 {r['victim']:8} mid-load: converged {r['converge_s']:.1f} s after "
                f"the load; missing {r['missing']}, extra {r['extra']}, different "
                f"{r['different']}; version went back {r['regressions']} times in "
                f"{r['samples']} samples; dead letters {r['dead_letters']}"
            )
    finally:
        p.close()
        kafka.stop()


if __name__ == "__main__":
    main()
