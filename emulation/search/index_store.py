"""One index: its settings and mapping, its SQLite source store and its tantivy index.

Writes go to SQLite first (the acknowledged record) and to the tantivy writer second;
``refresh`` commits tantivy and makes everything written so far searchable. A mapping
change (a new dynamic field, ``PUT _mapping``) rebuilds tantivy from SQLite into a new
generation directory, because a tantivy schema cannot grow.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tantivy

from emulation.search.analysis import AnalysisRegistry
from emulation.search.documents import build_schema, to_document
from emulation.search.errors import SearchError, version_conflict
from emulation.search.mapping import Mapping
from emulation.search.settings import IndexSettings
from emulation.search.source_store import Row, SourceStore
from emulation.search.versioning import WriteOptions, next_version

SHARDS = {"total": 2, "successful": 1, "failed": 0}
_WRITER_HEAP = 64_000_000


@dataclass
class WriteResult:
    status: int
    body: dict[str, Any]
    changed: bool = field(default=True)


class IndexStore:
    def __init__(self, directory: Path, meta: dict[str, Any]) -> None:
        self.dir = directory
        self.meta = meta
        self.name: str = meta["name"]
        self.uuid: str = meta["uuid"]
        self.settings = IndexSettings(meta["settings"])
        self.registry = AnalysisRegistry(self.settings.analysis)
        self.mapping = Mapping(meta["mappings"], self.registry)
        self.sources = SourceStore(directory / "docs.sqlite")
        self._open_tantivy()
        self._next_seq = self.sources.max_seq_no() + 1
        self.dirty = False
        self._recover()

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, name: str, body: dict[str, Any]) -> IndexStore:
        settings = IndexSettings.from_request(body.get("settings") or {})
        registry = AnalysisRegistry(settings.analysis)
        mapping = Mapping(body.get("mappings") or {}, registry)  # validates before any I/O
        build_schema(mapping)
        meta = {
            "name": name,
            "uuid": uuid.uuid4().hex[:22],
            "created": int(time.time() * 1000),
            "settings": settings.raw,
            "mappings": mapping.body,
            "generation": 0,
        }
        directory.mkdir(parents=True)
        (directory / "meta.json").write_text(json.dumps(meta))
        return cls(directory, meta)

    @classmethod
    def open(cls, directory: Path) -> IndexStore:
        return cls(directory, json.loads((directory / "meta.json").read_text()))

    def _tantivy_dir(self, generation: int) -> Path:
        return self.dir / f"tantivy-{generation}"

    def _open_tantivy(self) -> None:
        generation = int(self.meta["generation"])
        path = self._tantivy_dir(generation)
        path.mkdir(exist_ok=True)
        for stale in self.dir.glob("tantivy-*"):  # left by a rebuild cut short
            if stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        self.schema = build_schema(self.mapping)
        self.index = tantivy.Index(self.schema, str(path))
        self.writer = self.index.writer(_WRITER_HEAP, 1)
        self.index.config_reader("Manual")

    def _recover(self) -> None:
        """Replay rows newer than tantivy's last commit (a crash between the two)."""
        indexed = self.sources.meta("indexed_seq", -1)
        replayed = False
        for row in self.sources.rows_after(indexed):
            self.writer.delete_documents_by_term("_id", row.doc_id)
            if not row.deleted and row.source is not None:
                self._add(row)
            replayed = True
        if replayed:
            self.refresh()

    def _save_meta(self) -> None:
        tmp = self.dir / "meta.json.tmp"
        tmp.write_text(json.dumps(self.meta))
        tmp.replace(self.dir / "meta.json")

    def close(self) -> None:
        self.refresh()
        self.writer.wait_merging_threads()
        self.sources.close()

    def drop(self) -> None:
        self.writer.rollback()
        self.sources.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- refresh ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.sources.commit()
        self.writer.commit()
        self.sources.set_meta("indexed_seq", self._next_seq - 1)
        self.index.reload()
        self.dirty = False

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    # -- mapping changes -----------------------------------------------------------------
    def put_mapping(self, body: dict[str, Any]) -> None:
        if "dynamic" in body:
            merged = self.mapping.merged(body.get("properties", {}) or {})
            merged["dynamic"] = body["dynamic"]
        else:
            merged = self.mapping.merged(body.get("properties", {}) or {})
        self._remap(Mapping(merged, self.registry))

    def _remap(self, mapping: Mapping) -> None:
        """Swap in a grown mapping and rebuild tantivy from the source store."""
        self.sources.commit()
        self.writer.rollback()
        self.writer.wait_merging_threads()
        self.mapping = mapping
        self.meta["mappings"] = mapping.body
        self.meta["generation"] = int(self.meta["generation"]) + 1
        path = self._tantivy_dir(self.meta["generation"])
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        self.schema = build_schema(mapping)
        self.index = tantivy.Index(self.schema, str(path))
        self.writer = self.index.writer(_WRITER_HEAP, 1)
        self.index.config_reader("Manual")
        for row in self.sources.live_rows():
            self._add(row)
        self.writer.commit()
        self._save_meta()  # the new generation is live only once meta.json says so
        for stale in self.dir.glob("tantivy-*"):
            if stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        self.sources.set_meta("indexed_seq", self._next_seq - 1)
        self.index.reload()
        self.dirty = False

    def _add(self, row: Row) -> None:
        assert row.source is not None
        source = json.loads(row.source)
        self.writer.add_document(
            to_document(self.mapping, row.doc_id, row.seq_no, row.source, source)
        )

    # -- writes ------------------------------------------------------------------------------
    def _shard_info(self, doc_id: str, version: int, result: str, seq_no: int) -> dict[str, Any]:
        return {
            "_index": self.name,
            "_id": doc_id,
            "_version": version,
            "result": result,
            "_shards": SHARDS,
            "_seq_no": seq_no,
            "_primary_term": 1,
        }

    def index_doc(
        self, doc_id: str, raw: bytes, source: dict[str, Any], opts: WriteOptions
    ) -> WriteResult:
        """Index one document; the caller commits the source store (per request)."""
        opts.validate()
        _check_id(doc_id)
        row = self.sources.get(doc_id)
        version, conflict = next_version(row, opts)
        if conflict:
            raise version_conflict(self.name, doc_id, conflict, self.uuid)
        added = self.mapping.new_properties(source)
        new_mapping = Mapping(self.mapping.merged(added), self.registry) if added else None
        mapping = new_mapping or self.mapping
        seq_no = self._next_seq
        doc = to_document(mapping, doc_id, seq_no, raw, source)  # validates field values
        self.sources.begin()
        self.sources.put(doc_id, version, seq_no, raw)
        self._next_seq += 1
        live = row is not None and not row.deleted
        if new_mapping is not None:
            self._remap(new_mapping)
        else:
            if live:
                self.writer.delete_documents_by_term("_id", doc_id)
            self.writer.add_document(doc)
            self.dirty = True
        result = "updated" if live else "created"
        return WriteResult(200 if live else 201, self._shard_info(doc_id, version, result, seq_no))

    def delete_doc(self, doc_id: str, opts: WriteOptions) -> WriteResult:
        opts.validate()
        row = self.sources.get(doc_id)
        version, conflict = next_version(row, opts, is_delete=True)
        if conflict:
            raise version_conflict(self.name, doc_id, conflict, self.uuid)
        live = row is not None and not row.deleted
        seq_no = self._next_seq
        self.sources.begin()
        self.sources.tombstone(doc_id, version, seq_no)
        self._next_seq += 1
        if live:
            self.writer.delete_documents_by_term("_id", doc_id)
            self.dirty = True
        body = self._shard_info(doc_id, version, "deleted" if live else "not_found", seq_no)
        return WriteResult(200 if live else 404, body)

    def update_doc(self, doc_id: str, body: dict[str, Any], opts: WriteOptions) -> WriteResult:
        from emulation.search.updates import apply_update

        row = self.sources.get(doc_id)
        current = None if row is None or row.deleted or row.source is None else row.source
        plan = apply_update(self.name, doc_id, body, current, self.uuid)
        if plan.noop:
            assert row is not None
            return WriteResult(
                200, self._shard_info(doc_id, row.version, "noop", row.seq_no), changed=False
            )
        if opts.if_seq_no is not None and row is not None and row.deleted:
            row = None
        return self.index_doc(doc_id, plan.raw, plan.source, opts)

    # -- reads -----------------------------------------------------------------------------
    def get_row(self, doc_id: str) -> Row | None:
        row = self.sources.get(doc_id)
        return None if row is None or row.deleted else row

    def count_live(self) -> int:
        return self.sources.count_live()


def _check_id(doc_id: str) -> None:
    if len(doc_id.encode()) > 512:
        raise SearchError(
            400,
            "action_request_validation_exception",
            f"Validation Failed: 1: id [{doc_id[:20]}...] is too long, must be no"
            " longer than 512 bytes but was: " + str(len(doc_id.encode())) + ";",
        )
    if not doc_id:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: if _id is specified it must not be empty;",
        )
