"""Benchmark: the polystore search engine over HTTP vs tantivy used directly in-process.

Generates 100k deterministic card documents (the tcgstore card mapping), then measures
  * bulk indexing throughput through HTTP ``_bulk`` in requests of ``--batch`` documents
    (engine run as the runtime runs it: ``python -m emulation.search`` in a child
    process), including the final refresh;
  * client-observed p50/p99 latency over one keep-alive HTTP connection of a filtered
    fuzzy query (``match`` with ``fuzziness: AUTO`` on the card name + ``term`` filter
    on the set), 10 hits with their ``_source``;
and the same work done directly on tantivy in-process, the limit: the same schema and
analysis (the regex word tokenizer + lowercase the engine registers for ``standard``,
per-word edge n-grams for ``name.autocomplete``, keyword fast fields, ``_source`` and
``_id`` stored, dates parsed to epoch millis), the same NDJSON lines parsed, the same
writer (64 MB, one indexing thread), the same query tree (exact term OR fuzzy term, with
a zero-scored filter) and the same hit fetch (``_id`` + parsed ``_source``), both after
the same warm-up and a 3 s pause that lets segment merges from the load finish. The HTTP
client is the standard library's ``http.client`` so that client-library overhead is not
counted against the engine. Each figure is the median of ``--runs`` runs; the ratio
engine/direct of each run is reported too, as it is the figure that holds on a loaded
machine. Not a test: run it by hand.

    PYTHONPATH=. python bench/bench_search.py [--docs 100000] [--queries 500] [--runs 3]
        [--batch 5000] [--refresh-interval -1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_cards import CARD_INDEX_BODY, generate_cards, query_terms

REPO = Path(__file__).resolve().parents[1]
SETTLE_S = 3.0  # idle time between loading and measuring latency, engine and direct alike
REFRESH_INTERVAL: str | None = None  # the engine index's refresh_interval (None: default 1s)
STANDARD_WORD = r"\w+(?:['\u2019.:]\w+)*"  # the engine's ``standard`` word pattern
_WORDS = re.compile(r"[^\W_]+")  # edge_ngram token_chars [letter, digit]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _fuzzy_body(word: str, set_: str) -> dict[str, Any]:
    return {
        "query": {
            "bool": {
                "must": {"match": {"name": {"query": word, "fuzziness": "AUTO"}}},
                "filter": [{"term": {"set": set_}}],
            }
        },
        "size": 10,
    }


def bulk_payloads(cards: list[dict[str, Any]], batch: int) -> list[bytes]:
    payloads = []
    for start in range(0, len(cards), batch):
        lines = []
        for card in cards[start : start + batch]:
            lines.append(json.dumps({"index": {"_id": card["id"]}}))
            lines.append(json.dumps(card))
        payloads.append(("\n".join(lines) + "\n").encode())
    return payloads


# -- the engine over HTTP ------------------------------------------------------------------
class _Http:
    """One keep-alive HTTP/1.1 connection (what a pooled client reuses per request)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"content-type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        return answer.status, answer.read()

    def ok(self, method: str, path: str, body: bytes | None = None) -> Any:
        status, data = self.call(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data)


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"engine exited with {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError as err:
            last = str(err)
        time.sleep(0.05)
    raise SystemExit(f"engine did not answer GET / on port {port} within 30s ({last})")


def bench_http(
    payloads: list[bytes], n_docs: int, queries: list[tuple[str, str]]
) -> dict[str, float]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulation.search", "--port", str(port), "--data-dir", data_dir],
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            _wait_ready(port, proc)
            return _http_work(_Http(port), proc.pid, payloads, n_docs, queries)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process, all its threads (tantivy's, SQLite's) included."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _http_work(
    http: _Http, pid: int, payloads: list[bytes], n_docs: int, queries: list[tuple[str, str]]
) -> dict[str, float]:
    body = CARD_INDEX_BODY
    if REFRESH_INTERVAL is not None:
        body = {**body, "settings": {**body["settings"], "refresh_interval": REFRESH_INTERVAL}}
    http.ok("PUT", "/cards", json.dumps(body).encode())
    started, cpu = time.perf_counter(), _cpu_seconds(pid)
    for payload in payloads:
        status, data = http.call("POST", "/cards/_bulk", payload)
        if status != 200 or b'"errors":false' not in data[:100]:
            raise SystemExit(f"bulk answered {status}: {data[:300]!r}")
    http.ok("POST", "/cards/_refresh")
    elapsed, bulk_cpu = time.perf_counter() - started, _cpu_seconds(pid) - cpu
    count = http.ok("GET", "/cards/_count")["count"]
    assert count == n_docs, f"indexed {count} of {n_docs} documents"
    time.sleep(SETTLE_S)  # let segment merges started by the load finish (both sides)
    bodies = [json.dumps(_fuzzy_body(w, s)).encode() for w, s in queries]
    for body in bodies[:50]:  # warm-up
        http.call("POST", "/cards/_search", body)
    latencies = []
    hits = 0
    cpu = _cpu_seconds(pid)
    for body in bodies:
        t0 = time.perf_counter()
        status, data = http.call("POST", "/cards/_search", body)
        latencies.append((time.perf_counter() - t0) * 1000)
        hits += len(json.loads(data)["hits"]["hits"])
    query_cpu = _cpu_seconds(pid) - cpu
    assert hits > 0, "the fuzzy query matched nothing: the benchmark would be meaningless"
    return {
        "cpu_us_per_doc": bulk_cpu / n_docs * 1e6,
        "cpu_us_per_query": query_cpu / len(bodies) * 1e6,
        "docs_per_s": n_docs / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "hits": hits,
    }


