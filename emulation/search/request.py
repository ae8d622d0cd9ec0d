"""The parsed HTTP request every handler receives, and response helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emulation.search.errors import SearchError
from emulation.search.versioning import WriteOptions

JsonBody = dict[str, Any]


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: bytes
    _json: Any = field(default=None, repr=False)

    def json(self, required: bool = False, error_type: str = "json_parse_exception") -> Any:
        """The body parsed as a JSON object ({} when empty, unless ``required``)."""
        if self._json is not None:
            return self._json
        if not self.body.strip():
            if required:
                raise SearchError(400, "parse_exception", "request body is required")
            self._json = {}
            return self._json
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SearchError(400, error_type, f"failed to parse request body: {exc}") from None
        if not isinstance(value, dict):
            raise SearchError(
                400,
                "parse_exception",
                "request body must be a JSON object, found " + type(value).__name__,
            )
        self._json = value
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return value.lower() in ("", "true")

    def refresh_requested(self) -> bool:
        value = self.params.get("refresh")
        if value is None:
            return False
        if value not in ("", "true", "false", "wait_for"):
            raise SearchError(
                400, "illegal_argument_exception", f"Unknown value for refresh: [{value}]."
            )
        return value != "false"

    def forced_refresh(self) -> bool:
        """``refresh=true``: OpenSearch refreshes and says so; ``wait_for`` waits for a
        refresh (here: makes one) and does not report it as forced."""
        return self.refresh_requested() and self.params.get("refresh") != "wait_for"

    def write_options(self, op_type: str = "index") -> WriteOptions:
        return write_options(self.params, op_type)


def _int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchError(
            400, "illegal_argument_exception", f"failed to parse [{name}] value [{value}]"
        ) from None


def write_options(params: dict[str, Any], op_type: str = "index") -> WriteOptions:
    op = str(params.get("op_type", op_type))
    if op not in ("index", "create"):
        raise SearchError(
            400, "illegal_argument_exception", f"opType must be 'create' or 'index', found: [{op}]"
        )
    return WriteOptions(
        version=_int(params.get("version"), "version"),
        version_type=str(params.get("version_type", "internal")),
        if_seq_no=_int(params.get("if_seq_no"), "if_seq_no"),
        if_primary_term=_int(params.get("if_primary_term"), "if_primary_term"),
        op_type=op,
    )
