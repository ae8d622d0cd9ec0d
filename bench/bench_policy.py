"""Time to evaluate every policy rule over the prod preview of all five systems.

The preview (the mocked program run) is taken once and excluded; the figure is the
median of repeated evaluations (target ≤ 1 s).
"""

from __future__ import annotations

import statistics
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


if __name__ == "__main__":
    main()
