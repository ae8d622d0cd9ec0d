"""``_bulk``: NDJSON actions (index, create, update, delete) with per-item results.

The whole body is parsed and validated before anything is applied (a malformed line
answers 400 with nothing written, as in OpenSearch). Then the rows of every id the
request touches are fetched with one query per index, items are applied in order, and
the whole request is one SQLite transaction per touched index, committed before the
response is sent, so every item reported as successful is durable. The response is
encoded item by item from a template: the generic JSON encoder of thousands of nested
dicts was a visible share of a bulk request.
"""

from __future__ import annotations

import json
import json.scanner
import time
from dataclasses import dataclass
from typing import Any

from emulation.search.engine import Engine
from emulation.search.errors import SearchError
from emulation.search.index_store import IndexStore, WriteResult
from emulation.search.request import write_options
from emulation.search.util import new_id
from emulation.search.versioning import WriteOptions

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


@dataclass(frozen=True)
class BulkItem:
    line: int
    action: str
    index: str
    doc_id: str | None
    meta: dict[str, Any]
    raw: bytes | None  # the source / update body line (None for delete)
    text: str | None  # the same line decoded, when the body is UTF-8


# One C call per line: ``json.loads`` adds a decode, an encoding sniff and a wrapper.
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_WS = " \t\n\r\x0b\x0c"  # what bytes.strip() strips


