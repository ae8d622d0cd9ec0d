"""Time the offline preview of the prod stack with every system (median of N runs), then
``polystore preview --stack dev`` as a user runs it: the baseline revision, this checkout
with no cache, and with the preview cache warm (target <= 3 s).

Usage: PYTHONPATH=. python bench/bench_preview.py [RUNS] [BASELINE_REF]   (default 5, main)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter

from infra.preview import run_preview
from polystore.topology.loader import load_topology


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    topology = load_topology()
    times, count, kinds = [], 0, Counter[str]()
    for _ in range(runs):
        start = time.perf_counter()
        result = run_preview("prod", topology=topology)
        times.append(time.perf_counter() - start)
        count = len(result["resources"])
        kinds = Counter("custom" if r["custom"] else "component" for r in result["resources"])
    med = statistics.median(times)
    print(f"preview prod, {len(topology.systems)} systems: {count} resources "
          f"({kinds['custom']} custom, {kinds['component']} components)")
    print(f"runs={runs} median={med:.2f}s min={min(times):.2f}s max={max(times):.2f}s "
          f"per-resource={1000 * med / max(count, 1):.2f}ms")
    from cli_timing import compare

    compare(["preview", "--stack", "dev"], min(runs, 3), 3.0,
            sys.argv[2] if len(sys.argv) > 2 else "main")


if __name__ == "__main__":
    main()
