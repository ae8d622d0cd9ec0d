"""Wall-clock timing of a ``polystore`` command, as a user runs it, against a baseline.

The baseline is another revision of this repository (default ``main``), exported with
``git archive`` into a temp dir and run with the same interpreter in the same run, so the
ratio compares code, not machines or load. Each variant is timed as a fresh process:

* ``baseline``  the other revision (cache off: it may not have one),
* ``cold``      this checkout with ``POLYSTORE_NO_CACHE=1`` (every input changed),
* ``warm``      this checkout with a primed cache in a temp dir (inputs unchanged).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENTRY = "from polystore.cli.main import main; main()"  # works in revisions without __main__


def export(ref: str, into: Path) -> Path | None:
    """``git archive REF`` unpacked into ``into``; None when git or the ref is missing."""
    try:
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True,
                                 check=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def time_command(code: Path, args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=code, check=True,
                       env={**env, "PYTHONPATH": str(code)}, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        times.append(time.perf_counter() - t0)
    return times


def compare(args: list[str], runs: int, target_s: float, baseline_ref: str = "main") -> None:
    """Print median/min of baseline, cold and warm for ``polystore ARGS``."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("POLYSTORE_")}
    with tempfile.TemporaryDirectory(prefix="polystore-bench-") as tmp:
        cache = {"POLYSTORE_CACHE_DIR": str(Path(tmp) / "cache")}
        results: dict[str, list[float]] = {}
        old = export(baseline_ref, Path(tmp) / "baseline")
        if old is not None:
            results[f"baseline ({baseline_ref})"] = time_command(
                old, args, runs, {**base_env, **cache, "POLYSTORE_NO_CACHE": "1"}
            )
        results["cold (no cache)"] = time_command(
            REPO, args, runs, {**base_env, **cache, "POLYSTORE_NO_CACHE": "1"}
        )
        time_command(REPO, args, 1, {**base_env, **cache})  # prime the cache
        results["warm (cache hit)"] = time_command(REPO, args, runs, {**base_env, **cache})
    first = statistics.median(next(iter(results.values())))
    print(f"`polystore {' '.join(args)}`, {runs} runs each, target <= {target_s:.1f} s")
    for name, times in results.items():
        med = statistics.median(times)
        verdict = "ok" if med <= target_s else "MISSED"
        print(f"  {name:<20} median {med:5.2f} s  min {min(times):5.2f} s  "
              f"x{first / med:4.1f} vs first row  target {verdict}")  # fmt: skip
