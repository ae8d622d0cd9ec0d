"""The ``fields`` of a search hit: ``docvalue_fields`` and ``stored_fields``.

Both are read from the document's source, coerced the way the field indexes its values
(what doc values and stored fields hold): numbers as numbers, keywords as strings,
dates formatted, booleans as booleans; doc values come sorted as Lucene keeps them.
``stored_fields`` returns fields mapped with ``store: true`` and leaves ``_source``
out unless it is asked for by name, as OpenSearch does.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from emulation.search.documents import coerce, date_text, flatten
from emulation.search.errors import bad_request, unsupported
from emulation.search.field_types import STORED_ONLY, format_nanos
from emulation.search.mapping import FieldSpec, Mapping

_DECIMAL = re.compile(r"^#*0*\.(0+)$")  # DecimalFormat patterns like "#.0", "0.00"


def _formatted(spec: FieldSpec, value: Any, fmt: str | None) -> Any:
    if spec.type == "date":
        return date_text(spec, value)
    if spec.type == "date_nanos":
        return format_nanos(value)
    if fmt is None:
        return value
    match = _DECIMAL.match(fmt)
    if match and spec.is_numeric:
        return f"{float(value):.{len(match.group(1))}f}"
    raise unsupported(f"docvalue_fields format [{fmt}]")


class HitFields:
    """What a search asks for besides ``_source``; ``None`` values mean nothing asked."""

    def __init__(
        self,
        mapping: Mapping,
        body: dict[str, Any],
        params: dict[str, str],
        max_docvalue_fields: int = 100,
    ) -> None:
        self.mapping = mapping
        self.docvalues: list[tuple[FieldSpec, str | None]] = []
        self.stored: list[FieldSpec] = []
        self.source_wanted = True
        specs = body.get("docvalue_fields", params.get("docvalue_fields"))
        if isinstance(specs, str):
            specs = specs.split(",")
        specs = specs or []
        if len(specs) > max_docvalue_fields:
            raise bad_request(
                "Trying to retrieve too many docvalue_fields. Must be less than or equal to: "
                f"[{max_docvalue_fields}] but was [{len(specs)}]. This limit can be set by "
                "changing the [index.max_docvalue_fields_search] index level setting."
            )
        for item in specs:
            if isinstance(item, str):
                name, fmt = item, None
            else:
                name, fmt = item.get("field"), item.get("format")
            if fmt == "use_field_mapping":
                raise unsupported("docvalue_fields format [use_field_mapping]")
            for spec in self._matching(str(name)):
                if spec.is_text or spec.type in STORED_ONLY:
                    raise bad_request(
                        f"Can't load fielddata on [{spec.path}] because fielddata is unsupported "
                        f"on fields of type [{spec.type}]. Use doc values instead."
                    )
                self.docvalues.append((spec, fmt))
        stored = body.get("stored_fields", params.get("stored_fields"))
        if stored is not None:
            names = stored.split(",") if isinstance(stored, str) else [str(s) for s in stored]
            if names == ["_none_"]:
                self.source_wanted = False
            else:  # _source comes back only when asked for, by name or by parameter
                self.source_wanted = "_source" in names or "_source" in params
                for name in names:
                    if name.startswith("_"):
                        continue
                    self.stored.extend(s for s in self._matching(name) if s.stored)

    def _matching(self, pattern: str) -> list[FieldSpec]:
        if "*" in pattern:
            return [s for p, s in self.mapping.fields.items() if fnmatch.fnmatchcase(p, pattern)]
        spec = self.mapping.field(pattern)
        return [spec] if spec is not None else []

    @property
    def active(self) -> bool:
        return bool(self.docvalues or self.stored)

    def of(self, raw: bytes) -> dict[str, list[Any]]:
        flat = flatten(json.loads(raw))
        out: dict[str, list[Any]] = {}
        for spec, fmt in self.docvalues:
            values = _coerced(spec, flat)
            if values:
                out[spec.path] = [_formatted(spec, v, fmt) for v in sorted(set(values))]
        for spec in self.stored:
            values = flat.get(spec.source_path, [])
            if values:
                out[spec.path] = values
        return out


def _coerced(spec: FieldSpec, flat: dict[str, list[Any]]) -> list[Any]:
    out = []
    for value in flat.get(spec.source_path, []):
        if value is None:
            continue
        try:
            typed = coerce(spec, value)
        except (ValueError, TypeError):
            continue
        out.append(typed)
    return out
