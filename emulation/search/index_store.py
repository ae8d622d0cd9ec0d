"""One index: its settings and mapping, its SQLite source store and its tantivy index.

Writes go to SQLite first (the acknowledged record) and to the tantivy writer second;
``refresh`` commits tantivy and makes everything written so far searchable. A mapping
change (a new dynamic field, ``PUT _mapping``) rebuilds tantivy from SQLite into a new
generation directory, because a tantivy schema cannot grow.

tantivy is a view of SQLite, kept where ``view_dir.choose_root`` says (tmpfs when usable):
a stamp beside it (``view.json``: generation, last sequence number committed) tells on
open how far the view got, and ``_catch_up`` replays SQLite from there, or rebuilds the
view from every live row when it is missing or not this index's.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import tantivy

from emulation.search.analysis import AnalysisRegistry
from emulation.search.doc_builder import DocBuilder
from emulation.search.documents import build_schema, register_analyzers, to_document
from emulation.search.errors import version_conflict
from emulation.search.mapping import Mapping
from emulation.search.routing import default_routing_shards, shard_of
from emulation.search.settings import IndexSettings
from emulation.search.source_store import Row, SourceStore
from emulation.search.versioning import WriteOptions, next_version
from emulation.search.view_dir import read_stamp, write_stamp
from emulation.search.write_result import WriteResult, check_id

__all__ = ["IndexStore", "WriteResult"]

_WRITER_HEAP = 64_000_000


class IndexStore:
    def __init__(
        self, directory: Path, meta: dict[str, Any], view_root: Path | None = None
    ) -> None:
        self.dir = directory
        self.meta = meta
        self.name: str = meta["name"]
        self.uuid: str = meta["uuid"]
        # The searchable view's directory: inside the data dir, or under a tmpfs root.
        self.view_dir = directory if view_root is None else view_root / self.uuid
        self.view_dir.mkdir(parents=True, exist_ok=True)
        self.rebuilt = 0  # rows the last open rebuilt or replayed into the view
        self.settings = IndexSettings(meta["settings"])
        self.registry = AnalysisRegistry(self.settings.analysis)
        self.mapping = Mapping(meta["mappings"], self.registry)
        self._builder = DocBuilder(self.mapping)
        self.sources = SourceStore(directory / "docs.sqlite")
        self._next_seq = self.sources.max_seq_no() + 1
        # When each recent delete happened (monotonic): OpenSearch keeps a tombstone's
        # version for ``index.gc_deletes`` only (its live version map, in memory). Tombstones
        # read from disk count from when the index was opened.
        self._opened = time.monotonic()
        self._deleted_at: dict[str, float] = {}
        self._pruned_at = self._opened
        self.dirty = False
        replicas = int(self.settings.raw.get("index", {}).get("number_of_replicas", 1))
        shards = int(self.settings.raw.get("index", {}).get("number_of_shards", 1))
        # A write reaches the primary; replicas a one-node cluster cannot place are counted.
        self.write_shards = {"total": 1 + replicas, "successful": 1, "failed": 0}
        self.shard_count = (shards, shards * (1 + replicas))
        routing_shards = self.settings.raw.get("index", {}).get("number_of_routing_shards")
        self.routing_shards = int(routing_shards or default_routing_shards(shards))
        self._open_tantivy()
        self._catch_up()

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def create(
        cls, directory: Path, name: str, body: dict[str, Any], view_root: Path | None = None
    ) -> IndexStore:
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
        return cls(directory, meta, view_root)

    @classmethod
    def open(cls, directory: Path, view_root: Path | None = None) -> IndexStore:
        return cls(directory, json.loads((directory / "meta.json").read_text()), view_root)

    def _tantivy_dir(self, generation: int) -> Path:
        return self.view_dir / f"tantivy-{generation}"

    def _open_tantivy(self) -> None:
        generation = int(self.meta["generation"])
        path = self._tantivy_dir(generation)
        path.mkdir(exist_ok=True)
        # Left by a rebuild cut short, or a view kept in the data dir by an earlier run.
        for stale in [*self.view_dir.glob("tantivy-*"), *self.dir.glob("tantivy-*")]:
            if stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        # An empty directory: the view was removed (or never written), whatever the stamp.
        self._fresh_view = not tantivy.Index.exists(str(path))
        try:
            self._use_tantivy(path, self.mapping)
        except ValueError as err:
            if "schema does not match" not in str(err):
                raise
            # Written by an engine version that built a different tantivy schema for the
            # same mapping: SQLite is the record, so rebuild the searchable view from it.
            self._remap(self.mapping)

    def _use_tantivy(self, path: Path, mapping: Mapping) -> None:
        schema = build_schema(mapping)
        index = tantivy.Index(schema, str(path))
        register_analyzers(index, mapping)
        self.schema, self.index = schema, index
        self.writer = index.writer(_WRITER_HEAP, 1)
        index.config_reader("Manual")

    def _view_seq(self) -> int | None:
        """The last sequence number the view holds, None if unknown (no stamp, a stamp of
        another generation, an emptied view, or a view newer than SQLite: not ours)."""
        seq = read_stamp(self.view_dir, self.uuid, int(self.meta["generation"]))
        if self._fresh_view or seq is None or seq >= self._next_seq:
            return None
        return seq

    def _stamp(self, seq: int) -> None:
        write_stamp(self.view_dir, self.uuid, int(self.meta["generation"]), seq)

    def _catch_up(self) -> None:
        """Bring the view up to SQLite: replay rows newer than the view's last commit (a
        crash between the two), or rebuild it from every live row when it is unknown."""
        view_seq = self._view_seq()
        self.rebuilt = 0
        if view_seq is None:
            self.writer.delete_all_documents()
            for row in self.sources.live_rows():
                self._add(row)
                self.rebuilt += 1
            self.refresh()
            return
        indexed = min(view_seq, self.sources.meta("indexed_seq", -1))
        for row in self.sources.rows_after(indexed):
            self.writer.delete_documents_by_term("_id", row.doc_id)
            if not row.deleted and row.source is not None:
                self._add(row)
            self.rebuilt += 1
        if self.rebuilt:
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
        shutil.rmtree(self.view_dir, ignore_errors=True)

    # -- refresh ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.sources.commit()
        self.writer.commit()
        self._stamp(self._next_seq - 1)
        self.sources.set_meta("indexed_seq", self._next_seq - 1)
        self.index.reload()
        self.dirty = False

    def update_settings(self, raw: dict[str, Any]) -> None:
        """Apply changed dynamic settings (validated by ``settings.updated``) and persist
        them; ``refresh_interval`` takes effect at the engine's next refresh tick."""
        self.settings = IndexSettings(raw)
        self.meta["settings"] = raw
        self._save_meta()
        replicas = int(raw.get("index", {}).get("number_of_replicas", 1))
        self.write_shards = {"total": 1 + replicas, "successful": 1, "failed": 0}
        self.shard_count = (self.shards, self.shards * (1 + replicas))

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
        if hasattr(self, "writer"):  # absent when the on-disk schema was unusable
            self.writer.rollback()
            self.writer.wait_merging_threads()
        self.mapping = mapping
        self._builder = DocBuilder(mapping)
        self.meta["mappings"] = mapping.body
        self.meta["generation"] = int(self.meta["generation"]) + 1
        path = self._tantivy_dir(self.meta["generation"])
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        self._use_tantivy(path, mapping)
        # What was searchable stays searchable and nothing more: rows up to the last
        # refresh are committed, later ones wait for the next refresh as they did.
        refreshed = self.sources.meta("indexed_seq", -1)
        late = []
        for row in self.sources.live_rows():
            if row.seq_no <= refreshed:
                self._add(row)
            else:
                late.append(row)
        self.writer.commit()
        self._save_meta()  # the new generation is live only once meta.json says so
        self._stamp(refreshed)
        for stale in self.dir.glob("tantivy-*"):
            if stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        self.index.reload()
        for row in late:
            self._add(row)
        self.dirty = bool(late)
        self._fresh_view = False

    def _add(self, row: Row) -> None:
        assert row.source is not None
        source = json.loads(row.source)
        doc = self._document(row.doc_id, row.seq_no, row.source, source)
        if self.sources.has_routing and self.sources.routing(row.doc_id) is not None:
            doc.add_text("_field_names", "_routing")
        self.writer.add_document(doc)

    def _document(
        self, doc_id: str, seq_no: int, raw: bytes, source: dict[str, Any]
    ) -> tantivy.Document:
        """The tantivy document (validating field values), by the fast path if it can."""
        doc = self._builder.build(doc_id, seq_no, raw, source)
        if doc is None:
            doc = to_document(self.mapping, doc_id, seq_no, raw, source)
        return doc

    # -- writes ------------------------------------------------------------------------------
    def prefetch(self, doc_ids: list[str]) -> None:
        """Load the rows a batch of writes will look at with one query (``_bulk``)."""
        self.sources.prefetch(doc_ids)

    def index_doc(
        self,
        doc_id: str,
        raw: bytes,
        source: dict[str, Any],
        opts: WriteOptions,
        routing: str | None = None,
    ) -> WriteResult:
        """Index one document; the caller commits the source store (per request)."""
        opts.validate()
        check_id(doc_id)
        row = self._versioned(self.sources.get(doc_id))
        self._deleted_at.pop(doc_id, None)
        version, conflict = next_version(row, opts)
        if conflict:
            raise version_conflict(self.name, doc_id, conflict, self.uuid)
        seq_no = self._next_seq
        new_mapping = None
        doc = self._builder.build(doc_id, seq_no, raw, source)  # flat, mapped: no new fields
        if doc is None:
            added = self.mapping.new_properties(source)
            new_mapping = Mapping(self.mapping.merged(added), self.registry) if added else None
            doc = to_document(new_mapping or self.mapping, doc_id, seq_no, raw, source)
        self.sources.begin()
        self.sources.put(doc_id, version, seq_no, raw)
        self.sources.set_routing(doc_id, routing)
        if routing is not None:
            doc.add_text("_field_names", "_routing")  # for ``exists`` on _routing
        self._next_seq += 1
        live = row is not None and not row.deleted
        if new_mapping is not None:
            self._remap(new_mapping)
        else:
            if live:
                self.writer.delete_documents_by_term("_id", doc_id)
            self.writer.add_document(doc)
            self.dirty = True
        if live:
            return WriteResult(
                200, self.name, doc_id, version, "updated", seq_no, shards=self.write_shards
            )
        return WriteResult(
            201, self.name, doc_id, version, "created", seq_no, shards=self.write_shards
        )

    def _versioned(self, row: Row | None) -> Row | None:
        """The row a version check sees: a tombstone older than ``index.gc_deletes`` is
        forgotten (as OpenSearch prunes it), so an older external version is accepted."""
        if row is None or not row.deleted:
            return row
        now = time.monotonic()
        ttl = self.settings.gc_deletes
        if now - self._deleted_at.get(row.doc_id, self._opened) <= ttl:
            return row
        return None

    def _note_delete(self, doc_id: str) -> None:
        now = time.monotonic()
        self._deleted_at[doc_id] = now
        ttl = self.settings.gc_deletes
        if now - self._pruned_at > max(ttl / 4, 1.0):  # forget expired entries now and then
            self._deleted_at = {d: t for d, t in self._deleted_at.items() if now - t <= ttl}
            self._pruned_at = now

    def delete_doc(
        self, doc_id: str, opts: WriteOptions, routing: str | None = None
    ) -> WriteResult:
        opts.validate()
        row = self.sources.get(doc_id)
        if row is not None and not row.deleted and not self.routes_to(doc_id, routing):
            # Another shard in OpenSearch: that shard has no such document, and the
            # document itself stays untouched.
            return WriteResult(
                404, self.name, doc_id, 1, "not_found", self._next_seq, shards=self.write_shards
            )
        row = self._versioned(row)
        version, conflict = next_version(row, opts, is_delete=True)
        if conflict:
            raise version_conflict(self.name, doc_id, conflict, self.uuid)
        live = row is not None and not row.deleted
        seq_no = self._next_seq
        self.sources.begin()
        self.sources.tombstone(doc_id, version, seq_no)
        self._note_delete(doc_id)
        self._next_seq += 1
        if live:
            self.writer.delete_documents_by_term("_id", doc_id)
            self.dirty = True
        result = "deleted" if live else "not_found"
        return WriteResult(
            200 if live else 404,
            self.name,
            doc_id,
            version,
            result,
            seq_no,
            shards=self.write_shards,
        )

    def update_doc(
        self, doc_id: str, body: dict[str, Any], opts: WriteOptions, routing: str | None = None
    ) -> WriteResult:
        from emulation.search.updates import apply_update

        row = self.sources.get(doc_id)
        if row is not None and not row.deleted and not self.routes_to(doc_id, routing):
            row = None
        current = None if row is None or row.deleted or row.source is None else row.source
        plan = apply_update(self.name, doc_id, body, current, self.uuid)
        if plan.noop:
            assert row is not None
            _, conflict = next_version(row, opts)  # a noop still checks if_seq_no
            if conflict:
                raise version_conflict(self.name, doc_id, conflict, self.uuid)
            return WriteResult(
                200,
                self.name,
                doc_id,
                row.version,
                "noop",
                row.seq_no,
                changed=False,
                shards=self.write_shards,
            )
        if opts.if_seq_no is not None and row is not None and row.deleted:
            row = None
        return self.index_doc(doc_id, plan.raw, plan.source, opts, routing)

    # -- reads -----------------------------------------------------------------------------
    def get_row(self, doc_id: str, routing: str | None = None) -> Row | None:
        row = self.sources.get(doc_id)
        if row is None or row.deleted or not self.routes_to(doc_id, routing):
            return None
        return row

    @property
    def shards(self) -> int:
        return self.shard_count[0]

    def routes_to(self, doc_id: str, routing: str | None) -> bool:
        """Whether a request with ``routing`` reaches the shard ``doc_id`` was written to."""
        if self.shards <= 1 or (not self.sources.has_routing and routing is None):
            return True
        stored = self.sources.routing(doc_id)
        wanted = shard_of(
            routing if routing is not None else doc_id, self.shards, self.routing_shards
        )
        return wanted == shard_of(
            stored if stored is not None else doc_id, self.shards, self.routing_shards
        )

    def is_searchable(self, doc_id: str) -> bool:
        """Whether the refreshed view (what ``realtime=false`` reads) holds ``doc_id``."""
        query = tantivy.Query.term_query(self.schema, "_id", doc_id)
        return bool(self.searcher().search(query, 1, count=True).count)

    def count_live(self) -> int:
        return self.sources.count_live()
