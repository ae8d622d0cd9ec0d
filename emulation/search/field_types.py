"""Field types beyond text, keyword, numbers, booleans and dates: how their values are
checked and what tantivy keeps of them.

* ``ip``: IPv4/IPv6 addresses, kept as their canonical text (a raw keyword column), so
  term queries and terms aggregations compare canonical forms.
* ``unsigned_long``: 0 … 2^64-1 in a tantivy ``u64`` column.
* ``date_nanos``: nanoseconds since the epoch in an ``i64`` column.
* ``binary`` and ``geo_point``: checked and kept in ``_source`` only; they "exist" for
  ``exists`` queries, and every query or aggregation on them answers 400.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

STORED_ONLY = frozenset({"binary", "geo_point"})
EXTRA_TYPES = frozenset({"ip", "unsigned_long", "date_nanos", "match_only_text", *STORED_ONLY})
UNSIGNED_MAX = 2**64 - 1
_FRACTION = re.compile(r"\.(\d+)")
_GEOHASH = re.compile(r"^[0-9b-hjkmnp-z]{1,12}$")


def coerce_extra(kind: str, value: Any) -> Any:
    """A JSON value converted for one of the types above (raises ``ValueError``)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if kind == "ip":
        if not isinstance(value, str):
            raise ValueError(value)
        return ipaddress.ip_address(value.strip()).compressed
    if kind == "unsigned_long":
        if isinstance(value, str):
            value = float(value) if "." in value or "e" in value.lower() else int(value)
        if not isinstance(value, int | float):
            raise ValueError(value)
        out = int(value)
        if not 0 <= out <= UNSIGNED_MAX:
            raise ValueError(value)
        return out
    if kind == "date_nanos":
        return parse_nanos(value)
    if kind == "binary":
        if not isinstance(value, str):
            raise ValueError(value)
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(value) from None
        return value
    if kind == "geo_point":
        check_geo_point(value)
        return value
    raise ValueError(kind)


def parse_nanos(value: Any) -> int:
    """Nanoseconds since the epoch; numbers are epoch millis, as for ``date_nanos``."""
    if isinstance(value, int | float):
        out = int(value * 1_000_000)
    else:
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            out = int(text) * 1_000_000
        else:
            digits = ""
            match = _FRACTION.search(text)
            if match:
                digits = match.group(1)
                text = text[: match.start()] + text[match.end() :]
            dt = datetime.fromisoformat(text.replace("/", "-"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            whole = int(dt.replace(microsecond=0).timestamp())
            out = whole * 1_000_000_000 + int((digits + "000000000")[:9] or 0)
    if out < 0:
        raise ValueError(value)  # date_nanos cannot hold dates before 1970
    return out


def format_nanos(nanos: int) -> str:
    seconds, rest = divmod(int(nanos), 1_000_000_000)
    dt = datetime.fromtimestamp(seconds, tz=UTC)
    fraction = f"{rest:09d}".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def check_geo_point(value: Any) -> None:
    """Accept the geo_point forms OpenSearch does: object, array, "lat,lon", geohash."""
    if isinstance(value, dict):
        lat, lon = value.get("lat"), value.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            raise ValueError(value)
        return
    if isinstance(value, list):
        if len(value) not in (2, 3) or not all(isinstance(v, int | float) for v in value):
            raise ValueError(value)
        return
    if isinstance(value, str):
        text = value.strip()
        if "," in text:
            lat, lon = (float(p) for p in text.split(",")[:2])
            return
        if _GEOHASH.match(text) or text.upper().startswith("POINT"):
            return
    raise ValueError(value)


def is_point_array(value: Any) -> bool:
    """``[lon, lat]``: one geo_point written as an array of numbers."""
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
