"""The CDC sink: an AWS Lambda handler for an MSK event source mapping (and, locally, for
the consumer in ``cdc.consumer``, which builds the same event).

Environment: ``CDC_SINK_SPEC`` (the link's transform, ``cdc.plan.sink_spec`` as JSON),
the table variable the spec names (``DYNAMODB_TABLE_...``), and boto3's own
(``AWS_REGION``, ``AWS_ENDPOINT_URL_DYNAMODB`` locally).

Failures. Every good record of a batch is applied first. A record the transform cannot
read (a poison record) then fails the invocation with :class:`PoisonRecords` naming each
one: the event source mapping retries the batch (re-applying the good records is a no-op)
and finally hands it to the on-failure destination. A DynamoDB failure fails the
invocation before anything is acknowledged. The handler returns an empty
``batchItemFailures``: partial responses would only narrow a retry that is idempotent
anyway, and the MSK mapping here does not enable ``ReportBatchItemFailures``.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from typing import Any

from cdc.msk import json_value, records_of, where
from cdc.sink import ReadModelSink
from cdc.transform import ItemOp, SinkSpec, TransformError, operations

SPEC_ENV = "CDC_SINK_SPEC"
log = logging.getLogger("cdc.handler")


class PoisonRecords(RuntimeError):
    """Records the declared transform cannot apply; ``records`` are their MSK entries."""

    def __init__(self, failures: list[tuple[dict[str, Any], str]]) -> None:
        self.records = [r for r, _ in failures]
        lines = "; ".join(f"{where(r)}: {why}" for r, why in failures)
        super().__init__(f"{len(failures)} record(s) cannot be applied: {lines}")


@cache
def _spec() -> SinkSpec:
    text = os.environ.get(SPEC_ENV)
    if not text:
        raise RuntimeError(f"{SPEC_ENV} is not set: the sink does not know its transform")
    return SinkSpec.from_json(text)


@cache
def _sink() -> ReadModelSink:
    import boto3

    spec = _spec()
    table = os.environ.get(spec.table_env)
    if not table:
        raise RuntimeError(f"{spec.table_env} is not set: the sink does not know its table")
    return ReadModelSink(boto3.client("dynamodb"), table, spec)


def handle(event: dict[str, Any], sink: ReadModelSink) -> dict[str, Any]:
    """Apply one MSK event through ``sink``; the Lambda entry point wires the sink."""
    ops: list[ItemOp] = []
    failures: list[tuple[dict[str, Any], str]] = []
    count = 0
    for record in records_of(event):
        count += 1
        try:
            ops.extend(operations(sink.spec, json_value(record)))
        except (TransformError, ValueError) as exc:
            failures.append((record, str(exc)))
    result = sink.apply(ops)
    log.info(json.dumps({"link": sink.spec.link, "records": count, "written": result.written,
                         "stale": result.stale, "poison": len(failures)}))  # fmt: skip
    if failures:
        raise PoisonRecords(failures)
    return {"batchItemFailures": []}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """AWS Lambda entry point (``cdc.handler.handler``)."""
    return handle(event, _sink())
