"""Replay a link's local failure queue through the handler (``polystore sync redrive``).

Records are replayed in the order they were queued, one per invocation; the external
versions make this safe at any time: a queued record older than what the index holds is
refused as stale (and leaves the queue as done), a newer one is applied. Records that
still fail stay queued with their attempt count raised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polystore.topology.model import System
from sync import endpoints
from sync.link_state import LinkState, state_path
from sync.stream_to_search import handler as lambda_handler


def redrive(state_dir: Path, system: System, link: str, dynamodb_url: str | None = None,
            search_url: str | None = None) -> dict[str, Any]:  # fmt: skip
    """``{"redriven": n, "still_failing": m, "errors": [...]}``."""
    ends = endpoints.resolve(system, link, state_dir, dynamodb_url, search_url)
    endpoints.prepare_handler_env(system, link, state_dir, ends)
    lambda_handler.reset()
    st = LinkState(state_path(state_dir, system.name, link))
    try:
        done: list[int] = []
        still: list[str] = []
        for failure in st.failures():
            result = lambda_handler.handler({"Records": [failure["record"]]}, None)
            if result["batchItemFailures"]:
                still.append(failure["sequence_number"])
                st.bump_failure(failure["id"], "redrive: still failing")
            else:
                done.append(failure["id"])
        st.remove_failures(done)
    finally:
        st.close()
        lambda_handler.reset()
    return {"redriven": len(done), "still_failing": len(still), "failing": still}
