"""Opaque pagination cursors: where the next page starts, as base64url JSON.

The client treats it as an opaque string; a cursor that does not decode, or that
belongs to another access pattern, is a 422 naming ``cursor`` (not a 500).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from services.errors import BadParameter


def encode(pattern: str, position: Any) -> str:
    raw = json.dumps({"p": pattern, "at": position}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(pattern: str, token: str | None) -> Any:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadParameter("cursor is not one this service handed out", "cursor") from None
    if not isinstance(doc, dict) or doc.get("p") != pattern or "at" not in doc:
        raise BadParameter("cursor belongs to another query", "cursor")
    return doc["at"]
