"""The indexing fast path: a mapping compiled into one adder per top-level source key.

``documents.to_document`` walks a document generically (dynamic paths, objects, arrays,
``null_value``, coercion). Nearly every document a service bulk-loads is a flat object of
mapped scalars, so :class:`DocBuilder` compiles the mapping once into a closure per key
that adds the value to every field fed by it (``name`` -> ``name``, ``name.keyword``,
``name.autocomplete``) with the type checks inlined. Values of an unexpected type go
through the generic per-value path (``documents.add_value``), which coerces them or
raises the same ``mapper_parsing_exception``; a document with an unmapped key, an object,
an array or a ``null`` is not built here at all (``build`` returns ``None``) and takes the
generic path, which also applies dynamic mapping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import tantivy

from emulation.search.documents import add_field_names, add_value, parse_date
from emulation.search.errors import SearchError
from emulation.search.mapping import FLOAT_TYPES, INTEGER_TYPES, FieldSpec, Mapping

# (document, value, doc id, present paths) -> None; appends the paths it filled.
Adder = Callable[[tantivy.Document, Any, str, list[str]], None]
_COMPOUND = (dict, list)
_DATE_CACHE: dict[str, int] = {}
_DATE_CACHE_LIMIT = 100_000


def _date_millis(text: str) -> int:
    millis = _DATE_CACHE.get(text)
    if millis is None:
        millis = parse_date(text)  # ValueError for a bad date: the caller goes generic
        if len(_DATE_CACHE) >= _DATE_CACHE_LIMIT:
            _DATE_CACHE.clear()
        _DATE_CACHE[text] = millis
    return millis


def _generic(spec: FieldSpec) -> Adder:
    path = spec.path

    def add(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
        if add_value(doc, spec, value, doc_id):
            present.append(path)

    return add


def _spec_adder(spec: FieldSpec) -> Adder:
    name, path, kind = spec.internal, spec.path, spec.type
    slow = _generic(spec)
    if kind == "keyword" and spec.index_analyzer is None:
        limit = spec.ignore_above

        def keyword(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if type(value) is not str:
                slow(doc, value, doc_id, present)
            elif limit is None or len(value) <= limit:
                doc.add_text(name, value)
                present.append(path)

        return keyword
    native = spec.index_analyzer.native if spec.index_analyzer is not None else None
    if kind == "text" and native is not None:
        split = native.split

        def text(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if type(value) is not str:
                slow(doc, value, doc_id, present)
                return
            if split is None:
                doc.add_text(name, value)
            else:
                for word in split(value):
                    doc.add_text(name, word)
            present.append(path)

        return text
    if kind in INTEGER_TYPES:
        bound = INTEGER_TYPES[kind]

        def integer(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if type(value) is int and -bound <= value < bound:
                doc.add_integer(name, value)
                present.append(path)
            else:
                slow(doc, value, doc_id, present)

        return integer
    if kind in FLOAT_TYPES and kind not in ("float", "half_float"):  # those round first
        factor = spec.scaling_factor

        def number(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if (type(value) is float or type(value) is int) and math.isfinite(value):
                number = float(value)
                if factor:  # scaled_float keeps round(value * factor) as a long
                    number = round(number * factor) / factor
                doc.add_float(name, number)
                present.append(path)
            else:
                slow(doc, value, doc_id, present)

        return number
    if kind == "boolean":

        def boolean(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if type(value) is bool:
                doc.add_boolean(name, value)
                present.append(path)
            else:
                slow(doc, value, doc_id, present)

        return boolean
    if kind == "date" and not spec.epoch_seconds:

        def date(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
            if type(value) is str:
                try:
                    millis = _date_millis(value)
                except (ValueError, TypeError, OverflowError):
                    slow(doc, value, doc_id, present)  # raises the OpenSearch error
                    return
                doc.add_integer(name, millis)
                present.append(path)
            else:
                slow(doc, value, doc_id, present)

        return date
    return slow


def _key_adder(specs: list[FieldSpec]) -> Adder:
    adders = [_spec_adder(spec) for spec in specs]
    if len(adders) == 1:
        return adders[0]

    def every(doc: tantivy.Document, value: Any, doc_id: str, present: list[str]) -> None:
        for add in adders:
            add(doc, value, doc_id, present)

    return every


class DocBuilder:
    """Builds the tantivy document of a flat, fully mapped source (else ``None``)."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self._adders = {path: _key_adder(specs) for path, specs in mapping.by_source.items()}

    def build(
        self, doc_id: str, seq_no: int, raw_source: bytes, source: dict[str, Any]
    ) -> tantivy.Document | None:
        adders = self._adders
        doc = tantivy.Document()
        doc.add_text("_id", doc_id)
        doc.add_bytes("_source", raw_source)
        doc.add_integer("_seq_no", seq_no)
        present: list[str] = []
        try:
            for key, value in source.items():
                adder = adders.get(key)
                if adder is None or value is None or type(value) in _COMPOUND:
                    return None
                adder(doc, value, doc_id, present)
        except SearchError:
            if self._all_fast(source):
                raise
            return None  # the generic path reports what OpenSearch reports first
        add_field_names(doc, present)
        return doc

    def _all_fast(self, source: dict[str, Any]) -> bool:
        adders = self._adders
        return all(
            k in adders and v is not None and type(v) not in _COMPOUND for k, v in source.items()
        )
