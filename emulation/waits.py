"""Bounded waits: poll a probe until it succeeds, or fail saying what was seen.

The habit comes from testcontainers: a startup timeout, a poll interval, a set of
transient errors, and a timeout error naming what was waited for, the last thing
seen, the engine's recent log lines and what to try.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from emulation.errors import EngineNotReady

T = TypeVar("T")


def tail(path: Path | None, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 16_384))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def wait_for(
    probe: Callable[[], T],
    *,
    what: str,
    timeout: float,
    interval: float = 0.05,
    log: Path | None = None,
    hint: str = "",
    alive: Callable[[], bool] | None = None,
) -> T:
    """Call ``probe`` until it returns without raising; return its result.

    Any exception from ``probe`` counts as "not yet" and is remembered as what was
    seen. ``alive`` (when given) lets the wait stop early once the process is gone,
    since waiting for a dead engine only wastes the user's time.
    """
    deadline = time.monotonic() + timeout
    seen = "nothing yet"
    while True:
        try:
            return probe()
        except Exception as exc:
            seen = f"{type(exc).__name__}: {exc}".strip()
        if alive is not None and not alive():
            raise _not_ready(f"{what}: the process exited", seen, log, hint)
        if time.monotonic() >= deadline:
            raise _not_ready(f"{what}: not ready after {timeout:.0f}s", seen, log, hint)
        time.sleep(interval)


def _not_ready(head: str, seen: str, log: Path | None, hint: str) -> EngineNotReady:
    text = f"{head}; last seen: {seen}"
    recent = tail(log)
    if recent:
        text += f"\n  last lines of {log}:\n" + "\n".join("    " + ln for ln in recent.splitlines())
    return EngineNotReady(text, hint or (f"read {log}" if log else ""))
