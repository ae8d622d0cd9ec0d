"""OpenSearch-shaped errors.

Every failure the engine reports is a :class:`SearchError` carrying the HTTP status and
the ``type``/``reason`` OpenSearch would give, so the HTTP layer renders one body shape:
``{"error": {"root_cause": [...], "type": ..., "reason": ...}, "status": N}``.
"""

from __future__ import annotations

from typing import Any


class SearchError(Exception):
    """An error with the status and body OpenSearch would answer with."""

    def __init__(self, status: int, error_type: str, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.error_type = error_type
        self.reason = reason
        self.extra = extra

    def cause(self) -> dict[str, Any]:
        """The inner error object (also what bulk items and mget docs embed)."""
        return {"type": self.error_type, "reason": self.reason, **self.extra}

    def body(self) -> dict[str, Any]:
        cause = self.cause()
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def bad_request(reason: str, error_type: str = "illegal_argument_exception") -> SearchError:
    return SearchError(400, error_type, reason)


def unsupported(what: str) -> SearchError:
    """The engine's answer to anything outside the supported subset: never guess."""
    return SearchError(
        400,
        "illegal_argument_exception",
        f"{what} is not supported by the polystore embedded search engine "
        "(see docs/search-compatibility.md)",
    )


def parsing(reason: str) -> SearchError:
    return SearchError(400, "parsing_exception", reason)


def index_not_found(index: str) -> SearchError:
    return SearchError(
        404,
        "index_not_found_exception",
        f"no such index [{index}]",
        index=index,
        **{"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_"},
    )


def version_conflict(index: str, doc_id: str, detail: str, uuid: str) -> SearchError:
    return SearchError(
        409,
        "version_conflict_engine_exception",
        f"[{doc_id}]: version conflict, {detail}",
        index=index,
        shard="0",
        index_uuid=uuid,
    )


def strict_dynamic(field: str, path: str) -> SearchError:
    return SearchError(
        400,
        "strict_dynamic_mapping_exception",
        f"mapping set to strict, dynamic introduction of [{field}] within [{path}] is not allowed",
    )


def mapper_parsing(reason: str) -> SearchError:
    return SearchError(400, "mapper_parsing_exception", reason)
