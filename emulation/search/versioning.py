"""OpenSearch's optimistic-concurrency rules, as pure functions over the stored row.

The stream-sync handler writes with ``version_type=external`` so a late, stale event
is refused with 409 instead of overwriting newer data; tombstones keep their version
so a stale write after a delete is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulation.search.errors import SearchError, bad_request
from emulation.search.source_store import Row

VERSION_TYPES = frozenset({"internal", "external", "external_gt", "external_gte"})


@dataclass(frozen=True)
class WriteOptions:
    version: int | None = None
    version_type: str = "internal"
    if_seq_no: int | None = None
    if_primary_term: int | None = None
    op_type: str = "index"  # index | create

    def validate(self) -> None:
        if self.version_type not in VERSION_TYPES:
            raise bad_request(f"No version type match [{self.version_type}]")
        if self.version_type == "internal" and self.version is not None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: internal versioning can not be used for optimistic "
                "concurrency control. Please use `if_seq_no` and `if_primary_term` instead;",
            )
        if self.version_type != "internal" and self.version is None:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: an external version is required;",
            )
        if (self.if_seq_no is None) != (self.if_primary_term is None):
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: ifSeqNo is set, but primary term is [0];",
            )


def next_version(row: Row | None, opts: WriteOptions, is_delete: bool = False) -> tuple[int, str]:
    """The version the write gets, or a conflict message (``"" `` when it may proceed).

    Returns ``(version, conflict_detail)``; a non-empty detail means answer 409.
    """
    live = row is not None and not row.deleted
    if opts.if_seq_no is not None:
        if not live:
            return 0, (
                f"required seqNo [{opts.if_seq_no}], primary term "
                f"[{opts.if_primary_term}] but no document was found"
            )
        assert row is not None
        if row.seq_no != opts.if_seq_no or opts.if_primary_term != 1:
            return 0, (
                f"required seqNo [{opts.if_seq_no}], primary term "
                f"[{opts.if_primary_term}]. current document has seqNo [{row.seq_no}]"
                " and primary term [1]"
            )
    if opts.op_type == "create" and live and not is_delete:
        assert row is not None
        return 0, f"document already exists (current version [{row.version}])"
    if opts.version_type == "internal":
        return (row.version + 1 if row is not None else 1), ""
    assert opts.version is not None
    if row is not None:
        if opts.version_type == "external_gte":
            if opts.version < row.version:
                return 0, (
                    f"current version [{row.version}] is higher than the one provided "
                    f"[{opts.version}]"
                )
        elif opts.version <= row.version:
            return 0, (
                f"current version [{row.version}] is higher or equal to the one "
                f"provided [{opts.version}]"
            )
    return opts.version, ""
