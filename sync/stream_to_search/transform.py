"""A stream record's item → the search document, as the link's transform declares.

Pure functions over DynamoDB's AttributeValue JSON (the shape the Lambda event carries):
which items the link indexes, the document id, and the document body.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any

from sync.stream_to_search.config import LinkConfig

AttributeMap = dict[str, dict[str, Any]]


def plain(value: dict[str, Any]) -> Any:
    """One AttributeValue as JSON-ready Python (numbers stay exact where they are ints)."""
    (tag, v), *rest = value.items()
    if rest:
        raise ValueError(f"an AttributeValue has one type tag, got {sorted(value)}")
    if tag == "S":
        return v
    if tag == "N":
        return _number(v)
    if tag == "BOOL":
        return bool(v)
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: plain(x) for k, x in v.items()}
    if tag == "L":
        return [plain(x) for x in v]
    if tag == "SS":
        return list(v)
    if tag == "NS":
        return [_number(x) for x in v]
    if tag == "B":
        return v if isinstance(v, str) else base64.b64encode(v).decode()
    if tag == "BS":
        return [x if isinstance(x, str) else base64.b64encode(x).decode() for x in v]
    raise ValueError(f"unknown AttributeValue type {tag!r}")


def _number(text: str) -> int | float:
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return int(text)  # the common case, without a Decimal
    d = Decimal(text)
    return int(d) if d == d.to_integral_value() and "e" not in text.lower() else float(d)


def key_texts(keys: AttributeMap) -> dict[str, str]:
    """Every key attribute as text (computed once per record for selection and the id)."""
    return {k: key_text(v) for k, v in keys.items()}


def key_text(value: dict[str, Any]) -> str:
    """A key attribute as text (keys are S, N or B)."""
    (_, v), *_ = value.items()
    return v if isinstance(v, str) else str(plain(value))


def selected(cfg: LinkConfig, keys: AttributeMap, texts: dict[str, str] | None = None) -> bool:
    """Whether the item with these keys is one the link indexes."""
    if not cfg.key_prefixes and not cfg.item_patterns:
        return True
    texts = key_texts(keys) if texts is None else texts
    for attr, prefix in cfg.key_prefixes.items():
        if not texts.get(attr, "").startswith(prefix):
            return False
    if not cfg.item_patterns:
        return True
    return any(
        all(a in texts and re.fullmatch(rx, texts[a]) for a, rx in pattern.items())
        for pattern in cfg.item_patterns
    )


def document_id(cfg: LinkConfig, keys: AttributeMap, texts: dict[str, str] | None = None) -> str:
    texts = key_texts(keys) if texts is None else texts
    if cfg.id_template is not None:
        return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: texts[m.group(1)],
                      cfg.id_template)  # fmt: skip
    if cfg.range_key is None:
        return texts[cfg.hash_key]
    return f"{texts[cfg.hash_key]}|{texts[cfg.range_key]}"


def document(cfg: LinkConfig, image: AttributeMap) -> dict[str, Any]:
    """The document body for a new image."""
    item = {k: plain(v) for k, v in image.items()}
    dropped = set(cfg.drop)
    doc: dict[str, Any] = {}
    for attr, value in item.items():
        if attr not in dropped:
            doc[cfg.rename.get(attr, attr)] = value
    for name, spec in cfg.derive.items():
        value = _derive(spec.op, [item.get(a) for a in spec.source], spec.separator)
        if value is not None:
            doc[name] = value
    if cfg.keep_fields:
        doc = {k: v for k, v in doc.items() if k in cfg.keep_fields}
    if cfg.strict and cfg.mapped_fields:
        # Undeclared attributes would make a strict mapping reject the whole document;
        # the index holds only mapped fields (the table stays the truth).
        doc = {k: v for k, v in doc.items() if k in cfg.mapped_fields}
    return doc


def _derive(op: str, values: list[Any], separator: str) -> Any:
    if op == "concat":
        parts = [str(v) for v in values if v is not None]
        return separator.join(parts) if parts else None
    value = values[0]
    if value is None:
        return None
    if op == "copy":
        return value
    if op == "lowercase":
        return str(value).lower()
    if op == "uppercase":
        return str(value).upper()
    if op == "number":
        return _number(str(value))
    if op == "year":
        return int(str(value)[:4])
    raise ValueError(f"unknown derive op {op!r}")
