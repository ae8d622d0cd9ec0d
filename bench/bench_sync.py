"""Benchmark the tcgstore cards-to-search link on the embedded runtime.

Prints:
- lag PutItem acknowledged → document searchable (``ids`` query on the alias), p50/p99
  over BENCH_LAG_WRITES writes (default 5,000) at a steady rate; target p99 <= 250 ms.
  Measured twice: searchable through ``_search`` (through the index's refresh, whose
  ``refresh_interval`` the topology declares and the bench reads from the index) and
  indexed as seen by a realtime ``_mget`` (the link's own lag).
- the handler alone (Lambda-shaped batches of 100, one ``_bulk`` each).
- throughput through the link: BENCH_LOAD_WRITES items (default 20,000) written while
  the poller does not read, then the time until the last is indexed (realtime ``_mget``;
  every item is checked afterwards, untimed); warm (the running
  poller paused with SIGSTOP, then resumed) and cold (poller process stopped, then
  started: its start-up included); target >= 5,000 changes/s.
- kill -9 of the poller, then separately of the search engine, in the middle of a load of
  BENCH_LOAD_WRITES writes: seconds from the load's end until the index equals the table
  (same ids, same content), judged on point-in-time views of the index taken every
  ~0.1 s and compared afterwards; the lost/stale counts at 2 s if not converged by then.

DynamoDB is the project's own engine (durable stream records); a kill -9 of it in the
middle of a load is covered by tests/sync/test_poller_live.py.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from emulation import procs  # noqa: E402
from emulation.stack import LocalStack  # noqa: E402
from polystore import load_topology  # noqa: E402
from tests.sync.live import LiveLink, card_item  # noqa: E402

LAG_WRITES = int(os.environ.get("BENCH_LAG_WRITES", "5000"))
LOAD_WRITES = int(os.environ.get("BENCH_LOAD_WRITES", "20000"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "8"))
LAG_RATE = float(os.environ.get("BENCH_LAG_RATE", "200"))  # writes/s in the lag phase


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def clients(link: LiveLink, n: int) -> list[Any]:
    return [boto3.client("dynamodb", endpoint_url=link.dynamodb_url, region_name="us-east-1",
                         aws_access_key_id="local", aws_secret_access_key="local")
            for _ in range(n)]  # fmt: skip


def parallel_writes(link: LiveLink, prefix: str, n: int, on_half: Any = None) -> float:
    """n PutItems (every 10th a delete of an earlier item) from WRITERS threads; seconds."""
    ddbs = clients(link, WRITERS)
    half = threading.Event()
    done = [0]
    lock = threading.Lock()

    def work(w: int) -> None:
        for i in range(w, n, WRITERS):
            if i % 10 == 9:
                ddbs[w].delete_item(TableName=link.table, Key={"Id": {"S": f"{prefix}{i - 5}"}})
            else:
                ddbs[w].put_item(TableName=link.table, Item=card_item(f"{prefix}{i}", f"C {i}", i))
            with lock:
                done[0] += 1
                if done[0] == n // 2:
                    half.set()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(work, w) for w in range(WRITERS)]
        if on_half is not None:
            half.wait()
            on_half()
        for f in futures:
            f.result()
    return time.perf_counter() - t0


def visible(link: LiveLink, ids: list[str], mode: str) -> list[str]:
    if mode == "mget":
        got = link.search(f"/{link.index}/_mget", {"ids": ids})["docs"]
        return [d["_id"] for d in got if d.get("found")]
    hits = link.search(f"/{link.index}/_search", {
        "size": len(ids), "_source": False, "query": {"ids": {"values": ids}}})  # fmt: skip
    return [h["_id"] for h in hits["hits"]["hits"]]


def lag_phase(link: LiveLink, prefix: str, n: int, mode: str) -> list[float]:
    ddb = clients(link, 1)[0]
    pending: dict[str, float] = {}
    lags: list[float] = []
    lock = threading.Lock()
    finished = threading.Event()

    def checker() -> None:
        while not (finished.is_set() and not pending):
            with lock:
                ids = list(pending)[:500]
            if not ids:
                time.sleep(0.002)
                continue
            found = visible(link, ids, mode)
            now = time.perf_counter()
            with lock:
                for doc_id in found:
                    t = pending.pop(doc_id, None)
                    if t is not None:
                        lags.append(now - t)
            time.sleep(0.002)

    th = threading.Thread(target=checker)
    th.start()
    interval = 1.0 / LAG_RATE
    start = time.perf_counter()
    for i in range(n):
        ddb.put_item(TableName=link.table, Item=card_item(f"{prefix}{i}", f"Lag {i}", i))
        with lock:
            pending[f"{prefix}{i}"] = time.perf_counter()
        delay = start + (i + 1) * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    finished.set()
    th.join(120)
    return lags


def handler_throughput(link: LiveLink) -> None:
    """The handler alone (what one Lambda invocation does), fed Lambda-shaped batches."""
    from sync.stream_to_search import handler
    from sync.stream_to_search.search_http import SearchHttp
    from tests.sync.records import card, put, remove

    http = SearchHttp(link.search_url)
    batches = [[put(10**6 + i, card(f"h{i}", f"H {i}")) for i in range(b, b + 100)]
               for b in range(0, LOAD_WRITES, 100)]  # fmt: skip
    t0 = time.perf_counter()
    failed = 0
    for batch in batches:
        failed += len(handler.apply(batch, link.cfg, http, link.index)["batchItemFailures"])
    took = time.perf_counter() - t0
    print(f"handler alone (batches of 100, one _bulk each): {LOAD_WRITES} changes in "
          f"{took:.2f} s = {LOAD_WRITES / took:.0f} changes/s, {failed} failed")  # fmt: skip
    for b in range(0, LOAD_WRITES, 100):  # they are not in the table: delete them again
        removes = [remove(2 * 10**6 + i, f"h{i}") for i in range(b, b + 100)]
        handler.apply(removes, link.cfg, http, link.index)
    http.close()


def backlog(link: LiveLink, prefix: str) -> float:
    """LOAD_WRITES items written with BatchWriteItem; seconds taken."""
    t0 = time.perf_counter()
    for b in range(0, LOAD_WRITES, 25):
        link.ddb.batch_write_item(RequestItems={link.table: [
            {"PutRequest": {"Item": card_item(f"{prefix}{i}", f"C {i}", i)}}
            for i in range(b, min(b + 25, LOAD_WRITES))]})  # fmt: skip
    wrote = time.perf_counter() - t0
    print(f"writes into DynamoDB (BatchWriteItem): {LOAD_WRITES} in {wrote:.1f} s "
          f"({LOAD_WRITES / wrote:.0f}/s)")  # fmt: skip
    return wrote


def throughput(link: LiveLink, prefix: str, warm: bool) -> None:
    """A backlog of LOAD_WRITES changes while the poller does not read, then the time until
    every one is searchable (``_count`` of the prefix, through the periodic refresh: the
    figure includes up to one refresh_interval). Warm: the running poller is paused
    (SIGSTOP/SIGCONT). Cold: it is stopped and started again (process start included)."""
    pid = link.poller_pid()
    assert pid is not None
    if warm:
        os.kill(pid, signal.SIGSTOP)
    else:
        link.kill_poller(signal.SIGTERM)
    try:
        backlog(link, prefix)
    finally:
        t0 = time.perf_counter()
        if warm:
            os.kill(pid, signal.SIGCONT)
    if not warm:
        link.start_poller()
    # Done when the last change is in the index (realtime _mget: the link's own pace, not
    # the refresh's); the stream is one shard, applied in order. Then every item is checked.
    last = f"{prefix}{LOAD_WRITES - 1}"
    while not link.search(f"/{link.index}/_mget", {"ids": [last]})["docs"][0].get("found"):
        time.sleep(0.005)
    drained = time.perf_counter() - t0
    got = link.index_docs()
    want = {k: v for k, v in link.table_docs().items() if k.startswith(prefix)}
    wrong = sum(1 for k, v in want.items() if got.get(k) != v)
    how = "poller paused, then resumed" if warm else "poller stopped, then started (cold start)"
    print(f"throughput through the link ({how}): {LOAD_WRITES} changes indexed in "
          f"{drained:.2f} s = {LOAD_WRITES / drained:.0f} changes/s, {wrong} of them wrong "
          f"afterwards (target >= 5,000/s)")  # fmt: skip


def take_pit(link: LiveLink) -> tuple[float, str]:
    """(when, PIT id): the index's refreshed view at ``when``, to be read later."""
    link.search(f"/{link.index}/_refresh", {}, "POST")
    when = time.perf_counter()
    pit = link.search(f"/{link.index}/_search/point_in_time?keep_alive=5m", None, "POST")
    return when, str(pit["pit_id"])