def loads_line(text: str) -> Any:
    """``json.loads`` of one stripped line (same values, same errors)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        return json.loads(text)  # raises the precise error
    return value


def parse_bulk(body: bytes, default_index: str | None) -> list[BulkItem]:
    """Every action of a bulk body; raises the request-level 400 for a malformed one."""
    lines = body.split(b"\n")
    try:
        texts: list[str] | None = body.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        texts = None  # parse line by line from bytes; bad lines fail per item
    items: list[BulkItem] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        try:
            action_obj = json.loads(line) if texts is None else loads_line(texts[i - 1].strip(_WS))
        except ValueError:
            raise _malformed(i, "expected START_OBJECT but found [VALUE_STRING]") from None
        if type(action_obj) is dict and not action_obj:
            raise _malformed(i, "expected FIELD_NAME but found [END_OBJECT]")
        if type(action_obj) is not dict or len(action_obj) != 1:
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
        if type(meta) is not dict:
            raise _malformed(i, "expected START_OBJECT but found [VALUE_STRING]")
        if not meta.keys() <= _META_KEYS:
            extra = sorted(set(meta) - _META_KEYS)[0]
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"Action/metadata line [{i}] contains an unknown parameter [{extra}]",
            )
        index_name = meta.get("_index", default_index)
        if index_name is None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index is missing;",
            )
        raw: bytes | None = None
        text: str | None = None
        line_no = i
        if action != "delete":
            while i < n and not lines[i].strip():
                i += 1
            if i >= n:
                raise SearchError(
                    400,
                    "illegal_argument_exception",
                    "The bulk request must be terminated by a newline [\\n]",
                )
            raw = lines[i].strip()
            text = None if texts is None else texts[i].strip(_WS)
            i += 1
        doc_id = meta.get("_id")
        item_id = str(doc_id) if doc_id is not None else None
        items.append(BulkItem(line_no, action, str(index_name), item_id, meta, raw, text))
    return items


def run_bulk(
    engine: Engine,
    body: bytes,
    default_index: str | None,
    refresh: bool,
    require_alias: bool = False,
) -> bytes:
    """Apply a bulk body; returns the encoded OpenSearch response."""
    started = time.perf_counter()
    items = parse_bulk(body, default_index)
    _prefetch(engine, items)
    parts: list[str] = []
    touched: dict[str, IndexStore] = {}
    errors = False
    for item in items:
        try:
            item_alias = item.meta.get("require_alias", require_alias)
            store = engine.for_write(item.index, require_alias=item_alias in (True, "true"))
            touched[store.name] = store
            action = "create" if item.meta.get("op_type") == "create" else item.action
            routing = engine.routing_through(item.index, store, _routing(item.meta))
            parts.append(_item_json(action, _apply(store, item, routing)))
        except SearchError as err:
            errors = True
            error = {
                "_index": item.index,
                "_id": item.doc_id,
                "status": err.status,
                "error": err.cause(),
            }
            parts.append(json.dumps({item.action: error}, separators=(",", ":")))
    for store in touched.values():
        store.sources.commit()
        if refresh:
            store.refresh()
    took = int((time.perf_counter() - started) * 1000)
    head = f'{{"took":{took},"errors":{"true" if errors else "false"},"items":['
    return (head + ",".join(parts) + "]}").encode()


def _prefetch(engine: Engine, items: list[BulkItem]) -> None:
    ids: dict[str, list[str]] = {}
    for item in items:
        if item.doc_id is not None:
            ids.setdefault(item.index, []).append(item.doc_id)
    for name, doc_ids in ids.items():
        try:
            if name not in engine.indices and name not in engine.aliases:
                continue  # created (or refused, under require_alias) by its first item
            store = engine.for_write(name)
        except SearchError:
            continue  # reported per item when the items are applied
        store.prefetch(doc_ids)


def _item_json(action: str, r: WriteResult) -> str:
    """``{action: {**result.body, "status": ...}}`` encoded like ``json.dumps`` would."""
    return (
        f'{{"{action}":{{"_index":{json.dumps(r.index)},"_id":{json.dumps(r.doc_id)},'
        f'"_version":{r.version},"result":"{r.result}","_shards":{{"total":{r.shards["total"]},'
        f'"successful":1,"failed":0}},'
        f'"_seq_no":{r.seq_no},"_primary_term":1,"status":{r.status}}}}}'
    )


def _parse_source(raw: bytes, text: str | None) -> dict[str, Any]:
    try:
        source = json.loads(raw) if text is None else loads_line(text)
    except ValueError as exc:
        raise SearchError(400, "mapper_parsing_exception", f"failed to parse: {exc}") from None
    if type(source) is not dict:
        raise SearchError(400, "mapper_parsing_exception", "failed to parse, document is empty")
    return source


_DEFAULT_OPTIONS = {
    "index": WriteOptions(op_type="index"),
    "create": WriteOptions(op_type="create"),
}
_PLAIN_KEYS = frozenset({"_index", "_id"})


def _options(meta: dict[str, Any], op_type: str) -> WriteOptions:
    if meta.keys() <= _PLAIN_KEYS:  # the usual action line: nothing to parse
        return _DEFAULT_OPTIONS[op_type]
    return write_options(meta, op_type)


def _apply(store: IndexStore, item: BulkItem, routing: str | None) -> WriteResult:
    action, doc_id, meta, raw = item.action, item.doc_id, item.meta, item.raw
    if action == "delete":
        if doc_id is None:
            raise SearchError(
                400, "action_request_validation_exception", "Validation Failed: 1: id is missing;"
            )
        return store.delete_doc(doc_id, write_options(meta), routing)
    assert raw is not None
    if action == "update":
        if doc_id is None:
            raise SearchError(
                400, "action_request_validation_exception", "Validation Failed: 1: id is missing;"
            )
        source = _parse_source(raw, item.text)
        return store.update_doc(doc_id, source, write_options(meta), routing)
    source = _parse_source(raw, item.text)
    op_type = "create" if action == "create" else str(meta.get("op_type", "index"))
    if doc_id is None:
        doc_id = new_id()
        op_type = "create"
    if op_type not in _DEFAULT_OPTIONS:
        return store.index_doc(doc_id, raw, source, write_options(meta, op_type), routing)
    return store.index_doc(doc_id, raw, source, _options(meta, op_type), routing)


def _routing(meta: dict[str, Any]) -> str | None:
    value = meta.get("routing")
    return None if value is None else str(value)
