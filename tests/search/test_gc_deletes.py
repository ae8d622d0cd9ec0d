"""``index.gc_deletes``: how long a delete's tombstone keeps its version.

OpenSearch keeps it 60 s by default; after that an external version older than the
delete is accepted again and re-creates the document. The stream-to-search handler
guards against exactly that (sync/stream_to_search/late_records.py); these tests pin the
engine behaviour it guards against, the same against a real OpenSearch.
"""

from __future__ import annotations

import time

import pytest
from opensearchpy import ConflictError, OpenSearch, RequestError


def test_a_tombstone_refuses_older_versions_until_gc_deletes(
    client: OpenSearch, index_name: str
) -> None:
    client.indices.create(index=index_name, body={"settings": {"index.gc_deletes": "1s"}})
    ext = {"version_type": "external"}
    client.index(index=index_name, id="a", body={"n": 1}, params={**ext, "version": 10})
    client.delete(index=index_name, id="a", params={**ext, "version": 12})
    with pytest.raises(ConflictError):  # the tombstone (version 12) is still there
        client.index(index=index_name, id="a", body={"n": 1}, params={**ext, "version": 11})
    time.sleep(2.0)
    client.indices.refresh(index=index_name)  # OpenSearch prunes tombstones on refresh
    again = client.index(index=index_name, id="a", body={"n": 1}, params={**ext, "version": 11})
    assert again["result"] == "created" and again["_version"] == 11  # the delete is undone


def test_the_default_keeps_tombstones_and_bad_values_are_refused(
    client: OpenSearch, index_name: str
) -> None:
    client.indices.create(index=index_name)
    ext = {"version_type": "external"}
    client.index(index=index_name, id="a", body={"n": 1}, params={**ext, "version": 10})
    client.delete(index=index_name, id="a", params={**ext, "version": 12})
    time.sleep(1.0)
    client.indices.refresh(index=index_name)
    with pytest.raises(ConflictError):
        client.index(index=index_name, id="a", body={"n": 1}, params={**ext, "version": 11})
    with pytest.raises(RequestError) as bad:
        client.indices.create(
            index=f"{index_name}-x", body={"settings": {"index.gc_deletes": "soon"}}
        )
    assert "index.gc_deletes" in str(bad.value.info)
