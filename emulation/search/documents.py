"""From a mapping to a tantivy schema, and from a JSON source to a tantivy document.

System fields every index carries: ``_id`` (raw, stored), ``_source`` (the original
JSON bytes, stored so search hits show exactly what the refreshed view indexed),
``_seq_no`` (fast, a stable tie-breaker) and ``_field_names`` (which paths a document
has, what ``exists`` queries look at — the same trick OpenSearch uses).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import tantivy

from emulation.search.errors import mapper_parsing
from emulation.search.mapping import FLOAT_TYPES, INTEGER_TYPES, FieldSpec, Mapping


def build_schema(mapping: Mapping) -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field("_source", stored=True)
    sb.add_integer_field("_seq_no", indexed=True, fast=True)
    sb.add_text_field("_field_names", tokenizer_name="raw", index_option="basic")
    for spec in mapping.fields.values():
        name = spec.internal
        if spec.type == "text":
            tok = "raw" if spec.raw_tokens else "whitespace"
            sb.add_text_field(name, tokenizer_name=tok, index_option="position")
        elif spec.type == "keyword":
            sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="freq")
        elif spec.type in INTEGER_TYPES or spec.type == "date":
            sb.add_integer_field(name, indexed=True, fast=True)
        elif spec.type in FLOAT_TYPES:
            sb.add_float_field(name, indexed=True, fast=True)
        elif spec.type == "boolean":
            sb.add_boolean_field(name, indexed=True, fast=True)
    return sb.build()


def _preview(spec: FieldSpec, value: Any, doc_id: str) -> Exception:
    return mapper_parsing(
        f"failed to parse field [{spec.path}] of type [{spec.type}] in document with id "
        f"'{doc_id}'. Preview of field's value: '{value}'"
    )


def parse_date(value: Any) -> int:
    """Epoch milliseconds from the formats OpenSearch's default date format accepts."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    dt = datetime.fromisoformat(text.replace("/", "-"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def format_date(millis: int | float) -> str:
    dt = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A single JSON value converted to the field's type (raises ValueError)."""
    kind = spec.type
    if kind in INTEGER_TYPES:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, int | float) or math.isnan(number):
            raise ValueError(value)
        out = int(number)
        limit = INTEGER_TYPES[kind]
        if not -limit <= out < limit:
            raise ValueError(value)
        return out
    if kind in FLOAT_TYPES:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(value)
        if spec.scaling_factor:  # scaled_float keeps round(value * factor) as a long
            return round(number * spec.scaling_factor) / spec.scaling_factor
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false", ""):
            return value == "true"
        raise ValueError(value)
    if kind == "date":
        return parse_date(value)
    if isinstance(value, dict | list):
        raise ValueError(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, list[Any]]) -> None:
    for key, value in obj.items():
        path = f"{prefix}{key}"
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                _flatten(item, f"{path}.", out)
            elif isinstance(item, list):
                _flatten({key: item}, prefix, out)
            else:
                out.setdefault(path, []).append(item)


def flatten(source: dict[str, Any]) -> dict[str, list[Any]]:
    """Leaf path -> its values (arrays and nested objects flattened, as Lucene sees them)."""
    out: dict[str, list[Any]] = {}
    _flatten(source, "", out)
    return out


def to_document(
    mapping: Mapping, doc_id: str, seq_no: int, raw_source: bytes, source: dict[str, Any]
) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("_id", doc_id)
    doc.add_bytes("_source", raw_source)
    doc.add_integer("_seq_no", seq_no)
    present: set[str] = set()
    for path, values in flatten(source).items():
        specs = mapping.by_source.get(path)
        if not specs:
            continue
        for spec in specs:
            for value in values:
                if value is None:
                    if spec.null_value is None:
                        continue
                    value = spec.null_value
                try:
                    typed = coerce(spec, value)
                except (ValueError, TypeError, OverflowError):
                    raise _preview(spec, value, doc_id) from None
                if _add(doc, spec, typed):
                    present.add(spec.path)
    for path in present:
        doc.add_text("_field_names", path)
        # Objects "exist" when any of their leaves does.
        while "." in path:
            path = path.rsplit(".", 1)[0]
            doc.add_text("_field_names", path)
    return doc


def _add(doc: tantivy.Document, spec: FieldSpec, typed: Any) -> bool:
    name = spec.internal
    kind = spec.type
    if kind == "text":
        analyzer = spec.index_analyzer
        assert analyzer is not None
        tokens = analyzer.analyze(typed)
        if spec.raw_tokens:
            for tok in tokens:
                doc.add_text(name, tok)
        else:
            doc.add_text(name, " ".join(tokens))
        return True
    if kind == "keyword":
        if spec.ignore_above is not None and len(typed) > spec.ignore_above:
            return False
        if spec.index_analyzer is not None:
            typed = "".join(spec.index_analyzer.analyze(typed))
        doc.add_text(name, typed)
        return True
    if kind in INTEGER_TYPES or kind == "date":
        doc.add_integer(name, typed)
    elif kind in FLOAT_TYPES:
        doc.add_float(name, typed)
    elif kind == "boolean":
        doc.add_boolean(name, typed)
    return True
