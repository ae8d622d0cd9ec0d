"""Benchmark ``polystore up`` on the embedded runtime: cold (fresh state dir) and warm.

cold: all five systems from an empty state dir to every engine answering and every
store provisioned (initdb, three engine starts in parallel, 13 databases migrated).
warm: ``up`` again with everything running (health checks only), measured both inside
one process and as a whole ``polystore up`` command (interpreter start + imports +
topology load included). Prints medians. Targets: cold <= 5 s, warm <= 0.3 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulation.stack import LocalStack  # noqa: E402
from polystore import load_topology  # noqa: E402

COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "3"))
WARM_RUNS = int(os.environ.get("BENCH_WARM_RUNS", "10"))


def main() -> None:
    systems = load_topology().select(None)
    cold: list[float] = []
    warm: list[float] = []
    warm_cli: list[float] = []
    for run in range(COLD_RUNS):
        with tempfile.TemporaryDirectory(prefix="polystore-bench-") as tmp:
            stack = LocalStack(Path(tmp) / "state")
            try:
                t0 = time.perf_counter()
                stack.up(systems, runtime="embedded")
                cold.append(time.perf_counter() - t0)
                if run == 0:
                    for _ in range(WARM_RUNS):
                        t0 = time.perf_counter()
                        result = stack.up(systems, runtime="embedded")
                        warm.append(time.perf_counter() - t0)
                        assert not result.started and not result.provisioned
                    env = dict(os.environ, PYTHONPATH=str(ROOT))
                    for _ in range(WARM_RUNS):
                        t0 = time.perf_counter()
                        subprocess.run(
                            [sys.executable, "-c", "from polystore.cli.main import main; main()",
                             "up", "--state-dir", str(stack.dir.root)],
                            check=True, capture_output=True, env=env, cwd=ROOT,
                        )  # fmt: skip
                        warm_cli.append(time.perf_counter() - t0)
            finally:
                stack.reset()
    print(f"systems: {len(systems)}  cores: {os.cpu_count()}")
    print(f"cold up  (fresh state dir, {COLD_RUNS} runs): median {statistics.median(cold):.2f} s "
          f"(min {min(cold):.2f}, max {max(cold):.2f})  target <= 5 s")
    print(f"warm up  (in process, {WARM_RUNS} runs):       median "
          f"{statistics.median(warm) * 1000:.0f} ms  target <= 300 ms")
    print(f"warm up  (`polystore up` command, {WARM_RUNS} runs): median "
          f"{statistics.median(warm_cli) * 1000:.0f} ms (interpreter + imports + topology load)")


if __name__ == "__main__":
    main()
