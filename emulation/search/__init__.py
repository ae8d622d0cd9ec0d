"""An OpenSearch-compatible search engine for the embedded (no-Docker) runtime.

It speaks the part of the OpenSearch REST API that opensearch-py and the project's
services use, and keeps its data in tantivy (full text) plus SQLite (sources, versions,
the write-ahead record that makes acknowledged writes survive a crash).

The runtime starts it with ``python -m emulation.search --host H --port P --data-dir D``;
tests use :func:`emulation.search.server.serve_in_thread`.
"""

ENGINE_VERSION = "2.17.0"

__all__ = ["ENGINE_VERSION"]
