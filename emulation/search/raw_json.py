"""Encoding a response that embeds pre-encoded JSON, such as stored ``_source`` bytes.

A search hit's ``_source`` is the JSON the client sent, stored as bytes. Parsing it only
to encode it again was a large share of a search's Python time, so the hits array is
encoded directly from the stored bytes (which is also what OpenSearch does: it returns
sources verbatim) and spliced into the encoded response in place of a placeholder.
"""

from __future__ import annotations

import json
import os
from typing import Any

# Unguessable per process, so no value a client stored can look like a placeholder.
_TOKEN = os.urandom(8).hex()


def embeddable(raw: bytes) -> bool:
    """Stored UTF-8 JSON objects are spliced in; anything else is re-encoded."""
    return raw[:1] == b"{" and b"\x00" not in raw  # UTF-16/32 bodies hold NUL bytes


def source_json(raw: bytes) -> bytes:
    """A stored source as JSON to embed in a response."""
    if embeddable(raw):
        return raw
    return json.dumps(json.loads(raw), separators=(",", ":")).encode()


class RawFragments:
    def __init__(self) -> None:
        self._raws: list[bytes] = []

    def add(self, fragment: bytes) -> str:
        """A placeholder to put in the response dict where ``fragment`` goes."""
        self._raws.append(fragment)
        return f"\x00{_TOKEN}{len(self._raws) - 1}\x00"

    def encode(self, response: Any) -> bytes:
        out = json.dumps(response, separators=(",", ":")).encode()
        for i, raw in enumerate(self._raws):
            out = out.replace(b'"\\u0000%s%d\\u0000"' % (_TOKEN.encode(), i), raw, 1)
        return out
