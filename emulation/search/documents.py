"""From a mapping to a tantivy schema, and from a JSON source to a tantivy document.

System fields every index carries: ``_id`` (raw, stored), ``_source`` (the original
JSON bytes, stored so search hits show exactly what the refreshed view indexed),
``_seq_no`` (fast, a stable tie-breaker) and ``_field_names`` (which paths a document
has, what ``exists`` queries look at — the same trick OpenSearch uses; one value per
document, the paths separated by U+001F and split by a registered tokenizer).

Text fields whose analyzer has a tantivy equivalent (``native_analysis``) are tokenized
by tantivy from the raw value; the others get Python's tokens joined by spaces.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import tantivy

from emulation.search.errors import mapper_parsing
from emulation.search.field_types import STORED_ONLY, coerce_extra, is_point_array
from emulation.search.mapping import FLOAT_TYPES, INTEGER_TYPES, FieldSpec, Mapping
from emulation.search.native_analysis import PATH_SEPARATOR, PATHS_TOKENIZER, paths_analyzer


def build_schema(mapping: Mapping) -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field("_source", stored=True)
    sb.add_integer_field("_seq_no", fast=True)  # not queried: no inverted index needed
    sb.add_text_field("_field_names", tokenizer_name=PATHS_TOKENIZER, index_option="basic")
    for spec in mapping.fields.values():
        name = spec.internal
        if spec.type == "text":
            native = spec.index_analyzer.native if spec.index_analyzer else None
            tok = "raw" if spec.raw_tokens else "whitespace"
            if native is not None:
                tok = native.name
            sb.add_text_field(name, tokenizer_name=tok, index_option="position")
        elif spec.type in ("keyword", "ip"):
            sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="freq")
        elif spec.type == "unsigned_long":
            sb.add_unsigned_field(name, indexed=True, fast=True)
        elif spec.type in INTEGER_TYPES or spec.type in ("date", "date_nanos"):
            sb.add_integer_field(name, indexed=True, fast=True)
        elif spec.type in FLOAT_TYPES:
            sb.add_float_field(name, indexed=True, fast=True)
        elif spec.type == "boolean":
            sb.add_boolean_field(name, indexed=True, fast=True)
    return sb.build()


def register_analyzers(index: tantivy.Index, mapping: Mapping) -> None:
    """Register the tantivy analyzers the schema of ``mapping`` names on ``index``."""
    index.register_tokenizer(PATHS_TOKENIZER, paths_analyzer())
    for spec in mapping.fields.values():
        native = spec.index_analyzer.native if spec.index_analyzer else None
        if spec.type == "text" and native is not None:
            index.register_tokenizer(native.name, native.analyzer)


def add_text_value(doc: tantivy.Document, spec: FieldSpec, text: str) -> None:
    """One text value of a ``text`` field, tokenized by tantivy or by Python."""
    analyzer = spec.index_analyzer
    assert analyzer is not None
    native = analyzer.native
    name = spec.internal
    if native is not None:
        if native.split is None:
            doc.add_text(name, text)
        else:
            for word in native.split(text):
                doc.add_text(name, word)
    elif spec.raw_tokens:
        for tok in analyzer.analyze(text):
            doc.add_text(name, tok)
    else:
        doc.add_text(name, " ".join(analyzer.analyze(text)))


def add_field_names(doc: tantivy.Document, present: list[str]) -> None:
    if present:
        doc.add_text("_field_names", PATH_SEPARATOR.join(present))


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


_EXTRA = frozenset({"ip", "unsigned_long", "date_nanos", *STORED_ONLY})


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
    if kind in _EXTRA:
        return coerce_extra(kind, value)
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
    present: list[str] = []
    _add_object(doc, mapping, doc_id, source, "", present)
    add_field_names(doc, list(dict.fromkeys(present)))
    return doc


def _add_object(
    doc: tantivy.Document,
    mapping: Mapping,
    doc_id: str,
    obj: dict[str, Any],
    prefix: str,
    present: list[str],
) -> None:
    # The hot path of indexing: plain scalars of the common types skip the generic
    # coercion, and objects "exist" (for ``exists`` queries) when one of their leaves does.
    by_source = mapping.by_source
    for key, value in obj.items():
        path = prefix + key if prefix else key
        if path in mapping.geo_points:
            _add_geo_points(doc, mapping.by_source[path], value, doc_id, present)
            continue
        if type(value) is dict:
            _add_nested(doc, mapping, doc_id, value, path, present)
            continue
        if type(value) is list:
            scalars = []
            for item in _flat_list(value):
                if type(item) is dict:
                    _add_nested(doc, mapping, doc_id, item, path, present)
                else:
                    scalars.append(item)
            values: list[Any] | tuple[Any, ...] = scalars
        else:
            values = (value,)
        specs = by_source.get(path)
        if specs is None:
            continue
        for spec in specs:
            for item in values:
                if item is None:
                    if spec.null_value is None:
                        continue
                    item = spec.null_value
                if add_value(doc, spec, item, doc_id):
                    present.append(spec.path)


def _add_geo_points(
    doc: tantivy.Document, specs: list[FieldSpec], value: Any, doc_id: str, present: list[str]
) -> None:
    """A geo_point may be an object or an array of numbers: one value, not a subtree."""
    if value is None:
        return
    points = [value] if is_point_array(value) or not isinstance(value, list) else value
    for spec in specs:
        for point in points:
            if point is not None and add_value(doc, spec, point, doc_id):
                present.append(spec.path)


def _add_nested(
    doc: tantivy.Document,
    mapping: Mapping,
    doc_id: str,
    obj: dict[str, Any],
    path: str,
    present: list[str],
) -> None:
    before = len(present)
    _add_object(doc, mapping, doc_id, obj, path + ".", present)
    if len(present) > before:
        present.append(path)


def _flat_list(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in values:
        if type(item) is list:
            out.extend(_flat_list(item))
        else:
            out.append(item)
    return out


def add_value(doc: tantivy.Document, spec: FieldSpec, value: Any, doc_id: str) -> bool:
    kind = spec.type
    name = spec.internal
    if kind == "keyword" and type(value) is str and spec.index_analyzer is None:
        if spec.ignore_above is not None and len(value) > spec.ignore_above:
            return False
        doc.add_text(name, value)
        return True
    if kind == "text" and type(value) is str:
        add_text_value(doc, spec, value)
        return True
    try:
        typed = coerce(spec, value)
    except (ValueError, TypeError, OverflowError):
        raise _preview(spec, value, doc_id) from None
    return _add(doc, spec, typed)


def _add(doc: tantivy.Document, spec: FieldSpec, typed: Any) -> bool:
    name = spec.internal
    kind = spec.type
    if kind == "text":
        add_text_value(doc, spec, typed)
        return True
    if kind == "keyword":
        if spec.ignore_above is not None and len(typed) > spec.ignore_above:
            return False
        if spec.index_analyzer is not None:
            typed = "".join(spec.index_analyzer.analyze(typed))
        doc.add_text(name, typed)
        return True
    if kind in INTEGER_TYPES or kind in ("date", "date_nanos"):
        doc.add_integer(name, typed)
    elif kind == "ip":
        doc.add_text(name, typed)
    elif kind == "unsigned_long":
        doc.add_unsigned(name, typed)
    elif kind in FLOAT_TYPES:
        doc.add_float(name, typed)
    elif kind == "boolean":
        doc.add_boolean(name, typed)
    return True
