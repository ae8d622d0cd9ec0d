"""Rebuild a search store from its table, then swap its alias: ``polystore reindex``.

1. Create the next generation of the index (``concrete_index_name(alias, n + 1)``) from
   the store's declared body.
2. Take the stream's position (a LATEST iterator per open shard) *before* scanning.
3. Full parallel scan of the table (``Segment``/``TotalSegments``), each item through the
   link's transform, written with external version 0 — lower than any stream record's.
4. Catch up: apply every stream record since the position to the new index with the same
   handler code (sequence-number versions win over the scanned version 0, in order).
5. Refresh, then one atomic ``_aliases`` request moves the alias to the new index (an
   index still named like the alias, from before aliases, is removed in that same
   request). Searches see the old index or the new one, never neither.
6. Catch up once more (changes the poller sent to the old index just before the swap),
   then delete the old generation.

On failure before the swap, the new index is deleted and the alias is untouched. The same
code runs as a one-off task in AWS: ``python -m sync.reindex SYSTEM.INDEX`` with the
task's ``DYNAMODB_TABLE_*``, ``OPENSEARCH_INDEX_*`` and ``OPENSEARCH_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from polystore.naming import concrete_index_name
from polystore.topology.model import SearchStore, System
from sync import endpoints, stream_records
from sync.link_config import link_config
from sync.stream_to_search import handler as lambda_handler
from sync.stream_to_search import transform
from sync.stream_to_search.config import LinkConfig
from sync.stream_to_search.search_http import SearchHttp

SCAN_VERSION = 0
BULK_DOCS = 500
CATCH_UP_ATTEMPTS = 5
Progress = Callable[[str], None]


class ReindexError(Exception):
    """The reindex stopped; the alias still points where it did."""


def reindex(system: System, store_name: str, state_dir: Path, segments: int = 4,
            progress: Progress = lambda _: None, dynamodb_url: str | None = None,
            search_url: str | None = None) -> dict[str, Any]:  # fmt: skip
    store = system.stores.get(store_name)
    if not isinstance(store, SearchStore):
        raise ReindexError(f"{system.name} has no search store {store_name!r}")
    links = [n for n, lk in system.stream_links().items() if lk.target == store_name]
    if len(links) != 1:
        raise ReindexError(f"{system.name}.{store_name} is fed by {len(links)} stream-to-search "
                           "links; reindex needs exactly one (its source table)")  # fmt: skip
    ends = endpoints.resolve(system, links[0], state_dir, dynamodb_url, search_url)
    job = Reindex(system, links[0], store, ends, segments, progress)
    try:
        return job.run()
    finally:
        job.http.close()


class Reindex:
    def __init__(self, system: System, link: str, store: SearchStore, ends: endpoints.LinkEnds,
                 segments: int, progress: Progress) -> None:  # fmt: skip
        self.store, self.ends, self.segments, self.progress = store, ends, segments, progress
        self.cfg: LinkConfig = link_config(system, link)
        # The handler's code confirms late records against the table (late_records.py):
        # it finds the table as the Lambda does, through the environment.
        if self.cfg.table_env:
            os.environ.setdefault(self.cfg.table_env, ends.table)
        if ends.dynamodb_url:  # a local engine: its endpoint, any credentials
            os.environ.setdefault("AWS_ENDPOINT_URL_DYNAMODB", ends.dynamodb_url)
            os.environ.setdefault("AWS_ACCESS_KEY_ID", endpoints.LOCAL_KEY)
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", endpoints.LOCAL_KEY)
        os.environ.setdefault("AWS_REGION", ends.region)
        self.http = SearchHttp(ends.search_url)
        self.ddb = boto3.client("dynamodb", **endpoints.client_kwargs(ends))
        self.streams = boto3.client(
            "dynamodbstreams", **endpoints.client_kwargs(ends, "dynamodbstreams")
        )
        self.iterators: dict[str, str] = {}
        self.stream_arn = ""
        self.refused = 0

    def run(self) -> dict[str, Any]:
        alias = self.ends.index
        old, legacy = self._current(alias)
        generation = max((_generation(alias, i) for i in old), default=0) + 1
        new = concrete_index_name(alias, generation)
        self._call("PUT", f"/{new}", self.store.body(), f"creating {new}")
        self.progress(f"created {new}")
        try:
            self._open_stream()
            scanned = self._scan(new)
            self.progress(f"scanned {scanned} items into {new}")
            caught = self._catch_up(new)
            self._call("POST", f"/{new}/_refresh", None, "refreshing")
            actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}}
                                             for i in old if not legacy]  # fmt: skip
            actions.append({"add": {"index": new, "alias": alias}})
            if legacy:
                actions.append({"remove_index": {"index": alias}})
            self._call("POST", "/_aliases", {"actions": actions}, "swapping the alias")
        except BaseException:
            self.http.request("DELETE", f"/{new}")
            raise
        self.progress(f"alias {alias} -> {new}")
        caught += self._catch_up(new)
        for i in old if not legacy else []:
            self.http.request("DELETE", f"/{i}")
        return {"alias": alias, "index": new, "previous": sorted(old), "scanned": scanned,
                "refused": self.refused, "caught_up": caught}  # fmt: skip

    # -- search side ------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any, what: str) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        resp = self.http.request(method, path, data)
        if resp.status >= 300:
            raise ReindexError(f"{what}: HTTP {resp.status} {resp.body[:300]!r}")
        return json.loads(resp.body) if resp.body else None

    def _current(self, alias: str) -> tuple[list[str], bool]:
        """(indices the alias points at, whether ``alias`` is itself an index)."""
        resp = self.http.request("GET", f"/_alias/{alias}")
        if resp.status == 200:
            return sorted(json.loads(resp.body)), False
        if self.http.request("HEAD", f"/{alias}").status == 200:
            return [alias], True
        raise ReindexError(f"no index or alias {alias!r}: run polystore up first")

    # -- table scan ---------------------------------------------------------------------
    def _scan(self, index: str) -> int:
        counts = [0] * self.segments
        errors: list[BaseException] = []
        refused: list[dict[str, Any]] = []  # list.extend is atomic under the GIL

        def segment(n: int) -> None:
            http = SearchHttp(self.ends.search_url)
            try:
                pages = self.ddb.get_paginator("scan").paginate(
                    TableName=self.ends.table, Segment=n, TotalSegments=self.segments,
                    ConsistentRead=True)  # fmt: skip
                batch: list[bytes] = []
                for page in pages:
                    for item in page["Items"]:
                        keys = {k: item[k] for k in (self.cfg.hash_key, self.cfg.range_key)
                                if k is not None}  # fmt: skip
                        if not transform.selected(self.cfg, keys):
                            continue
                        meta = {"_index": index, "_id": transform.document_id(self.cfg, keys),
                                "version": SCAN_VERSION, "version_type": "external"}  # fmt: skip
                        batch += [_line({"index": meta}),
                                  _line(transform.document(self.cfg, item))]  # fmt: skip
                        counts[n] += 1
                        if len(batch) >= 2 * BULK_DOCS:
                            refused.extend(_bulk(http, index, batch))
                            batch = []
                if batch:
                    refused.extend(_bulk(http, index, batch))
            except BaseException as exc:
                errors.append(exc)
            finally:
                http.close()

        threads = [threading.Thread(target=segment, args=(n,)) for n in range(self.segments)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise ReindexError(f"scan failed: {errors[0]}") from errors[0]
        if refused:
            # Items the mapping rejects cannot be indexed by any path; the stream handler
            # queues them as failures. The reindex reports them and goes on.
            first = refused[0]
            self.refused = len(refused)
            why = json.dumps(first.get("error"))[:300]
            self.progress(f"{len(refused)} items refused by the index, first: "
                          f"{first.get('_id')}: {why}")  # fmt: skip
        return sum(counts) - len(refused)

    # -- stream catch-up ----------------------------------------------------------------
    def _open_stream(self) -> None:
        table = self.ddb.describe_table(TableName=self.ends.table)["Table"]
        self.stream_arn = table.get("LatestStreamArn") or ""
        if not self.stream_arn:
            raise ReindexError(f"table {self.ends.table} has no stream to catch up from")
        for shard in self._shards():
            if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType="LATEST")["ShardIterator"]  # fmt: skip

    def _shards(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kw: dict[str, Any] = {}
        while True:
            desc = self.streams.describe_stream(StreamArn=self.stream_arn, **kw)
            out += desc["StreamDescription"].get("Shards", [])
            last = desc["StreamDescription"].get("LastEvaluatedShardId")
            if not last:
                return out
            kw = {"ExclusiveStartShardId": last}

    def _catch_up(self, index: str) -> int:
        """Apply stream records until every shard read returns nothing."""
        known = set(self.iterators)
        for shard in self._shards():  # children born since the position: from their start
            if shard["ShardId"] not in known:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
        applied = 0
        busy = True
        while busy:
            busy = False
            for shard_id, it in list(self.iterators.items()):
                resp = self.streams.get_records(ShardIterator=it, Limit=1000)
                records = [stream_records.lambda_record(r, self.stream_arn, self.ends.region)
                           for r in resp.get("Records", [])]  # fmt: skip
                if records:
                    self._apply(records, index)
                    applied += len(records)
                    busy = True
                if resp.get("NextShardIterator"):
                    self.iterators[shard_id] = resp["NextShardIterator"]
                else:
                    del self.iterators[shard_id]
        return applied

    def _apply(self, records: list[dict[str, Any]], index: str) -> None:
        for attempt in range(CATCH_UP_ATTEMPTS):
            result = lambda_handler.apply(records, self.cfg, self.http, index)
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            if not failed:
                return
            seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
            records = records[min(i for i, s in enumerate(seqs) if s in failed) :]
            time.sleep(0.1 * 2**attempt)
        raise ReindexError(f"catch-up: {len(records)} records keep failing (first "
                           f"{records[0]['dynamodb']['SequenceNumber']})")  # fmt: skip


def _generation(alias: str, index: str) -> int:
    m = re.fullmatch(re.escape(alias) + r"-(\d+)", index)
    return int(m.group(1)) if m else 0


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _bulk(http: SearchHttp, index: str, lines: list[bytes]) -> list[dict[str, Any]]:
    """Send one ``_bulk``; the items the index refused (a document its mapping rejects)."""
    resp = http.request(
        "POST", f"/{index}/_bulk", b"\n".join(lines) + b"\n", "application/x-ndjson"
    )
    if resp.status != 200:
        raise ReindexError(f"bulk: HTTP {resp.status} {resp.body[:300]!r}")
    body = json.loads(resp.body)
    if not body.get("errors"):
        return []
    results = [next(iter(i.values())) for i in body["items"]]
    return [r for r in results if r.get("status", 500) >= 300 and r.get("status") != 409]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.reindex", description=__doc__.split("\n")[0])
    p.add_argument("target", help="SYSTEM.INDEX (a search store)")
    p.add_argument("--state-dir", type=Path, default=Path(".polystore"))
    p.add_argument("--segments", type=int, default=4)
    args = p.parse_args(argv)
    from polystore import load_topology

    system_name, _, store = args.target.partition(".")
    system = load_topology().system(system_name)
    result = reindex(system, store, args.state_dir.absolute(), args.segments, print)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
