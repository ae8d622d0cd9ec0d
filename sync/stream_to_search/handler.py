"""The stream-to-search Lambda handler: DynamoDB Streams event → one ``_bulk`` request.

Order-safe and idempotent through external versioning: every write and delete carries
the stream record's sequence number as its version (``version_type=external``), so the
index keeps, per document, only the newest change it has seen. A replay, a late retry or
a redriven record older than what the index holds is refused with 409, which is the
desired outcome and counts as success; a REMOVE leaves a versioned tombstone, so an older
MODIFY arriving after it does not bring the document back (for as long as the index keeps
tombstones: ``index.gc_deletes``, 60 s by default in OpenSearch — see docs/sync.md).

Records that fail for another reason are returned as ``batchItemFailures`` (the event
source mapping has ``ReportBatchItemFailures``), so only they and what follows them are
retried. The same function runs in the Lambda and under the local poller.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from sync.stream_to_search import config as link_config
from sync.stream_to_search import late_records, transform
from sync.stream_to_search.search_http import SearchHttp

log = logging.getLogger("sync.stream_to_search")

MAX_VERSION = 2**63 - 1  # OpenSearch versions are signed 64-bit
# ``json.dumps`` with options builds an encoder per call; one kept encoder is ~2x faster.
_encode = json.JSONEncoder(separators=(",", ":")).encode
_state: dict[str, Any] = {}
# Why each record of the last invocation failed: the HTTP status of its bulk item, 0 when
# the engine did not answer properly, -1 when the record could not be read. The Lambda
# runtime ignores it; the local poller uses it to queue only failures a retry cannot fix.
last_failure_status: dict[str, int] = {}
UNREADABLE = -1
NO_ANSWER = 0


AWS_COUNTER_DIGITS = 20


def version_of(sequence_number: str) -> int:
    """The external version of a record: its sequence number's change counter.

    DynamoDB sequence numbers are decimal strings of 21 to 40 digits (the API reference:
    "numeric characters only", length 21-40), in record order within a shard, and for
    one item in the order of its changes. OpenSearch versions stop at 2^63-1 (19 digits),
    so a 40-digit number cannot be used as it is, and its low digits cannot simply be
    kept either. AWS's numbers are a variable-length prefix followed by a zero-padded
    20-digit counter: ``3|00000000000000499659`` (21 digits), ``62|00000000002513011398``
    then ``63|00000000002513012315`` (two consecutive records of one shard: the prefix
    went up, and so did the counter), ``44215845|00000000017450439091`` (28). The counter
    is what counts changes; the prefix is not a shard id (it changes inside a shard). The
    version is that counter (``n mod 10^20``), exactly: today's counters have 6-11 digits,
    and 2^63 leaves 7 more. The local engines' numbers (< 10^20) are their own counters,
    the same rule. A counter that does not fit is refused (the record fails, loudly)
    rather than cut. See docs/sync.md for the argument and its limit.
    """
    n = int(sequence_number)
    if n < 0:
        raise ValueError(f"sequence number {sequence_number!r} is negative")
    counter = n % 10**AWS_COUNTER_DIGITS
    if counter > MAX_VERSION:
        raise ValueError(f"sequence number {sequence_number}: its counter {counter} does not "
                         "fit an OpenSearch version (2^63-1)")  # fmt: skip
    return counter


def _setup() -> tuple[link_config.LinkConfig, SearchHttp, str]:
    """Config, client and index, read once per process (a warm Lambda reuses them)."""
    url = os.environ["OPENSEARCH_URL"]
    cfg_path = os.environ.get(link_config.CONFIG_ENV, "")
    key = (url, cfg_path)
    if _state.get("key") != key:
        if "http" in _state:
            _state["http"].close()
        cfg = link_config.load()
        _state.update(key=key, cfg=cfg, http=SearchHttp(url))
    cfg = _state["cfg"]
    return cfg, _state["http"], os.environ[cfg.index_env]


def reset() -> None:
    """Forget the cached client and config (tests, and the poller after a config change)."""
    if "http" in _state:
        _state["http"].close()
    _state.clear()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    cfg, http, index = _setup()
    return apply(event.get("Records", []), cfg, http, index)


def apply(records: list[dict[str, Any]], cfg: link_config.LinkConfig, http: SearchHttp,
          index: str) -> dict[str, Any]:  # fmt: skip
    failed: list[str] = []
    last_failure_status.clear()
    lines: list[bytes] = []
    owners: list[str] = []  # sequence number of the record behind each bulk action
    now = time.time()
    late: dict[str, tuple[dict[str, Any], str, int]] = {}  # seq -> (record, doc id, version)
    for record in records:
        seq = record["dynamodb"]["SequenceNumber"]
        try:
            action = _action(record, cfg, index, version_of(seq))
        except Exception as exc:  # a record we cannot read fails alone
            log.error("record %s: %s", seq, exc)
            failed.append(seq)
            last_failure_status[seq] = UNREADABLE
            continue
        if action is None:
            continue
        lines.extend(_encode(part).encode() for part in action)
        owners.append(seq)
        if "index" in action[0] and late_records.is_late(record, cfg, now):
            late[seq] = (record, action[0]["index"]["_id"], action[0]["index"]["version"])
    if owners:
        checks: list[tuple[dict[str, Any], str, int]] = []
        failed.extend(_bulk(http, index, lines, owners, late, checks))
        # A late record that created its document (or found it "newer") may have undone a
        # delete whose tombstone is gone: ask the table (late_records).
        for seq in late_records.confirm(checks, cfg, http, index):
            failed.append(seq)
            last_failure_status.setdefault(seq, NO_ANSWER)
    order = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
    failed = sorted(set(failed), key=lambda s: order.get(s, 0))
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


def _action(record: dict[str, Any], cfg: link_config.LinkConfig, index: str,
            version: int) -> list[dict[str, Any]] | None:  # fmt: skip
    ddb = record["dynamodb"]
    keys = ddb["Keys"]
    texts = transform.key_texts(keys)
    if not transform.selected(cfg, keys, texts):
        return None
    meta = {"_index": index, "_id": transform.document_id(cfg, keys, texts),
            "version": version, "version_type": "external"}  # fmt: skip
    name = record["eventName"]
    if name == "REMOVE":
        return [{"delete": meta}]
    if name not in ("INSERT", "MODIFY"):
        raise ValueError(f"unknown eventName {name!r}")
    if "NewImage" not in ddb:
        raise ValueError("the stream carries no NewImage (stream view must include new images)")
    return [{"index": meta}, transform.document(cfg, ddb["NewImage"])]


def _bulk(http: SearchHttp, index: str, lines: list[bytes], owners: list[str],
          late: dict[str, Any] | None = None,
          checks: list[Any] | None = None) -> list[str]:  # fmt: skip
    """Send one ``_bulk``; the sequence numbers whose action really failed.

    Late index actions (``late``) that created their document or were refused as stale
    are added to ``checks``.

    Sent to ``/<index>/_bulk``, not ``/_bulk``: in AWS the function's IAM grant is on its
    index's ARN (``.../domain/d/<index>/*``), which the domain-level path is not under.
    """
    try:
        resp = http.request("POST", f"/{index}/_bulk", b"\n".join(lines) + b"\n",
                            content_type="application/x-ndjson")  # fmt: skip
    except OSError as exc:
        log.error("bulk request failed: %s", exc)
        return _all_failed(owners)
    if resp.status != 200:
        log.error("bulk request: HTTP %s %s", resp.status, resp.body[:500])
        return _all_failed(owners)
    items = json.loads(resp.body).get("items", [])
    if len(items) != len(owners):
        log.error("bulk answered %d items for %d actions", len(items), len(owners))
        return _all_failed(owners)
    failed = []
    for seq, item in zip(owners, items, strict=True):
        (kind, result), *_ = item.items()
        status = result.get("status", 500)
        # 409: the index already holds this change or a newer one (stale or replayed).
        # 404 on delete: nothing to delete; the versioned tombstone is still recorded.
        if late and checks is not None and seq in late and status in (201, 409):
            checks.append(late[seq])
        if status < 300 or status == 409 or (kind == "delete" and status == 404):
            continue
        log.error("record %s: %s %s: %s", seq, kind, status, json.dumps(result.get("error")))
        failed.append(seq)
        last_failure_status[seq] = int(status)
    return failed


def _all_failed(owners: list[str]) -> list[str]:
    last_failure_status.update(dict.fromkeys(owners, NO_ANSWER))
    return list(owners)
