"""Benchmark: the polystore DynamoDB engine vs moto in server mode, same client, same data.

Both servers run as child processes on 127.0.0.1; one boto3 client (one connection, one
thread, the way a service or test talks to DynamoDB) does the same work against each:
  * BatchWriteItem throughput loading ``--items`` items (25 per call) into a table with
    two GSIs and a NEW_AND_OLD_IMAGES stream;
  * GetItem p50, PutItem p50 (``--ops`` calls each, keys spread over the table);
  * GSI query p50: equality on the GSI hash key, ~10 items back, at ``--items`` items;
  * ListTables(Limit=1) p50: the floor, what boto3 and HTTP alone cost on this machine;
the same work against a "canned" server (this script, answering each operation with a
fixed answer of the real shape, no engine behind it) gives each figure's client floor:
what boto3 and HTTP alone cost for that operation's request and answer, which no server
can go below;
and, for our engine only (moto keeps nothing on disk): start time and RSS of a process
opening a data dir that already holds ``--start-items`` items (1M by default; the data
dir is built in-process through the engine's own write path and kept in
``--cache-dir`` for later runs), plus the GSI query p50 at that size.
Ratios are moto/ours for latencies and ours/moto for throughput (higher is better).
Not a test: run it by hand.

    PYTHONPATH=. python bench/bench_dynamodb.py [--items 100000] [--ops 500]
        [--start-items 1000000] [--skip-moto]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TABLE = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url + "/", data=b"{}", method="POST", headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/dynamodb/"
                                 "aws4_request, SignedHeaders=host, Signature=x"})  # fmt: skip
            with urllib.request.urlopen(req, timeout=1) as resp:
                if b"TableNames" in resp.read():
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer ListTables within {timeout}s")


def start_ours(data_dir: Path, repo: Path = REPO) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "emulation.dynamodb", "--port", str(port),
                             "--data-dir", str(data_dir)], cwd=repo,
                            env={**os.environ, "PYTHONPATH": str(repo)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_listening(url)
    return proc, url


def start_canned() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-canned", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_listening(url)
    return proc, url


def serve_canned(port: int) -> None:
    """Answer each operation with a fixed answer of the shape the engine gives."""
    from emulation.dynamodb.http_server import DynamoApp
    from emulation.engine_http.serving import EngineServer, run_until_signal

    one = item(1, 10)
    answers = {
        "ListTables": {"TableNames": [TABLE]},
        "CreateTable": {"TableDescription": {"TableName": TABLE, "TableStatus": "ACTIVE"}},
        "BatchWriteItem": {"UnprocessedItems": {}},
        "GetItem": {"Item": one},
        "PutItem": {},
        "Query": {"Items": [one] * 10, "Count": 10, "ScannedCount": 10},
    }
    canned = {f"DynamoDB_20120810.{k}": json.dumps(v).encode() for k, v in answers.items()}
    app = DynamoApp(lambda target, body: (200, canned[target]))
    run_until_signal(EngineServer(app, "127.0.0.1", port), None)


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_listening(url)
    return proc, url


def client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench",
                        config=Config(retries={"max_attempts": 0}))  # fmt: skip


def create_args(stream: bool = True) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                 for a in ("pk", "sk", "g1", "g2")],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {"IndexName": f"{g}Index", "KeySchema": [{"AttributeName": g, "KeyType": "HASH"},
                                                     {"AttributeName": "sk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}} for g in ("g1", "g2")],
    }  # fmt: skip
    if stream:
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    return args


def item(i: int, n: int) -> dict[str, Any]:
    groups = max(1, n // 10)  # ~10 items per GSI hash key
    return {
        "pk": {"S": f"user#{i:08d}"},
        "sk": {"S": "profile"},
        "g1": {"S": f"group#{i % groups}"},
        "g2": {"S": f"cat#{i % 97}"},
        "email": {"S": f"user{i}@example.com"},
        "name": {"S": f"User Number {i}"},
        "balance": {"N": str(i % 1000)},
        "tags": {"SS": ["a", "b"]},
        "profile": {"M": {"city": {"S": "Berlin"}, "age": {"N": str(20 + i % 50)}}},
    }


def p50_ms(fns: dict[str, Callable[[int], Any]], ops: int) -> dict[str, float]:
    """p50 of each server's call, the servers taking turns call by call, so that a change in
    the machine's load between two servers' runs cannot skew their comparison."""
    for i in range(20):
        for fn in fns.values():
            fn(i)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(ops):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn(i)
            samples[name].append(time.perf_counter() - t)
    return {name: statistics.median(s) * 1000 for name, s in samples.items()}


def measure(urls: dict[str, str], items: int, ops: int) -> dict[str, dict[str, float]]:
    """The figures of each server in ``urls`` (name -> URL), measured taking turns."""
    clients = {name: client(url) for name, url in urls.items()}
    for c in clients.values():
        c.create_table(**create_args())
    spent = dict.fromkeys(clients, 0.0)
    for start in range(0, items, 25):
        batch = [{"PutRequest": {"Item": item(i, items)}}
                 for i in range(start, min(items, start + 25))]  # fmt: skip
        for name, c in clients.items():
            t = time.perf_counter()
            c.batch_write_item(RequestItems={TABLE: batch})
            spent[name] += time.perf_counter() - t
    step = max(1, items // ops)
    groups = max(1, items // 10)

    def each(call: Callable[[Any, int], Any]) -> dict[str, Callable[[int], Any]]:
        return {name: functools.partial(call, c) for name, c in clients.items()}

    get = p50_ms(each(lambda c, i: c.get_item(TableName=TABLE, Key={
        "pk": {"S": f"user#{(i * step) % items:08d}"}, "sk": {"S": "profile"}})), ops)  # fmt: skip
    put = p50_ms(each(lambda c, i: c.put_item(TableName=TABLE, Item=item(items + i, items))), ops)
    query = p50_ms(each(lambda c, i: c.query(
        TableName=TABLE, IndexName="g1Index", KeyConditionExpression="g1 = :g",
        ExpressionAttributeValues={":g": {"S": f"group#{(i * 7919) % groups}"}})), ops)  # fmt: skip
    floor = p50_ms(each(lambda c, i: c.list_tables(Limit=1)), ops)
    return {name: {"batch_write": items / spent[name], "get": get[name], "put": put[name],
                   "gsi_query": query[name], "floor": floor[name]}
            for name in clients}  # fmt: skip


def measure_in_process(items: int, ops: int) -> dict[str, float]:
    """The engine's own time per request (JSON in, JSON out, SQLite), without HTTP or boto3:
    what the server adds to the client's floor."""
    from emulation.dynamodb import api
    from emulation.dynamodb.engine import Engine

    def call(op: str, body: dict[str, Any]) -> None:
        status, out = api.handle(engine, f"DynamoDB_20120810.{op}", json.dumps(body).encode())
        assert status == 200, out

    def timed(op: str, bodies: list[dict[str, Any]]) -> float:
        encoded = [json.dumps(b).encode() for b in bodies]
        samples = []
        for raw in encoded:
            t = time.perf_counter()
            api.handle(engine, f"DynamoDB_20120810.{op}", raw)
            samples.append(time.perf_counter() - t)
        return statistics.median(samples) * 1000

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp))
        call("CreateTable", create_args())
        batches = [{"RequestItems": {TABLE: [{"PutRequest": {"Item": item(i, items)}}
                                             for i in range(s, min(items, s + 25))]}}
                   for s in range(0, items, 25)]  # fmt: skip
        t = time.perf_counter()
        for b in batches:
            call("BatchWriteItem", b)
        rate = items / (time.perf_counter() - t)
        step = max(1, items // ops)
        groups = max(1, items // 10)
        get = timed("GetItem", [{"TableName": TABLE, "Key": {
            "pk": {"S": f"user#{(i * step) % items:08d}"}, "sk": {"S": "profile"}}}
            for i in range(ops)])  # fmt: skip
        put = timed("PutItem", [{"TableName": TABLE, "Item": item(items + i, items)}
                                for i in range(ops)])  # fmt: skip
        query = timed("Query", [{"TableName": TABLE, "IndexName": "g1Index",
                                 "KeyConditionExpression": "g1 = :g",
                                 "ExpressionAttributeValues": {
                                     ":g": {"S": f"group#{(i * 7919) % groups}"}}}
                                for i in range(ops)])  # fmt: skip
        engine.close()
    return {"batch_write": rate, "get": get, "put": put, "gsi_query": query}


def build_big(data_dir: Path, n: int) -> None:
    """``n`` items through the engine's own write path, in-process (no HTTP)."""
    from emulation.dynamodb import api
    from emulation.dynamodb.engine import Engine

    engine = Engine(data_dir)
    status, body = api.handle(engine, "DynamoDB_20120810.CreateTable",
                              json.dumps(create_args(stream=False)).encode())  # fmt: skip
    assert status == 200, body
    t = engine.store.tables[TABLE]
    done = 0
    while done < n:
        with engine.store.tx():
            for i in range(done, min(n, done + 10000)):
                it = item(i, n)
                engine.change(t, t.locate(it), None, it)
        done = min(n, done + 10000)
        print(f"  built {done}/{n} items", end="\r", flush=True)
    engine.close()
    print()


def measure_start(cache: Path, n: int, ops: int) -> dict[str, float]:
    data_dir = cache / f"dynamodb-{n}"
    if not (data_dir / "dynamodb.sqlite3").exists() or not (data_dir / ".complete").exists():
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"building a data dir with {n} items in {data_dir} (kept for later runs)")
        build_big(data_dir, n)
        (data_dir / ".complete").touch()
    t = time.perf_counter()
    proc, url = start_ours(data_dir)
    started = time.perf_counter() - t
    try:
        rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        c = client(url)
        groups = max(1, n // 10)
        query = p50_ms({"ours": lambda i: c.query(
            TableName=TABLE, IndexName="g1Index", KeyConditionExpression="g1 = :g",
            ExpressionAttributeValues={":g": {"S": f"group#{(i * 7919) % groups}"}})},
            ops)["ours"]  # fmt: skip
        rss_after = psutil.Process(proc.pid).memory_info().rss / 1e6
    finally:
        proc.terminate()
        proc.wait()
    return {"start_s": started, "rss_mb": rss, "rss_after_mb": rss_after, "gsi_query": query}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--start-items", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "polystore" / "bench")  # fmt: skip
    parser.add_argument("--skip-moto", action="store_true")
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT",
                        help="also measure the engine of another checkout of this project "
                             "(e.g. `git worktree add /tmp/main main`), taking turns with "
                             "ours: a before/after under the same load")  # fmt: skip
    parser.add_argument("--serve-canned", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_canned:
        serve_canned(args.serve_canned)
        return
    print(f"machine: {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        procs: list[subprocess.Popen[bytes]] = []
        urls: dict[str, str] = {}
        try:
            starts: list[tuple[str, Callable[[], tuple[subprocess.Popen[bytes], str]]]] = [
                ("ours", functools.partial(start_ours, Path(tmp) / "ours")),
                ("floor", start_canned),
            ]
            if args.compare_with:
                starts.append(("other", functools.partial(
                    start_ours, Path(tmp) / "other", args.compare_with.resolve())))  # fmt: skip
            for name, start in starts:
                proc, urls[name] = start()
                procs.append(proc)
            print(f"{', '.join(urls)}, taking turns: loading {args.items} items ...", flush=True)
            results = measure(urls, args.items, args.ops)
        finally:
            for p in procs:
                p.terminate()
                p.wait()
    if not args.skip_moto:
        proc, url = start_moto()
        try:
            print(f"moto: loading {args.items} items ...", flush=True)
            results.update(measure({"moto": url}, args.items, args.ops))
        finally:
            proc.terminate()
            proc.wait()
    ours, moto, floor = results["ours"], results.get("moto"), results["floor"]
    rows = [
        ("BatchWriteItem items/s", "batch_write", "≥ 20000", True),
        ("GetItem p50 ms", "get", "≤ 1.0", False),
        ("PutItem p50 ms", "put", "≤ 1.2", False),
        (f"GSI query p50 ms @{args.items // 1000}k", "gsi_query", "≤ 3", False),
        ("ListTables p50 ms (floor)", "floor", "", False),
    ]
    other = results.get("other")
    print(f"\n{'figure':28}{'ours':>12}{'moto':>12}{'ratio':>9}{'target':>10}"
          f"{'client floor':>14}" + (f"{'other':>12}" if other else ""))  # fmt: skip
    for label, key, target, higher in rows:
        m = moto[key] if moto else float("nan")
        ratio = (ours[key] / m if higher else m / ours[key]) if moto else float("nan")
        print(f"{label:28}{ours[key]:12.2f}{m:12.2f}{ratio:8.1f}x{target:>10}"
              f"{floor[key]:14.2f}" + (f"{other[key]:12.2f}" if other else ""))  # fmt: skip
    print("ratio: how many times better ours is (moto/ours for latencies, ours/moto for rates)")
    print("floor: a request with almost no server work: boto3 + HTTP on this machine")
    print("client floor: the same calls answered by a canned server (no engine): boto3 + HTTP "
          "for that operation, the best any server could show")  # fmt: skip
    if other:
        print(f"other: the engine of {args.compare_with}, measured taking turns with ours")
    inner = measure_in_process(args.items, args.ops)
    print(
        f"\nours in-process (no HTTP, no boto3): BatchWriteItem {inner['batch_write']:.0f} "
        f"items/s, GetItem p50 {inner['get']:.3f} ms, PutItem p50 {inner['put']:.3f} ms, "
        f"GSI query p50 {inner['gsi_query']:.3f} ms"
    )
    if args.start_items:
        big = measure_start(args.cache_dir, args.start_items, args.ops)
        print(
            f"\nours with {args.start_items} items stored: start {big['start_s']:.2f} s "
            f"(target ≤ 1 s), RSS {big['rss_mb']:.0f} MB at start, "
            f"{big['rss_after_mb']:.0f} MB after queries (target ≤ 300 MB), "
            f"GSI query p50 {big['gsi_query']:.2f} ms (target ≤ 3)"
        )


if __name__ == "__main__":
    main()
