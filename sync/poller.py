"""The local stream poller: what the Lambda event source mapping does, on this machine.

``python -m sync.poller SYSTEM.LINK --state-dir DIR`` reads the source table's stream
(DescribeStream, GetShardIterator, GetRecords), hands each batch to the same
``sync.stream_to_search.handler.handler`` the Lambda runs, in the same event shape, and
checkpoints the last sequence number per shard after the handler succeeded. Parent shards
are read to their end before their children (as the event source mapping does), expired
iterators are re-opened from the checkpoint. A failing record is retried with backoff;
when the search engine answers and the record still fails ``--max-attempts`` times, it
moves to the link's failure queue (``polystore sync redrive`` replays it). While the
search engine does not answer at all, nothing is queued: the poller waits for it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from sync import endpoints, stream_records, streams_wire
from sync.link_state import LinkState, state_path
from sync.stream_to_search import handler as lambda_handler
from sync.stream_to_search.search_http import SearchHttp

log = logging.getLogger("sync.poller")
SHARD_REFRESH_SECONDS = 1.0
HEARTBEAT_SECONDS = 1.0
# Between empty reads: ACTIVE_POLL_SECONDS while the stream had records in the last
# ACTIVE_SECONDS (a trickle of writes is picked up within ~10 ms), --poll-interval when idle.
ACTIVE_POLL_SECONDS = 0.01
ACTIVE_SECONDS = 2.0
SEARCH_PROBE_SECONDS = 0.05  # how often a search engine that does not answer is probed
PAGE_LIMIT = 1000  # GetRecords' maximum Limit
# A Lambda invocation's payload is at most 6 MB; the event source mapping cuts batches
# there. A record's JSON is estimated from its SizeBytes (item bytes) plus its envelope.
MAX_EVENT_BYTES = 6 * 1024 * 1024
RECORD_ENVELOPE_BYTES = 600


class Poller:
    def __init__(self, system: Any, link: str, state_dir: Path, ends: endpoints.LinkEnds,
                 batch_size: int, poll_interval: float = 0.05,
                 max_attempts: int = 5) -> None:  # fmt: skip
        self.system, self.link, self.ends = system, link, ends
        self.batch_size, self.poll_interval, self.max_attempts = (
            batch_size, poll_interval, max_attempts)  # fmt: skip
        endpoints.prepare_handler_env(system, link, state_dir, ends)
        lambda_handler.reset()
        self.state = LinkState(state_path(state_dir, system.name, link))
        self.ddb = boto3.client("dynamodb", **endpoints.client_kwargs(ends))
        self.streams = boto3.client(
            "dynamodbstreams", **endpoints.client_kwargs(ends, "dynamodbstreams")
        )
        self.wire = streams_wire.StreamsWire(self.streams)
        # GetRecords runs on one reader thread (it owns the connection), so the next page
        # of a busy shard is read while the handler applies the current one.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="getrecords")
        self.iterators: dict[str, str] = {}  # shard -> iterator after what was read
        self._ahead: dict[str, Future[tuple[list[dict[str, Any]], str | None]]] = {}
        self._carry: dict[str, list[dict[str, Any]]] = {}  # read, beyond the last batch
        self._ended: set[str] = set()  # closed shards read to their end, not yet finished
        self.shards: list[dict[str, Any]] = []
        self.stream_arn = ""
        self.stop = threading.Event()
        self._shards_at = 0.0
        self._beat_at = 0.0
        self._caught_up = False
        self._active_at = 0.0  # when a read last returned records

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> None:
        self.state.set_status(pid=_pid(), started_at=time.time(), table=self.ends.table,
                              index=self.ends.index, last_error=None)  # fmt: skip
        try:
            self._loop()
        finally:
            self._reader.shutdown(wait=True, cancel_futures=True)
            self.wire.close()

    def _loop(self) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                got = self.poll_once()
            except Exception as exc:  # the engine restarting, a network blip: retry
                log.warning("poll failed: %s", exc)
                self.state.set_status(last_error=f"{type(exc).__name__}: {exc}",
                                      last_error_at=time.time())  # fmt: skip
                self._forget_all()
                self._shards_at = 0.0
                failures += 1  # 0.1 s, 0.2 s, then every 0.4 s: a restart is seen soon
                self.stop.wait(min(0.05 * 2**failures, 0.4))
                continue
            failures = 0
            now = time.monotonic()
            if got:
                self._active_at = now
            elif now - self._active_at < ACTIVE_SECONDS:
                self.stop.wait(ACTIVE_POLL_SECONDS)  # changes are flowing: look again soon
            else:
                self.stop.wait(self.poll_interval)  # idle: back off

    def poll_once(self) -> int:
        """One pass over the readable shards; the number of records handled."""
        now = time.monotonic()
        if now - self._shards_at > SHARD_REFRESH_SECONDS or not self.shards:
            self._refresh_shards()
            self._shards_at = now
        done = self.state.checkpoints()
        handled = 0
        for shard in self._readable(done):
            handled += self._poll_shard(shard["ShardId"], done)
        # Status writes are fsynced: once a second, or when the poller catches up.
        caught_up = handled == 0
        if now - self._beat_at > HEARTBEAT_SECONDS or (caught_up and not self._caught_up):
            extra = {"lag_ms": 0, "caught_up": True} if caught_up else {}
            self.state.set_status(heartbeat=time.time(), **extra)
            self._beat_at = now
        self._caught_up = caught_up
        return handled

    def _refresh_shards(self) -> None:
        arn = self.ddb.describe_table(TableName=self.ends.table)["Table"].get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self.ends.table} has no stream")
        recorded = self.state.status().get("stream_arn")
        self.stream_arn = arn
        if recorded and recorded != arn:
            self._stream_replaced(recorded, arn)
        elif not recorded:
            self.state.set_status(stream_arn=arn)
        shards: list[dict[str, Any]] = []
        start: dict[str, Any] = {}
        while True:
            desc = self.streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
            shards.extend(desc.get("Shards", []))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                break
            start = {"ExclusiveStartShardId": last}
        self.shards = shards

    def _stream_replaced(self, old: str, new: str) -> None:
        """A new stream: the table was re-created, or its engine keeps no stream across a
        restart (moto). Changes in between were never streamed, and the new stream's
        sequence numbers may be lower than the versions the index holds (its changes would
        be refused as stale). So: rebuild the index from the table (new generation,
        alias swap), then read the new stream from its start (versions over 0 win)."""
        from sync.reindex import Reindex

        log.warning("the stream of %s was replaced (%s -> %s): reindexing", self.ends.table,
                    old, new)  # fmt: skip
        store = self.system.stores[self.system.links[self.link].target]
        job = Reindex(self.system, self.link, store, self.ends, 4, log.info)
        try:
            result = job.run()
        finally:
            job.http.close()
        self._forget_all()
        self.state.reset_checkpoints()
        self.state.set_status(
            stream_arn=new,
            last_error=f"the table's stream was replaced; reindexed into {result['index']}",
            last_error_at=time.time(),
        )

    def _readable(self, done: dict[str, tuple[str | None, bool]]) -> list[dict[str, Any]]:
        """Open shards whose parent is finished (or gone from the stream: trimmed)."""
        ids = {s["ShardId"] for s in self.shards}
        out = []
        for s in self.shards:
            if done.get(s["ShardId"], (None, False))[1]:
                continue
            parent = s.get("ParentShardId")
            if parent and parent in ids and not done.get(parent, (None, False))[1]:
                continue
            out.append(s)
        return out

    def _poll_shard(self, shard_id: str, done: dict[str, tuple[str | None, bool]]) -> int:
        """Read up to ``batch_size`` records (one or more GetRecords pages), start reading
        the next page, hand the batch to the handler; the number of records handled."""
        batch = self._carry.pop(shard_id, [])
        limit = min(PAGE_LIMIT, self.batch_size)
        page: list[dict[str, Any]] = []
        while len(batch) < self.batch_size and shard_id not in self._ended:
            try:
                page, nxt = self._page(shard_id, done, limit)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                self._forget(shard_id)
                if code == "ExpiredIteratorException":
                    return 0  # reopened from the checkpoint on the next pass
                if code == "TrimmedDataAccessException":
                    self.state.set_status(
                        last_error=f"{shard_id}: records trimmed before they "
                        "were read: run polystore reindex",
                        last_error_at=time.time(),
                    )
                    self.iterators[shard_id] = self._open(shard_id, None)
                    return 0
                raise
            batch.extend(page)
            if nxt is None:
                self._ended.add(shard_id)  # a closed shard read to its end
                self.iterators.pop(shard_id, None)
            else:
                self.iterators[shard_id] = nxt
            if len(page) < limit:
                break  # caught up with the shard: deliver what there is now
        batch, rest = _split(batch, self.batch_size)
        if rest:
            self._carry[shard_id] = rest
        elif page and shard_id not in self._ended:
            self._read_ahead(shard_id, limit)  # the next page, while the handler works
        if batch:
            self._deliver(shard_id, batch)
        if shard_id in self._ended and shard_id not in self._carry and not self.stop.is_set():
            self.state.finish(shard_id)
            self._ended.discard(shard_id)
        return len(batch)

    def _page(self, shard_id: str, done: dict[str, tuple[str | None, bool]],
              limit: int) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
        """The next page of the shard: the one read ahead, or one read now."""
        ahead = self._ahead.pop(shard_id, None)
        if ahead is None:
            it = self.iterators.get(shard_id)
            if it is None:
                it = self._open(shard_id, done.get(shard_id, (None, False))[0])
            ahead = self._reader.submit(self._fetch, it, limit)
        return ahead.result()

    def _read_ahead(self, shard_id: str, limit: int) -> None:
        self._ahead[shard_id] = self._reader.submit(self._fetch, self.iterators[shard_id], limit)

    def _fetch(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """One GetRecords (on the reader thread, which owns the connection)."""
        resp = self.wire.get_records(iterator, limit)
        arn, region = self.stream_arn, self.ends.region
        records = [streams_wire.lambda_record(r, arn, region) for r in resp.get("Records", [])]
        return records, resp.get("NextShardIterator")

    def _forget(self, shard_id: str) -> None:
        """Drop what was read past the checkpoint; the next read starts from it again."""
        self.iterators.pop(shard_id, None)
        self._carry.pop(shard_id, None)
        self._ended.discard(shard_id)
        ahead = self._ahead.pop(shard_id, None)
        if ahead is not None:
            ahead.cancel()

    def _forget_all(self) -> None:
        for shard_id in {*self.iterators, *self._carry, *self._ahead, *self._ended}:
            self._forget(shard_id)

    def _open(self, shard_id: str, after: str | None) -> str:
        kw: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if after is None:
            kw["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kw |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        return str(self.streams.get_shard_iterator(**kw)["ShardIterator"])

    # -- delivery -----------------------------------------------------------------------
    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Hand records to the handler until each is applied or queued (or we stop)."""
        pending, attempts = records, 0
        while pending and not self.stop.is_set():
            result = lambda_handler.handler(stream_records.event(pending), None)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            seqs = [r["dynamodb"]["SequenceNumber"] for r in pending]
            first = next((i for i, s in enumerate(seqs) if s in failed), None)
            if first is None:
                self._checkpoint(shard_id, pending[-1])
                return
            if first > 0:  # progress: everything before the first failure is applied
                self._checkpoint(shard_id, pending[first - 1])
                pending, attempts = pending[first:], 0
            attempts += 1
            why = lambda_handler.last_failure_status.get(seqs[first], lambda_handler.NO_ANSWER)
            error = f"record {seqs[first]} failed {attempts} time(s) (status {why})"
            self.state.set_status(last_error=error, last_error_at=time.time())
            if attempts >= self.max_attempts and _permanent(why) and self._search_answers():
                self.state.dead_letter(shard_id, pending[0], error, attempts)
                log.error("%s: moved to the failure queue", error)
                pending, attempts = pending[1:], 0
                continue
            if why == lambda_handler.NO_ANSWER and not self._search_answers():
                # The engine is down (restarting): probe it every SEARCH_PROBE_SECONDS and
                # retry the moment it answers, rather than rebuilding the batch on a timer.
                # (An engine that answers but fails the bulk gets the backoff below.)
                while not self.stop.wait(SEARCH_PROBE_SECONDS) and not self._search_answers():
                    pass
                continue
            self.stop.wait(min(0.05 * 2 ** min(attempts, 10), 0.5))

    def _checkpoint(self, shard_id: str, record: dict[str, Any]) -> None:
        created = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
        self.state.checkpoint(shard_id, record["dynamodb"]["SequenceNumber"], {
            "last_sequence_number": record["dynamodb"]["SequenceNumber"],
            "last_applied_at": time.time(),
            "lag_ms": max(0, round((time.time() - float(created)) * 1000)),
            "caught_up": False,
        })  # fmt: skip

    def _search_answers(self) -> bool:
        try:
            http = SearchHttp(self.ends.search_url, timeout=2)
            try:
                return http.request("GET", "/").status == 200
            finally:
                http.close()
        except OSError:
            return False


