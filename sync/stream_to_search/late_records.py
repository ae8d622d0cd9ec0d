"""Late records: a change older than the index's tombstone lifetime may undo a delete.

External versions make the index refuse a change older than the one it holds, and a
delete leaves a versioned tombstone so an older MODIFY that arrives after the REMOVE is
refused too. But OpenSearch keeps tombstones only for ``index.gc_deletes`` (60 s by
default); once one is collected, the index no longer knows the document was deleted and
a late, older INSERT/MODIFY (a redrive from the failure queue, a Lambda retry after an
outage, a backlog) re-creates it: the deleted item comes back in search.

The guard, in the order of events (record ``r`` with version ``v``, created ``t_r``):

- A tombstone that dropped ``r`` was written after the REMOVE, which came after ``r``,
  so it is younger than ``r``. While ``r`` is younger than the tombstone lifetime, the
  tombstone still exists and the version check alone is right: nothing to do. The
  handler compares with half the lifetime (clock skew between the handler and the
  index, and ``ApproximateCreationDateTime`` is rounded down to the second).
- An older ``r`` whose write *created* the document (or was refused as stale: it may be
  the one that re-created it on an earlier attempt) is checked against the table, the
  source of truth, with a strongly consistent read. Item present: the document is
  right or a newer change of the item is still on its way (with a higher version).
  Item absent: a REMOVE after ``r`` exists (applied or still coming), so the document
  is deleted with version ``v + 1``: at most the REMOVE's own version, so every later
  change of the item still wins; if a newer version is already there the delete is
  refused (409) and nothing changes.

The steady state pays nothing (records are milliseconds old); a replay of old records
pays one BatchGetItem per 100 documents it created or found newer.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from sync.stream_to_search.config import LinkConfig
from sync.stream_to_search.search_http import SearchHttp

log = logging.getLogger("sync.stream_to_search")
MAX_VERSION = 2**63 - 1
BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit
# Reads the items of keys from the table: ``(table, [key]) -> [key of items present]``.
TableRead = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]
_client: dict[str, Any] = {}


def is_late(record: dict[str, Any], cfg: LinkConfig, now: float) -> bool:
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if created is None:
        return True  # unknown age: check
    return now - float(created) >= cfg.tombstone_seconds / 2


@functools.cache
def _warn_unchecked(variable: str) -> None:
    """Once per process: a batch each time would bury everything else in the log."""
    log.warning("late records not checked: $%s is not set", variable)


def confirm(
    checks: list[tuple[dict[str, Any], str, int]],
    cfg: LinkConfig,
    http: SearchHttp,
    index: str,
    read: TableRead | None = None,
) -> list[str]:
    """Delete the documents of ``checks`` (record, document id, version) whose item is
    gone from the table; the sequence numbers that could not be confirmed (retry them)."""
    if not checks:
        return []
    table = os.environ.get(cfg.table_env, "") if cfg.table_env else ""
    seqs = [r["dynamodb"]["SequenceNumber"] for r, _, _ in checks]
    if not table:
        # infra and the poller always set it; a handler run by hand without it behaves
        # as before this guard (the version check alone), and says so.
        _warn_unchecked(cfg.table_env or "DYNAMODB_TABLE_*")
        return []
    newest: dict[str, tuple[dict[str, Any], int]] = {}  # doc id -> (keys, highest version)
    for record, doc_id, version in checks:
        if doc_id not in newest or version > newest[doc_id][1]:
            newest[doc_id] = (record["dynamodb"]["Keys"], version)
    try:
        present = (read or batch_get_keys)(table, [k for k, _ in newest.values()])
    except Exception as exc:  # throttled, unreachable: the records are retried
        log.error("late records: reading %s failed: %s", table, exc)
        return seqs
    present_keys = {_key_text(k) for k in present}
    gone = [(d, v) for d, (k, v) in newest.items() if _key_text(k) not in present_keys]
    if not gone:
        return []
    lines = []
    for doc_id, version in gone:
        meta = {"_index": index, "_id": doc_id, "version": min(version + 1, MAX_VERSION),
                "version_type": "external"}  # fmt: skip
        lines.append(json.dumps({"delete": meta}, separators=(",", ":")).encode())
    try:
        resp = http.request("POST", f"/{index}/_bulk", b"\n".join(lines) + b"\n",
                            content_type="application/x-ndjson")  # fmt: skip
    except OSError:
        return seqs
    if resp.status != 200:
        return seqs
    items = json.loads(resp.body).get("items", [])
    bad = {d for (d, _), item in zip(gone, items, strict=False)
           if item.get("delete", {}).get("status", 500) not in (200, 404, 409)}  # fmt: skip
    if len(items) != len(gone):
        bad = {d for d, _ in gone}
    return [r["dynamodb"]["SequenceNumber"] for r, d, _ in checks if d in bad]


def batch_get_keys(table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The keys (of ``keys``) whose item exists, read with BatchGetItem, consistently."""
    client = _client.get("ddb")
    if client is None:
        import boto3  # the Lambda runtime provides it; imported only when needed

        # AWS_REGION is what the Lambda runtime and the local stack set (boto3 itself
        # reads only AWS_DEFAULT_REGION); the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB.
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        client = _client["ddb"] = boto3.client("dynamodb", region_name=region)
    names = sorted(keys[0]) if keys else []
    projection = ", ".join(f"#k{i}" for i in range(len(names)))
    attr_names = {f"#k{i}": n for i, n in enumerate(names)}
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {
            table: {"Keys": keys[start : start + BATCH_GET_KEYS], "ConsistentRead": True,
                    "ProjectionExpression": projection, "ExpressionAttributeNames": attr_names}
        }  # fmt: skip
        for attempt in range(8):
            resp = client.batch_get_item(RequestItems=request)
            found += resp.get("Responses", {}).get(table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"BatchGetItem on {table}: keys still unprocessed")
    return found


def _key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)