def pit_count(link: LiveLink, pit_id: str) -> int:
    body = {"size": 0, "track_total_hits": True, "pit": {"id": pit_id, "keep_alive": "5m"}}
    return int(link.search("/_search", body)["hits"]["total"]["value"])


def pit_docs(link: LiveLink, pit_id: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": 5000, "sort": [{"id": "asc"}],
                                "pit": {"id": pit_id, "keep_alive": "5m"}}  # fmt: skip
        if after:
            body["search_after"] = after
        hits = link.search("/_search", body)["hits"]["hits"]
        if not hits:
            return out
        for h in hits:
            out[h["_id"]] = h["_source"]
        after = hits[-1]["sort"]


def differences(want: dict[str, Any], got: dict[str, Any]) -> tuple[int, int]:
    """(lost, stale or extra) of the index ``got`` against the table ``want``."""
    lost = len(set(want) - set(got))
    stale = sum(1 for k in set(want) & set(got) if want[k] != got[k])
    return lost, stale + len(set(got) - set(want))


def converge_report(link: LiveLink, label: str, load_end: float) -> None:
    """Seconds from the end of the load until the index equals the table (same ids, same
    content). The index is judged on point-in-time views (PITs) taken every ~0.1 s from
    the load's end and read afterwards, so neither the table scan nor the comparison of
    20,000 documents delays what is measured; the diff at 2 s when not converged by then."""
    want: dict[str, dict[str, Any]] = {}
    scan = threading.Thread(target=lambda: want.update(link.table_docs()))
    scan.start()
    pits: list[tuple[float, str]] = []
    while scan.is_alive():
        pits.append(take_pit(link))
        time.sleep(0.1)
    at2 = "converged"
    try:
        while time.perf_counter() - load_end < 60:
            when, pit_id = pits.pop(0) if pits else take_pit(link)
            try:
                took = when - load_end
                equal_count = pit_count(link, pit_id) == len(want)
                if equal_count or (took >= 2.0 and at2 == "converged"):
                    lost, stale = differences(want, pit_docs(link, pit_id))
                    if lost == 0 and stale == 0:
                        print(f"{label}: converged {took:.2f} s after the load ended "
                              f"({len(want)} items, 0 lost, 0 stale); at 2 s: {at2}")  # fmt: skip
                        return
                    if took >= 2.0 and at2 == "converged":
                        at2 = f"{lost} lost, {stale} stale/extra"
            finally:
                link.search("/_search/point_in_time", {"pit_id": [pit_id]}, "DELETE")
            if not pits:
                time.sleep(0.05)
        lost, stale = differences(want, link.index_docs())
        print(f"{label}: NOT converged after 60 s: {lost} lost, {stale} stale/extra of "
              f"{len(want)}")  # fmt: skip
    finally:
        for _, pit_id in pits:
            link.search("/_search/point_in_time", {"pit_id": [pit_id]}, "DELETE")


