"""Load items with BatchWriteItem: 25 per request, requests in parallel threads.

What DynamoDB leaves unprocessed (throttling, or a busy engine) is retried with
exponential backoff and jitter from a seeded stream (so a run is reproducible) until a
deadline; then the loader fails naming the table and how many items are left. PutItem
replaces a whole item, so loading the same items twice leaves the table as it was.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from seed.dynamo_generate import item_to_wire

BATCH = 25
THREADS = 8
DEADLINE_S = 120.0


class Unprocessed(Exception):
    pass


def client(env: dict[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    kw: dict[str, Any] = {
        "region_name": env.get("AWS_REGION") or None,
        "config": Config(
            max_pool_connections=THREADS * 2, retries={"max_attempts": 8, "mode": "adaptive"}
        ),
    }
    if env.get("AWS_ENDPOINT_URL_DYNAMODB"):
        kw["endpoint_url"] = env["AWS_ENDPOINT_URL_DYNAMODB"]
    if env.get("AWS_ACCESS_KEY_ID"):  # local engines; a deployed stack uses the AWS chain
        kw["aws_access_key_id"] = env["AWS_ACCESS_KEY_ID"]
        kw["aws_secret_access_key"] = env.get("AWS_SECRET_ACCESS_KEY", "")
    return boto3.client("dynamodb", **kw)


def _write(
    ddb: Any,
    table: str,
    requests: list[dict[str, Any]],
    advance: Callable[[int], None],
    rng: random.Random,
) -> None:
    pending = {table: requests}
    delay = 0.05
    deadline = time.monotonic() + DEADLINE_S
    while pending:
        sent = len(pending[table])
        resp = ddb.batch_write_item(RequestItems=pending)
        pending = resp.get("UnprocessedItems") or {}
        left = len(pending.get(table, []))
        advance(sent - left)
        if pending:
            if time.monotonic() > deadline:
                raise Unprocessed(
                    f"{table}: {left} items still unprocessed after {DEADLINE_S:.0f}s of retries"
                )
            time.sleep(delay * (1 + rng.random()))
            delay = min(delay * 2, 2.0)


def _batches(requests: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]


def put_items(
    env: dict[str, str],
    table: str,
    items: list[dict[str, Any]],
    advance: Callable[[int], None],
    threads: int = THREADS,
) -> int:
    ddb = client(env)
    reqs = [{"PutRequest": {"Item": item_to_wire(i)}} for i in items]
    _run(ddb, table, reqs, advance, threads)
    return len(items)


def delete_items(
    env: dict[str, str], table: str, keys: list[dict[str, Any]], threads: int = THREADS
) -> int:
    ddb = client(env)
    reqs = [{"DeleteRequest": {"Key": item_to_wire(k)}} for k in keys]
    _run(ddb, table, reqs, lambda n: None, threads)
    return len(keys)


def _run(
    ddb: Any, table: str, reqs: list[dict[str, Any]], advance: Callable[[int], None], threads: int
) -> None:
    batches = _batches(reqs)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [
            pool.submit(_write, ddb, table, b, advance, random.Random(i))
            for i, b in enumerate(batches)
        ]
        for f in futures:
            f.result()


def scan_all(env: dict[str, str], table: str) -> list[dict[str, Any]]:
    from seed.dynamo_generate import from_wire

    ddb = client(env)
    out: list[dict[str, Any]] = []
    kw: dict[str, Any] = {"TableName": table}
    while True:
        resp = ddb.scan(**kw)
        out += [{k: from_wire(v) for k, v in item.items()} for item in resp.get("Items", [])]
        if "LastEvaluatedKey" not in resp:
            return out
        kw["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
