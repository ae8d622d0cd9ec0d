"""Encoding a response that embeds stored ``_source`` bytes verbatim.

A search hit's ``_source`` is the JSON the client sent, stored as bytes. Parsing it only
to encode it again was a large share of a search's Python time, so hits carry a
placeholder string instead and :meth:`RawFragments.encode` splices the stored bytes in
after encoding — which is also what OpenSearch does (it returns sources verbatim).
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


class RawFragments:
    def __init__(self) -> None:
        self._raws: list[bytes] = []

    def source(self, raw: bytes) -> Any:
        """What to put in the response dict for the stored source ``raw``."""
        if not embeddable(raw):
            return json.loads(raw)
        self._raws.append(raw)
        return f"\x00{_TOKEN}{len(self._raws) - 1}\x00"

    def encode(self, response: Any) -> bytes:
        out = json.dumps(response, separators=(",", ":")).encode()
        for i, raw in enumerate(self._raws):
            out = out.replace(b'"\\u0000%s%d\\u0000"' % (_TOKEN.encode(), i), raw, 1)
        return out
