"""The outcome of one document write, and the checks every write makes on its id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulation.search.errors import SearchError

SHARDS = {"total": 2, "successful": 1, "failed": 0}


@dataclass
class WriteResult:
    """The outcome of one write; ``body`` is OpenSearch's response to it."""

    status: int
    index: str
    doc_id: str
    version: int
    result: str  # created | updated | deleted | not_found | noop
    seq_no: int
    changed: bool = field(default=True)
    shards: dict[str, int] = field(default_factory=lambda: SHARDS)

    @property
    def body(self) -> dict[str, Any]:
        return {
            "_index": self.index,
            "_id": self.doc_id,
            "_version": self.version,
            "result": self.result,
            "_shards": self.shards,
            "_seq_no": self.seq_no,
            "_primary_term": 1,
        }


def check_id(doc_id: str) -> None:
    if len(doc_id.encode()) > 512:
        raise SearchError(
            400,
            "action_request_validation_exception",
            f"Validation Failed: 1: id [{doc_id[:20]}...] is too long, must be no"
            " longer than 512 bytes but was: " + str(len(doc_id.encode())) + ";",
        )
    if not doc_id:
        raise SearchError(
            400, "illegal_argument_exception", "if _id is specified it must not be empty"
        )
