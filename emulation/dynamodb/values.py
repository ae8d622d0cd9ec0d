"""Attribute values: validation, number normalisation, item sizes and sortable key bytes.

Values travel in DynamoDB's JSON form (``{"S": "x"}``, ``{"N": "1"}``, ``{"M": {...}}``)
from request to SQLite and back: nothing is converted to Python types except numbers
for arithmetic and comparison, which go through :class:`decimal.Decimal` with DynamoDB's
38 significant digits and its exponent range.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
from typing import Any

from emulation.dynamodb.errors import DynamoError, value_error

Value = dict[str, Any]
Item = dict[str, Value]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SCALAR_KEY_TYPES = ("S", "N", "B")
MAX_ITEM_BYTES = 400 * 1024
MAX_DEPTH = 32
# one encoder for every compact JSON text (json.dumps builds a new one per call when given
# separators, which cost as much as encoding a small item)
compact_json = json.JSONEncoder(separators=(",", ":")).encode

# DynamoDB's numbers: 38 significant digits, magnitude 1E-130 .. 9.99..E+125
NUMBER_CONTEXT = decimal.Context(
    prec=38, Emax=125, Emin=-130, traps=[decimal.InvalidOperation, decimal.Overflow]
)
_WIDE = decimal.Context(prec=200, Emax=999999, Emin=-999999)
_SET_ELEMENT = {"SS": "S", "NS": "N", "BS": "B"}
_SET_NAME = {"SS": "string set", "NS": "number set", "BS": "binary set"}


def parse_number(text: Any) -> decimal.Decimal:
    """The number DynamoDB would store for ``text``, or DynamoDB's ValidationException."""
    if not isinstance(text, str):
        raise DynamoError("SerializationException", "NUMBER_VALUE cannot be converted to String")
    try:
        value = _WIDE.create_decimal(text.strip() if text.strip() == text else "x")
    except decimal.InvalidOperation:
        raise value_error(f"The parameter cannot be converted to a numeric value: {text}") from None
    if not value.is_finite():
        raise value_error(f"The parameter cannot be converted to a numeric value: {text}")
    if value.is_zero():
        return decimal.Decimal(0)
    value = value.normalize(_WIDE)
    digits = len(value.as_tuple().digits)
    if digits > 38:
        raise value_error("Attempting to store more than 38 significant digits in a Number")
    exponent = value.adjusted()
    if exponent > 125:
        raise value_error(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if exponent < -130:
        raise value_error(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return value


def format_number(value: decimal.Decimal) -> str:
    """DynamoDB's canonical text for a number: no exponent, no trailing zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(_WIDE), "f")
    return text


def normalise_number(text: Any) -> str:
    if type(text) is str and _is_canonical_integer(text):
        return text  # most numbers are plain integers, already in canonical form
    return format_number(parse_number(text))


def _is_canonical_integer(text: str) -> bool:
    """``-?[1-9][0-9]{0,37}``: what parse + format would hand back unchanged."""
    digits = text[1:] if text[:1] == "-" else text
    return 0 < len(digits) <= 38 and digits.isascii() and digits.isdigit() and digits[0] != "0"


def check_arithmetic(value: decimal.Decimal) -> decimal.Decimal:
    """A computed number (ADD, SET a = b + c) must still be storable."""
    return parse_number(format_number(value))


def check_value(av: Any, depth: int = 1, size: list[int] | None = None) -> Value:
    """Validate one AttributeValue; return it with numbers normalised. With ``size``, add
    its DynamoDB size to ``size[0]`` on the way (one pass instead of two for items)."""
    if not isinstance(av, dict) or not av:
        raise value_error(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(av) > 1:
        raise value_error(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    if depth > MAX_DEPTH:
        raise DynamoError(
            "ValidationException",
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
            "levels beyond supported limit",
        )
    ((kind, raw),) = av.items()
    if kind == "S":
        if not isinstance(raw, str):
            raise DynamoError(
                "SerializationException", "STRING_VALUE can not be converted to String"
            )
        if size is not None:
            size[0] += _text_size(raw)
        return av
    if kind == "N":
        text = normalise_number(raw)
        if size is not None:
            size[0] += number_size(text)
        return {"N": text}
    if kind == "B":
        check_binary(raw)
        if size is not None:
            size[0] += _binary_size(raw)
        return av
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise DynamoError("SerializationException", "BOOLEAN_VALUE can not be converted")
        if size is not None:
            size[0] += 1
        return av
    if kind == "NULL":
        if raw is not True:
            raise value_error(
                "One or more parameter values were invalid: Null attribute value types must have "
                "the value of true"
            )
        if size is not None:
            size[0] += 1
        return av
    if kind in _SET_ELEMENT:
        if not isinstance(raw, list):
            raise DynamoError("SerializationException", f"Unexpected value type for {kind}")
        if not raw:
            if kind == "BS":
                raise value_error(INVALID + "Binary sets should not be empty")
            raise value_error(INVALID + f"An {_SET_NAME[kind]}  may not be empty")
        if kind == "NS":
            out = [normalise_number(x) for x in raw]
        else:
            for x in raw:
                if kind == "SS" and not isinstance(x, str):
                    raise DynamoError("SerializationException", "Unexpected value in string set")
                if kind == "BS":
                    check_binary(x)
            out = list(raw)
        if len(set(out)) != len(out):
            raise value_error(INVALID + _duplicates(kind, out))
        if size is not None:
            size[0] += value_size({kind: out})
        return {kind: out}
    if kind == "M":
        if not isinstance(raw, dict):
            raise DynamoError("SerializationException", "Unexpected value type for M")
        if size is not None:  # 3 bytes per map, 1 per element plus its name
            size[0] += 3 + sum(1 + _text_size(k) for k in raw)
        return {"M": {k: check_value(v, depth + 1, size) for k, v in raw.items()}}
    if kind == "L":
        if not isinstance(raw, list):
            raise DynamoError("SerializationException", "Unexpected value type for L")
        if size is not None:
            size[0] += 3 + len(raw)
        return {"L": [check_value(v, depth + 1, size) for v in raw]}
    raise DynamoError(
        "SerializationException", f"Supplied AttributeValue has an unknown datatype: {kind}"
    )


INVALID = "One or more parameter values were invalid: "


def _duplicates(kind: str, members: list[str]) -> str:
    """DynamoDB's text: the members in byte order up to the first repeat, the repeat,
    then the rest as sent; number sets are not listed."""
    if kind == "NS":
        return "Input collection contains duplicates."
    seen: set[str] = set()
    first = len(members)
    for i, m in enumerate(members):
        if m in seen:
            first = i
            break
        seen.add(m)
    order = (lambda m: base64.b64decode(m)) if kind == "BS" else (lambda m: m.encode())
    shown = sorted(members[:first], key=order) + members[first:]
    if kind == "BS":
        return (
            "Input collection ["
            + ",".join(f'"{m}"' for m in shown)
            + "]of type BS contains duplicates."
        )
    return "Input collection [" + ", ".join(f'"{m}"' for m in shown) + "] contains duplicates."


def check_binary(raw: Any) -> bytes:
    if not isinstance(raw, str):
        raise DynamoError("SerializationException", "Binary value must be a base64 string")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise DynamoError(
            "SerializationException", "Base64 encoded length is expected a multiple of 4 bytes"
        ) from None


def check_item(item: Any, where: str = "Item") -> Item:
    return check_item_sized(item, where)[0]


def check_item_sized(item: Any, where: str = "Item") -> tuple[Item, int]:
    """A validated item (numbers normalised) and its DynamoDB size, in one pass."""
    if not isinstance(item, dict):
        raise DynamoError("SerializationException", f"{where} must be a map")
    size = [0]  # what check_value adds to for nested and non-string values
    total = 0
    out: Item = {}
    for name, av in item.items():
        if type(name) is not str or not name:
            raise value_error(
                "One or more parameter values were invalid: An AttributeValue may not contain an "
                "empty string"
            )
        name_size = len(name) if name.isascii() else len(name.encode())
        if name_size > 65535:
            raise value_error("Attribute name is too large, must be less than 65536 bytes")
        total += name_size
        if type(av) is dict and len(av) == 1:
            text = av.get("S")
            if type(text) is str:  # the common case, checked as check_value checks it
                total += len(text) if text.isascii() else len(text.encode())
                out[name] = av
                continue
        out[name] = check_value(av, 1, size)
    return out, total + size[0]


def _text_size(raw: str) -> int:
    return len(raw) if raw.isascii() else len(raw.encode())


def _binary_size(raw: str) -> int:
    return len(raw) * 3 // 4 - raw.count("=", -2)


def value_size(av: Value) -> int:
    """DynamoDB's documented item size accounting (Developer Guide, "Item sizes")."""
    for kind, raw in av.items():
        if kind == "S":
            return _text_size(raw)
        if kind == "N":
            return number_size(raw)
        if kind == "M":
            return 3 + sum(1 + _text_size(k) + value_size(v) for k, v in raw.items())
        if kind == "L":
            return 3 + sum(1 + value_size(v) for v in raw)
        if kind == "B":
            return _binary_size(raw)
        if kind == "SS":
            return sum(_text_size(x) for x in raw)
        if kind == "NS":
            return sum(number_size(x) for x in raw)
        if kind == "BS":
            return sum(_binary_size(x) for x in raw)
        return 1
    return 0


def number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: Item) -> int:
    return sum(_text_size(k) + value_size(v) for k, v in item.items())


def type_of(av: Value) -> str:
    return next(iter(av))


# --- sortable key bytes -------------------------------------------------------------------
# Key values are stored as BLOBs whose memcmp order is DynamoDB's order for that type:
# strings by UTF-8 bytes, binaries by bytes, numbers by value.


def key_bytes(av: Value) -> bytes:
    kind, raw = next(iter(av.items()))
    if kind == "S":
        return bytes(raw.encode())
    if kind == "B":
        return base64.b64decode(raw)
    return number_bytes(decimal.Decimal(raw))


def number_bytes(value: decimal.Decimal) -> bytes:
    if value.is_zero():
        return b"\x02"
    sign, digits, _ = value.as_tuple()
    exponent = value.adjusted() + 1000  # 0.d1d2.. x 10^(adjusted+1), offset positive
    text = bytes(48 + d for d in digits).rstrip(b"0")
    if not sign:
        return b"\x03" + exponent.to_bytes(2, "big") + text
    return b"\x01" + (0xFFFF - exponent).to_bytes(2, "big") + bytes(255 - c for c in text) + b"\xff"


def compare(a: Value, b: Value) -> int | None:
    """Order of two values of the same scalar type; None when they cannot be ordered."""
    ka, kb = type_of(a), type_of(b)
    if ka != kb or ka not in SCALAR_KEY_TYPES:
        return None
    if ka == "N":
        m, n = decimal.Decimal(a["N"]), decimal.Decimal(b["N"])
        return (m > n) - (m < n)
    x, y = key_bytes(a), key_bytes(b)  # strings by UTF-8 bytes, binaries by bytes
    return (x > y) - (x < y)


def equal(a: Value, b: Value) -> bool:
    ka, kb = type_of(a), type_of(b)
    if ka != kb:
        return False
    if ka == "N":
        return decimal.Decimal(a["N"]) == decimal.Decimal(b["N"])
    if ka in ("SS", "BS"):
        return set(a[ka]) == set(b[kb])
    if ka == "NS":
        return {decimal.Decimal(x) for x in a[ka]} == {decimal.Decimal(x) for x in b[kb]}
    if ka == "L":
        return len(a["L"]) == len(b["L"]) and all(
            equal(x, y) for x, y in zip(a["L"], b["L"], strict=True)
        )
    if ka == "M":
        return a["M"].keys() == b["M"].keys() and all(
            equal(v, b["M"][k]) for k, v in a["M"].items()
        )
    return bool(a[ka] == b[kb])