def main() -> None:
    system = load_topology().system("tcgstore")
    with tempfile.TemporaryDirectory(prefix="polystore-bench-sync-") as tmp:
        stack = LocalStack(Path(tmp) / "state")
        link = None
        try:
            stack.up([system], runtime="embedded")
            link = LiveLink(system, stack.dir.root)
            link.start_poller()
            time.sleep(1.0)
            print(f"bench_sync: tcgstore.cards-to-search, embedded runtime (polystore DynamoDB, "
                  f"polystore search engine), {os.cpu_count()} CPUs")  # fmt: skip

            settings = link.search(f"/{link.index}/_settings")
            refresh = next(iter(settings.values()))["settings"]["index"].get(
                "refresh_interval", "1s (default)")  # fmt: skip
            print(f"index {link.index}: refresh_interval {refresh} (declared in the topology)")
            for label, mode in ((f"→ searchable (_search, refresh_interval {refresh})", "search"),
                                ("→ indexed (realtime _mget)", "mget")):  # fmt: skip
                lags = lag_phase(link, f"lag-{mode}-", LAG_WRITES, mode)
                ms = [x * 1000 for x in lags]
                print(f"lag PutItem-ack {label}: n={len(ms)} "
                      f"p50 {statistics.median(ms):.0f} ms, p99 {pct(ms, 99):.0f} ms, "
                      f"max {max(ms):.0f} ms (target p99 <= 250 ms)")  # fmt: skip

            handler_throughput(link)
            throughput(link, "tpw-", warm=True)
            throughput(link, "tpc-", warm=False)

            def kill_poller() -> None:
                link.kill_poller()
                link.start_poller()

            parallel_writes(link, "kp-", LOAD_WRITES, on_half=kill_poller)
            converge_report(link, f"kill -9 poller mid-load ({LOAD_WRITES} writes)",
                            time.perf_counter())  # fmt: skip

            def kill_search() -> None:
                tracked = procs.read_tracked(stack.dir.pids, "search")
                assert tracked is not None
                os.kill(tracked.pid, signal.SIGKILL)
                time.sleep(0.5)
                stack.up([system], runtime="embedded")  # restarts the dead engine

            parallel_writes(link, "ks-", LOAD_WRITES, on_half=kill_search)
            converge_report(link, f"kill -9 search engine mid-load ({LOAD_WRITES} writes)",
                            time.perf_counter())  # fmt: skip
        finally:
            if link is not None:
                link.kill_poller()
            stack.reset()


if __name__ == "__main__":
    main()