def _split(records: list[dict[str, Any]],
           batch_size: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """(the batch, the rest): at most ``batch_size`` records and about 6 MB of event."""
    size, cut = 0, min(len(records), batch_size)
    for i, record in enumerate(records[:cut]):
        size += int(record["dynamodb"].get("SizeBytes", 0)) * 2 + RECORD_ENVELOPE_BYTES
        if size > MAX_EVENT_BYTES and i > 0:
            cut = i
            break
    return records[:cut], records[cut:]


def _permanent(status: int) -> bool:
    """A failure a retry cannot fix: the record is unreadable, or the index refused the
    document itself (4xx). Unavailability (no answer, 5xx, 429, 408) is waited out."""
    return status == lambda_handler.UNREADABLE or (400 <= status < 500
                                                   and status not in (408, 429))  # fmt: skip


def _pid() -> int:
    import os

    return os.getpid()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.poller", description=__doc__.split("\n")[0])
    p.add_argument("link", help="SYSTEM.LINK, e.g. tcgstore.cards-to-search")
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="local stack state dir ($POLYSTORE_STATE_DIR, ./.polystore)",
    )
    p.add_argument("--stacks", type=Path, default=None, help="topology dir ($POLYSTORE_STACKS)")
    p.add_argument("--dynamodb-endpoint", default=None, help="($AWS_ENDPOINT_URL_DYNAMODB)")
    p.add_argument("--search-url", default=None, help="($OPENSEARCH_URL)")
    p.add_argument("--poll-interval", type=float, default=0.05, help="seconds when idle")
    p.add_argument("--max-attempts", type=int, default=5)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    system, link = resolve_link(args.link, args.stacks)
    state_dir = args.state_dir or _default_state_dir()
    ends = endpoints.resolve(system, link, state_dir, args.dynamodb_endpoint, args.search_url)
    spec = system.links[link]
    poller = Poller(system, link, state_dir, ends, spec.batch_size, args.poll_interval,
                    args.max_attempts)  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: poller.stop.set())
    signal.signal(signal.SIGINT, lambda *_: poller.stop.set())
    log.info("polling %s (%s → %s)", args.link, ends.table, ends.index)
    poller.run()


def resolve_link(target: str, stacks: Path | None = None) -> tuple[Any, str]:
    from polystore import load_topology

    system_name, _, link = target.partition(".")
    if not link:
        raise SystemExit(f"expected SYSTEM.LINK, got {target!r}")
    topology = load_topology([stacks] if stacks else None)
    return topology.system(system_name), link


def _default_state_dir() -> Path:
    import os

    return Path(os.environ.get("POLYSTORE_STATE_DIR") or ".polystore").absolute()


if __name__ == "__main__":
    main()
