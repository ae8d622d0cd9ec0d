"""Time to evaluate every policy rule over the prod preview of all five systems, then
``polystore policy --all-stacks`` as a user runs it.

The preview (the mocked program run) is taken once and excluded from the first figure,
the median of repeated evaluations (target ≤ 1 s). The second compares the command in
the baseline revision, in this checkout with no cache, and with the preview cache warm
(target ≤ 4 s).

Usage: PYTHONPATH=. python bench/bench_policy.py [BASELINE_REF]   (default main)
"""

from __future__ import annotations

import statistics
import sys
import time


def main(repeats: int = 7) -> None:
    from infra.preview import run_preview
    from policy.engine import evaluate
    from policy.rules import all_rules
    from polystore.topology.loader import load_topology

    topology = load_topology()
    t0 = time.perf_counter()
    preview = run_preview("prod")
    preview_s = time.perf_counter() - t0
    rules = all_rules()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        report = evaluate(preview, topology, rules=rules)
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(f"resources: {len(preview['resources'])}, rules: {len(rules)}, "
          f"findings: {len(report.findings)}")
    print(f"preview (excluded): {preview_s:.2f} s")
    print(f"evaluate all rules: median {median * 1000:.1f} ms, min {min(times) * 1000:.1f} ms "
          f"over {repeats} runs (target ≤ 1000 ms: {'ok' if median <= 1 else 'MISSED'})")

    from cli_timing import compare

    compare(["policy", "--all-stacks"], 3, 4.0, sys.argv[1] if len(sys.argv) > 1 else "main")


if __name__ == "__main__":
    main()
