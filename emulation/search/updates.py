"""The partial-document update API (``POST /<index>/_update/<id>``) as a pure plan."""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass
from typing import Any

from emulation.search.errors import SearchError, parsing, unsupported


@dataclass(frozen=True)
class UpdatePlan:
    noop: bool
    source: dict[str, Any]
    raw: bytes


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Deep-merge ``patch`` into ``into``; whether anything changed (``detect_noop``)."""
    changed = False
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            changed |= _merge(into[key], value)
        elif key not in into or into[key] != value:
            into[key] = copy.deepcopy(value)
            changed = True
    return changed


def apply_update(
    index: str, doc_id: str, body: dict[str, Any], current: bytes | None, index_uuid: str
) -> UpdatePlan:
    known = {
        "doc",
        "doc_as_upsert",
        "upsert",
        "detect_noop",
        "_source",
        "script",
        "scripted_upsert",
    }
    extra = set(body) - known
    if extra:
        name = sorted(extra)[0]
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" did you mean [{close[0]}]?" if close else ""
        raise parsing(f"[UpdateRequest] unknown field [{name}]{hint}")
    if "script" in body:
        raise unsupported("update with [script]")
    if "doc" not in body:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: script or doc is missing;",
        )
    patch = body["doc"]
    if not isinstance(patch, dict):
        raise parsing("[UpdateRequest] doc must be an object")
    if current is None:
        if body.get("doc_as_upsert"):
            source = copy.deepcopy(patch)
        elif isinstance(body.get("upsert"), dict):
            source = copy.deepcopy(body["upsert"])
        else:
            raise SearchError(
                404,
                "document_missing_exception",
                f"[{doc_id}]: document missing",
                index=index,
                shard="0",
                index_uuid=index_uuid,
            )
        return UpdatePlan(False, source, json.dumps(source).encode())
    source = json.loads(current)
    changed = _merge(source, patch)
    if not changed and body.get("detect_noop", True):
        return UpdatePlan(True, source, current)
    return UpdatePlan(False, source, json.dumps(source).encode())
