"""A link's status from its local state: lag, last error, queued failures, liveness.

Read by ``polystore sync status`` (and by ``polystore status`` through
:func:`link_status`); it opens the link's SQLite file read-mostly and never blocks the
poller for longer than one short read.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sync.link_state import LinkState, state_path

STALE_HEARTBEAT_SECONDS = 5.0


def link_status(state_dir: Path, system: str, link: str) -> dict[str, Any]:
    """``{"system", "link", "state": running|stopped|never-started, "lag_ms", ...}``."""
    path = state_path(state_dir, system, link)
    out: dict[str, Any] = {"system": system, "link": link, "state": "never-started",
                           "lag_ms": None, "caught_up": False, "last_error": None,
                           "last_error_at": None, "queued_failures": 0,
                           "last_sequence_number": None, "shards": {}}  # fmt: skip
    if not path.exists():
        return out
    st = LinkState(path)
    try:
        status = st.status()
        failures = st.failures()
        checkpoints = st.checkpoints()
    finally:
        st.close()
    beat = status.get("heartbeat")
    alive = beat is not None and time.time() - float(beat) < STALE_HEARTBEAT_SECONDS
    out.update(
        state="running" if alive else "stopped",
        lag_ms=status.get("lag_ms"),
        caught_up=bool(status.get("caught_up")) and alive,
        last_error=status.get("last_error"),
        last_error_at=status.get("last_error_at"),
        queued_failures=len(failures),
        last_sequence_number=status.get("last_sequence_number"),
        heartbeat=beat,
        pid=status.get("pid"),
        stream_arn=status.get("stream_arn"),
        shards={k: {"sequence_number": s, "finished": f} for k, (s, f) in checkpoints.items()},
    )
    return out
