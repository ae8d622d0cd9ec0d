"""Wall-clock timing of a ``polystore`` command, as a user runs it, against a baseline.

The baseline is another revision of this repository (default ``main``), exported with
``git archive`` into a temp dir and run with the same interpreter in the same run, so the
ratio compares code, not machines or load. Each variant is timed as a fresh process:

* ``baseline``  the other revision (cache off: it may not have one),
* ``cold``      this checkout with ``POLYSTORE_NO_CACHE=1`` (every input changed),
* ``warm``      this checkout with a primed cache in a temp dir (inputs unchanged).

Absolute figures depend on the machine's load; the ratios against the baseline, measured
in the same run, are what to compare.
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


def time_once(code: Path, args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=code, check=True,
                   env={**env, "PYTHONPATH": str(code)}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t0


def compare(args: list[str], runs: int, target_s: float, baseline_ref: str = "main") -> None:
    """Print median/min of baseline, cold and warm for ``polystore ARGS``.

    The variants run round-robin (baseline, cold, warm, baseline, ...), so a change in
    the machine's load during the run weighs on all of them alike.
    """
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("POLYSTORE_")}
    with tempfile.TemporaryDirectory(prefix="polystore-bench-") as tmp:
        cache = {"POLYSTORE_CACHE_DIR": str(Path(tmp) / "cache")}
        off = {**base_env, **cache, "POLYSTORE_NO_CACHE": "1"}
        variants: dict[str, tuple[Path, dict[str, str]]] = {}
        old = export(baseline_ref, Path(tmp) / "baseline")
        if old is not None:
            variants[f"baseline ({baseline_ref})"] = (old, off)
        variants["cold (no cache)"] = (REPO, off)
        variants["warm (cache hit)"] = (REPO, {**base_env, **cache})
        time_once(REPO, args, {**base_env, **cache})  # prime the cache
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, (code, env) in variants.items():
                results[name].append(time_once(code, args, env))
    first = statistics.median(next(iter(results.values())))
    print(f"`polystore {' '.join(args)}`, {runs} runs each (round-robin), "
          f"target <= {target_s:.1f} s")  # fmt: skip
    for name, times in results.items():
        med = statistics.median(times)
        verdict = "ok" if med <= target_s else "MISSED"
        print(f"  {name:<20} median {med:5.2f} s  min {min(times):5.2f} s  "
              f"x{first / med:4.1f} vs first row  target {verdict}")  # fmt: skip
