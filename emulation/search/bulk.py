"""``_bulk``: NDJSON actions (index, create, update, delete) with per-item results.

The whole request is one SQLite transaction per touched index, committed before the
response is sent, so every item reported as successful is durable.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulation.search.engine import Engine
from emulation.search.errors import SearchError
from emulation.search.index_store import IndexStore, WriteResult
from emulation.search.request import write_options
from emulation.search.util import new_id

ACTIONS = frozenset({"index", "create", "update", "delete"})
_META_KEYS = frozenset(
    {
        "_index",
        "_id",
        "version",
        "version_type",
        "if_seq_no",
        "if_primary_term",
        "routing",
        "pipeline",
        "require_alias",
        "retry_on_conflict",
        "op_type",
        "_source",
        "dynamic_templates",
    }
)


def _malformed(line_no: int, detail: str) -> SearchError:
    return SearchError(
        400, "illegal_argument_exception", f"Malformed action/metadata line [{line_no}], {detail}"
    )


def run_bulk(
    engine: Engine, body: bytes, default_index: str | None, refresh: bool
) -> dict[str, Any]:
    started = time.perf_counter()
    lines = body.split(b"\n")
    items: list[dict[str, Any]] = []
    touched: dict[str, IndexStore] = {}
    errors = False
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        try:
            action_obj = json.loads(line)
        except ValueError:
            raise _malformed(i, "expected START_OBJECT but found [VALUE_STRING]") from None
        if not isinstance(action_obj, dict) or len(action_obj) != 1:
            raise _malformed(
                i, "expected a simple value for field [_index] but found [START_OBJECT]"
            )
        action, meta = next(iter(action_obj.items()))
        if action not in ACTIONS:
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Malformed action/metadata line [{i}], expected field [create],"
                f" [delete], [index] or [update] but found [{action}]",
            )
        extra = set(meta) - _META_KEYS
        if extra:
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Action/metadata line [{i}] contains an unknown parameter [{sorted(extra)[0]}]",
            )
        index_name = meta.get("_index", default_index)
        if index_name is None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index is missing;",
            )
        raw: bytes | None = None
        if action != "delete":
            while i < len(lines) and not lines[i].strip():
                i += 1
            if i >= len(lines):
                raise SearchError(
                    400,
                    "illegal_argument_exception",
                    "The bulk request must be terminated by a newline [\\n]",
                )
            raw = lines[i].strip()
            i += 1
        doc_id = meta.get("_id")
        item_id = str(doc_id) if doc_id is not None else None
        try:
            store = engine.for_write(str(index_name))
            touched[store.name] = store
            result = _apply(store, action, item_id, meta, raw)
            items.append({action: {**result.body, "status": result.status}})
        except SearchError as err:
            errors = True
            items.append(
                {
                    action: {
                        "_index": str(index_name),
                        "_id": item_id,
                        "status": err.status,
                        "error": err.cause(),
                    }
                }
            )
    for store in touched.values():
        store.sources.commit()
        if refresh:
            store.refresh()
    took = int((time.perf_counter() - started) * 1000)
    return {"took": took, "errors": errors, "items": items}


def _parse_source(raw: bytes) -> dict[str, Any]:
    try:
        source = json.loads(raw)
    except ValueError as exc:
        raise SearchError(400, "mapper_parsing_exception", f"failed to parse: {exc}") from None
    if not isinstance(source, dict):
        raise SearchError(400, "mapper_parsing_exception", "failed to parse, document is empty")
    return source


def _apply(
    store: IndexStore, action: str, doc_id: str | None, meta: dict[str, Any], raw: bytes | None
) -> WriteResult:
    if action == "delete":
        if doc_id is None:
            raise SearchError(
                400, "action_request_validation_exception", "Validation Failed: 1: id is missing;"
            )
        return store.delete_doc(doc_id, write_options(meta))
    assert raw is not None
    if action == "update":
        if doc_id is None:
            raise SearchError(
                400, "action_request_validation_exception", "Validation Failed: 1: id is missing;"
            )
        return store.update_doc(doc_id, _parse_source(raw), write_options(meta))
    source = _parse_source(raw)
    op_type = "create" if action == "create" else str(meta.get("op_type", "index"))
    if doc_id is None:
        doc_id = new_id()
        op_type = "create"
    return store.index_doc(doc_id, raw, source, write_options(meta, op_type))
