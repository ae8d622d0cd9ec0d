"""Placeholder for handlers that land with the sync issue (stream-to-search, CDC sink).

It exists so the infrastructure can be deployed and reviewed before the handler code is
written. It does not pretend to work: every invocation fails, so the event source mapping
retries, bisects and finally sends the batch to its on-failure destination — nothing is
lost, and the queue shows that the real handler is missing.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    raise NotImplementedError(
        "this Lambda runs the polystore placeholder handler; deploy the sync handler "
        "(stream-to-search / CDC sink) to process these records"
    )
