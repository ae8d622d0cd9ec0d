"""Benchmark: the polystore search engine over HTTP vs tantivy used directly in-process.

Generates 100k deterministic card documents, then measures
  * bulk indexing throughput through HTTP ``_bulk`` (engine run as the runtime runs it:
    ``python -m emulation.search`` in a child process), including the final refresh;
  * p50/p99 latency of a filtered fuzzy query (``match`` with ``fuzziness: AUTO`` on the
    card name + ``term`` filter on the set) through opensearch-py's wire format;
and the same work done directly on tantivy in-process (the limit). Each figure is the
median of ``--runs`` runs. Not a test: run it by hand.

    PYTHONPATH=. python bench/bench_search.py [--docs 100000] [--queries 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_cards import CARD_INDEX_BODY, generate_cards, query_terms

REPO = Path(__file__).resolve().parents[1]
BATCH = 5000


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


# -- the engine over HTTP ------------------------------------------------------------------
def bench_http(cards: list[dict[str, Any]], queries: list[tuple[str, str]]) -> dict[str, float]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulation.search", "--port", str(port), "--data-dir", data_dir],
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"engine did not answer on {url} within 30s")
                time.sleep(0.05)
            return _http_work(url, cards, queries)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _http_work(
    url: str, cards: list[dict[str, Any]], queries: list[tuple[str, str]]
) -> dict[str, float]:
    payloads = []
    for start in range(0, len(cards), BATCH):
        lines = []
        for card in cards[start : start + BATCH]:
            lines.append(json.dumps({"index": {"_id": card["id"]}}))
            lines.append(json.dumps(card))
        payloads.append(("\n".join(lines) + "\n").encode())
    with httpx.Client(base_url=url, timeout=300) as http:
        http.put("/cards", json=CARD_INDEX_BODY).raise_for_status()
        started = time.perf_counter()
        for payload in payloads:
            answer = http.post(
                "/cards/_bulk", content=payload, headers={"content-type": "application/x-ndjson"}
            )
            answer.raise_for_status()
            assert answer.json()["errors"] is False
        http.post("/cards/_refresh").raise_for_status()
        elapsed = time.perf_counter() - started
        assert http.get("/cards/_count").json()["count"] == len(cards)
        bodies = [json.dumps(_fuzzy_body(w, s)).encode() for w, s in queries]
        for body in bodies[:50]:  # warm-up
            http.post("/cards/_search", content=body, headers={"content-type": "application/json"})
        latencies = []
        hits = 0
        for body in bodies:
            t0 = time.perf_counter()
            answer = http.post(
                "/cards/_search", content=body, headers={"content-type": "application/json"}
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            hits += len(answer.json()["hits"]["hits"])
    assert hits > 0, "the fuzzy query matched nothing: the benchmark would be meaningless"
    return {
        "docs_per_s": len(cards) / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
    }


# -- tantivy directly -------------------------------------------------------------------------
def bench_direct(cards: list[dict[str, Any]], queries: list[tuple[str, str]]) -> dict[str, float]:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("name", stored=True, tokenizer_name="default")
    sb.add_text_field("name_keyword", fast=True, tokenizer_name="raw")
    sb.add_text_field("name_autocomplete", tokenizer_name="edge")
    sb.add_text_field("description", stored=True, tokenizer_name="default")
    for keyword in ("set", "rarity", "type"):
        sb.add_text_field(keyword, stored=True, fast=True, tokenizer_name="raw")
    sb.add_float_field("price", stored=True, indexed=True, fast=True)
    for number in ("stock", "number"):
        sb.add_integer_field(number, stored=True, indexed=True, fast=True)
    sb.add_date_field("released_at", stored=True, indexed=True, fast=True)
    sb.add_boolean_field("foil", stored=True, indexed=True, fast=True)
    schema = sb.build()
    with tempfile.TemporaryDirectory() as path:
        index = tantivy.Index(schema, path)
        edge = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(2, 20, True))
            .filter(tantivy.Filter.lowercase())
            .build()
        )
        index.register_tokenizer("edge", edge)
        writer = index.writer(64_000_000, 1)
        started = time.perf_counter()
        for card in cards:  # the same JSON-in work the engine does per document
            c = json.loads(json.dumps(card))
            doc = tantivy.Document()
            doc.add_text("id", c["id"])
            doc.add_text("name", c["name"])
            doc.add_text("name_keyword", c["name"])
            doc.add_text("name_autocomplete", c["name"])
            doc.add_text("description", c["description"])
            doc.add_text("set", c["set"])
            doc.add_text("rarity", c["rarity"])
            doc.add_text("type", c["type"])
            doc.add_float("price", c["price"])
            doc.add_integer("stock", c["stock"])
            doc.add_integer("number", c["number"])
            doc.add_boolean("foil", c["foil"])
            writer.add_document(doc)
        writer.commit()
        index.reload()
        elapsed = time.perf_counter() - started
        searcher = index.searcher()
        Q, Occur = tantivy.Query, tantivy.Occur

        def run(word: str, set_: str) -> int:
            fuzzy = Q.fuzzy_term_query(schema, "name", word, 2 if len(word) > 5 else 1, True)
            query = Q.boolean_query(
                [
                    (Occur.Must, fuzzy),
                    (Occur.Must, Q.const_score_query(Q.term_query(schema, "set", set_), 0.0)),
                ]
            )
            result = searcher.search(query, 10)
            return len([searcher.doc(addr).to_dict() for _, addr in result.hits])

        for word, set_ in queries[:50]:
            run(word, set_)
        latencies = []
        for word, set_ in queries:
            t0 = time.perf_counter()
            run(word, set_)
            latencies.append((time.perf_counter() - t0) * 1000)
        writer.wait_merging_threads()
    return {
        "docs_per_s": len(cards) / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
    }


def _median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cards = generate_cards(args.docs)
    queries = query_terms(args.queries)
    print(
        f"{args.docs} cards, {args.queries} queries, median of {args.runs} runs, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    http = _median_of([bench_http(cards, queries) for _ in range(args.runs)])
    direct = _median_of([bench_direct(cards, queries) for _ in range(args.runs)])
    print(f"{'':22}{'engine (HTTP)':>16}{'tantivy direct':>16}{'ratio':>8}{'target':>22}")
    print(
        f"{'bulk docs/s':22}{http['docs_per_s']:16.0f}{direct['docs_per_s']:16.0f}"
        f"{direct['docs_per_s'] / http['docs_per_s']:8.2f}x{'>= 20000, <= 2x':>21}"
    )
    for key, label in (("p50_ms", "fuzzy+filter p50 ms"), ("p99_ms", "fuzzy+filter p99 ms")):
        target = "<= 10 ms, <= 2x" if key == "p99_ms" else ""
        print(
            f"{label:22}{http[key]:16.2f}{direct[key]:16.3f}"
            f"{http[key] / direct[key]:8.1f}x{target:>21}"
        )


if __name__ == "__main__":
    main()
