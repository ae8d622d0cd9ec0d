"""Benchmark the search engine's refresh and its start-up with the searchable view lost.

Prints, for the tantivy view kept in the data dir (on disk; the layout before views moved)
and on tmpfs (``/dev/shm``, the default), in the same run:
- refresh duration p50/p99/max over ``--rounds`` refreshes of ``--batch`` cards each
  (the time the single-threaded engine answers nothing);
- start-up with the view removed (a reboot clears tmpfs): seconds to rebuild ``--docs``
  cards from SQLite, and docs/s;
- the view's size on its filesystem (what tmpfs holds in memory) for ``--docs`` cards.

The data dir (SQLite) is always on disk, in the system temp dir (``--tmp``). In-process
(no HTTP), so the figures are the engine's own cost. Usage:
``PYTHONPATH=. .venv/bin/python bench/bench_refresh.py [--rounds 200] [--batch 100]
[--docs 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_cards import CARD_INDEX_BODY, generate_cards  # noqa: E402

from emulation.search.engine import Engine  # noqa: E402
from emulation.search.versioning import WriteOptions  # noqa: E402
from emulation.search.view_dir import root_path  # noqa: E402

SHM = "/dev/shm"


def _size(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def run(mode: str, view_dir: str, tmp: Path, rounds: int, batch: int, docs: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="bench-refresh-", dir=tmp))
    body = {
        **CARD_INDEX_BODY,
        "settings": {**CARD_INDEX_BODY["settings"], "refresh_interval": "-1"},
    }
    cards = [
        (str(c["id"]), json.dumps(c).encode()) for c in generate_cards(max(docs, rounds * batch))
    ]
    try:
        engine = Engine(data, view_dir)
        store = engine.create_index("cards", body)
        durations = []
        for r in range(rounds):
            for doc_id, raw in cards[r * batch : (r + 1) * batch]:
                store.index_doc(doc_id, raw, json.loads(raw), WriteOptions())
            store.sources.commit()
            started = time.perf_counter()
            store.refresh()
            durations.append((time.perf_counter() - started) * 1000)
        for doc_id, raw in cards[rounds * batch : docs]:
            store.index_doc(doc_id, raw, json.loads(raw), WriteOptions())
        store.sources.commit()
        engine.close()
        view = engine.indices["cards"].view_dir
        size = sum(_size(p) for p in view.glob("tantivy-*"))
        for generation in view.glob("tantivy-*"):  # as a reboot clears /dev/shm
            shutil.rmtree(generation)
        started = time.perf_counter()
        engine = Engine(data, view_dir)
        took = time.perf_counter() - started
        rebuilt = engine.indices["cards"].rebuilt
        count = engine.indices["cards"].searcher().num_docs
        engine.close()
        assert count == rebuilt == max(docs, rounds * batch), (count, rebuilt)
        print(
            f"{mode:>22}: refresh of {batch} cards p50 {statistics.median(durations):.1f} ms, "
            f"p99 {_percentile(durations, 99):.1f} ms, max {max(durations):.1f} ms "
            f"({rounds} refreshes); start-up with the view lost: {rebuilt} cards in "
            f"{took:.2f} s = {rebuilt / took:.0f} docs/s; view {size / 1e6:.1f} MB"
        )
    finally:
        if view_dir != "data":
            root = root_path(data, view_dir)
            if root is not None:
                shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"bench_refresh: data dir on {args.tmp}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    run("view in the data dir", "data", args.tmp, args.rounds, args.batch, args.docs)
    run("view on tmpfs", str(Path(SHM) / f"polystore-search-bench-{os.getpid()}"), args.tmp,
        args.rounds, args.batch, args.docs)  # fmt: skip
    shutil.rmtree(Path(SHM) / f"polystore-search-bench-{os.getpid()}", ignore_errors=True)


if __name__ == "__main__":
    main()
