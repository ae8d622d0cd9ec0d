"""Date values and the simple date math range queries use (``now-7d``, ``2024-01-01||+1M``)."""

from __future__ import annotations

import re
import time
from typing import Any

from emulation.search.documents import parse_date
from emulation.search.errors import unsupported

_STEP = re.compile(r"([+-])(\d+)([yMwdhHms])")
_UNIT_MS = {
    "w": 604_800_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "H": 3_600_000,
    "m": 60_000,
    "s": 1000,
    "M": 30 * 86_400_000,
    "y": 365 * 86_400_000,
}


def parse_date_math(value: Any) -> int:
    """Epoch millis for a date or date-math expression; rounding (``/d``) is refused."""
    if not isinstance(value, str):
        return parse_date(value)
    text = value.strip()
    if text.startswith("now"):
        anchor, rest = int(time.time() * 1000), text[3:]
    elif "||" in text:
        head, rest = text.split("||", 1)
        anchor = parse_date(head)
    else:
        return parse_date(text)
    if "/" in rest:
        raise unsupported(f"date math rounding in [{text}]")
    pos = 0
    for step in _STEP.finditer(rest):
        if step.start() != pos:
            break
        sign = 1 if step.group(1) == "+" else -1
        anchor += sign * int(step.group(2)) * _UNIT_MS[step.group(3)]
        pos = step.end()
    if pos != len(rest):
        raise ValueError(text)
    return anchor