# -- tantivy directly -------------------------------------------------------------------------
def _analyzer(tokenizer: tantivy.Tokenizer) -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tokenizer).filter(tantivy.Filter.lowercase()).build()


def _direct_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field("_source", stored=True)
    sb.add_text_field("id", fast=True, tokenizer_name="raw", index_option="freq")
    sb.add_text_field("name", tokenizer_name="standard_lc")
    sb.add_text_field("name_keyword", fast=True, tokenizer_name="raw", index_option="freq")
    sb.add_text_field("name_autocomplete", tokenizer_name="edge_lc")
    sb.add_text_field("description", tokenizer_name="standard_lc")
    for keyword in ("set", "rarity", "type"):
        sb.add_text_field(keyword, fast=True, tokenizer_name="raw", index_option="freq")
    sb.add_float_field("price", indexed=True, fast=True)
    for number in ("stock", "number", "released_at"):
        sb.add_integer_field(number, indexed=True, fast=True)
    sb.add_boolean_field("foil", indexed=True, fast=True)
    return sb.build()


def _epoch_millis(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def bench_direct(
    payloads: list[bytes], n_docs: int, queries: list[tuple[str, str]]
) -> dict[str, float]:
    schema = _direct_schema()
    with tempfile.TemporaryDirectory() as path:
        index = tantivy.Index(schema, path)
        index.register_tokenizer("standard_lc", _analyzer(tantivy.Tokenizer.regex(STANDARD_WORD)))
        index.register_tokenizer("edge_lc", _analyzer(tantivy.Tokenizer.ngram(2, 20, True)))
        writer = index.writer(64_000_000, 1)
        started, cpu = time.perf_counter(), time.process_time()
        for payload in payloads:  # the same NDJSON the engine receives
            lines = payload.split(b"\n")
            for i in range(1, len(lines), 2):
                raw = lines[i]
                c = json.loads(raw)
                doc = tantivy.Document()
                doc.add_text("_id", json.loads(lines[i - 1])["index"]["_id"])
                doc.add_bytes("_source", raw)
                doc.add_text("id", c["id"])
                doc.add_text("name", c["name"])
                doc.add_text("name_keyword", c["name"])
                for word in _WORDS.findall(c["name"]):
                    doc.add_text("name_autocomplete", word)
                doc.add_text("description", c["description"])
                doc.add_text("set", c["set"])
                doc.add_text("rarity", c["rarity"])
                doc.add_text("type", c["type"])
                doc.add_float("price", round(c["price"] * 100) / 100)
                doc.add_integer("stock", c["stock"])
                doc.add_integer("number", c["number"])
                doc.add_integer("released_at", _epoch_millis(c["released_at"]))
                doc.add_boolean("foil", c["foil"])
                writer.add_document(doc)
        writer.commit()
        index.reload()
        elapsed, bulk_cpu = time.perf_counter() - started, time.process_time() - cpu
        searcher = index.searcher()
        assert searcher.num_docs == n_docs
        Q, Occur = tantivy.Query, tantivy.Occur
        standard = _analyzer(tantivy.Tokenizer.regex(STANDARD_WORD))

        def run(word: str, set_: str) -> int:
            clauses = []
            for token in standard.analyze(word):  # AUTO: 0 / 1 / 2 edits by length
                distance = 0 if len(token) < 3 else 1 if len(token) < 6 else 2
                exact = Q.term_query(schema, "name", token)
                if distance == 0:
                    clauses.append(exact)
                    continue
                fuzzy = Q.fuzzy_term_query(schema, "name", token, distance, True, False)
                clauses.append(Q.boolean_query([(Occur.Should, exact), (Occur.Should, fuzzy)]))
            must = (
                clauses[0]
                if len(clauses) == 1
                else Q.boolean_query([(Occur.Should, c) for c in clauses])
            )
            query = Q.boolean_query(
                [
                    (Occur.Must, must),
                    (Occur.Must, Q.const_score_query(Q.term_query(schema, "set", set_), 0.0)),
                ]
            )
            result = searcher.search(query, 10, count=True)
            hits = []
            for _, addr in result.hits:
                doc = searcher.doc(addr)
                hits.append((doc.get_first("_id"), json.loads(doc.get_first("_source"))))
            return len(hits)

        time.sleep(SETTLE_S)  # as for the engine: merges settle before latency is measured
        for word, set_ in queries[:50]:
            run(word, set_)
        latencies = []
        hits = 0
        cpu = time.process_time()
        for word, set_ in queries:
            t0 = time.perf_counter()
            hits += run(word, set_)
            latencies.append((time.perf_counter() - t0) * 1000)
        query_cpu = time.process_time() - cpu
        writer.wait_merging_threads()
    return {
        "cpu_us_per_doc": bulk_cpu / n_docs * 1e6,
        "cpu_us_per_query": query_cpu / len(queries) * 1e6,
        "docs_per_s": n_docs / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "hits": hits,
    }


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000, help="documents per _bulk request")
    parser.add_argument(
        "--refresh-interval",
        default=None,
        help="index.refresh_interval of the engine's index during the load (default: the "
        "engine default, 1s; '-1' loads like the direct baseline, which commits once)",
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds idle before measuring latency"
    )
    args = parser.parse_args()
    global REFRESH_INTERVAL, SETTLE_S
    REFRESH_INTERVAL, SETTLE_S = args.refresh_interval, args.settle
    cards = generate_cards(args.docs)
    queries = query_terms(args.queries)
    payloads = bulk_payloads(cards, args.batch)
    print(
        f"{args.docs} cards, _bulk of {args.batch}, {args.queries} queries, median of "
        f"{args.runs} runs (engine then direct in each), refresh_interval "
        f"{args.refresh_interval or 'default (1s)'}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    http_runs, direct_runs, ratios = [], [], []
    for run in range(args.runs):
        http = bench_http(payloads, args.docs, queries)
        direct = bench_direct(payloads, args.docs, queries)
        if http["hits"] != direct["hits"]:
            raise SystemExit(f"engine returned {http['hits']} hits, tantivy {direct['hits']}")
        ratio = {
            "cpu_us_per_doc": http["cpu_us_per_doc"] / direct["cpu_us_per_doc"],
            "cpu_us_per_query": http["cpu_us_per_query"] / direct["cpu_us_per_query"],
            "docs_per_s": direct["docs_per_s"] / http["docs_per_s"],
            "p50_ms": http["p50_ms"] / direct["p50_ms"],
            "p99_ms": http["p99_ms"] / direct["p99_ms"],
        }
        http_runs.append(http)
        direct_runs.append(direct)
        ratios.append(ratio)
        print(
            f"run {run + 1}: engine {http['docs_per_s']:.0f} docs/s p50 {http['p50_ms']:.2f} "
            f"p99 {http['p99_ms']:.2f} ms | direct {direct['docs_per_s']:.0f} docs/s "
            f"p50 {direct['p50_ms']:.3f} p99 {direct['p99_ms']:.3f} ms | CPU us/doc engine "
            f"{http['cpu_us_per_doc']:.0f} direct {direct['cpu_us_per_doc']:.0f} | "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    http, direct, ratio = _median_of(http_runs), _median_of(direct_runs), _median_of(ratios)
    print(f"{'':22}{'engine (HTTP)':>16}{'tantivy direct':>16}{'ratio*':>8}{'target':>22}")
    print(
        f"{'bulk docs/s':22}{http['docs_per_s']:16.0f}{direct['docs_per_s']:16.0f}"
        f"{ratio['docs_per_s']:8.2f}x{'>= 20000, <= 2x':>21}"
    )
    for key, label in (("p50_ms", "fuzzy+filter p50 ms"), ("p99_ms", "fuzzy+filter p99 ms")):
        target = "<= 10 ms, <= 2x" if key == "p99_ms" else ""
        print(f"{label:22}{http[key]:16.2f}{direct[key]:16.3f}{ratio[key]:8.2f}x{target:>21}")
    for key, label in (
        ("cpu_us_per_doc", "CPU us/doc (bulk)"),
        ("cpu_us_per_query", "CPU us/query"),
    ):
        print(f"{label:22}{http[key]:16.1f}{direct[key]:16.1f}{ratio[key]:8.2f}x")
    print("* median of the per-run ratios (engine and direct measured back to back)")
    print(
        "CPU = process CPU time (all threads) of the engine server / of the in-process "
        "tantivy work: the load-independent cost"
    )


if __name__ == "__main__":
    main()
