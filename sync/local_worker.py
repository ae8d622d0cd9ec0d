"""The local stack's worker for a stream-to-search link: one supervised stream poller.

Named in ``emulation.links.REGISTRY`` for the ``stream-to-search`` kind; the stack starts
the worker after provisioning, restarts it when it died (kill -9 included) on the next
``up``, and stops it before the engines. Its contract is the poller's command line and
environment (docs/sync.md).
"""

from __future__ import annotations

import sys
from typing import Any

from polystore.topology.model import StreamToSearchLink, System


def worker_name(system: System, link: str) -> str:
    return f"sync-{system.name}-{link}"


def workers(system: System, name: str, link: StreamToSearchLink, ep: Any,
            state_dir: Any) -> list[Any]:  # fmt: skip
    from emulation.engines.base import Worker

    root = getattr(state_dir, "root", state_dir)
    return [Worker(
        name=worker_name(system, name),
        command=[sys.executable, "-m", "sync.poller", f"{system.name}.{name}",
                 "--state-dir", str(root)],
        env={"AWS_ENDPOINT_URL_DYNAMODB": ep.url("dynamodb"), "OPENSEARCH_URL": ep.url("search"),
             "POLYSTORE_STACKS": str(system.source.parent)},
        description=f"stream poller {link.source} -> {link.target}",
    )]  # fmt: skip


def status(system: System, name: str, link: StreamToSearchLink, state_dir: Any) -> dict[str, Any]:
    """What ``polystore status`` shows for the link: lag, last error, queued failures."""
    from sync.status import link_status

    root = getattr(state_dir, "root", state_dir)
    doc = link_status(root, system.name, name)
    return {k: doc[k] for k in ("state", "lag_ms", "caught_up", "last_error",
                                "queued_failures")}  # fmt: skip
