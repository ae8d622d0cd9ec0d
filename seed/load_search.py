"""Load documents with ``_bulk`` — only into indexes that no link feeds.

An index a stream-to-search link feeds gets its documents from the link (seeding
writes the source table); writing it here too would hide a broken link.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

CHUNK = 1000


def bulk(
    env: dict[str, str], index: str, docs: list[dict[str, Any]], advance: Callable[[int], None]
) -> int:
    import httpx

    url = env["OPENSEARCH_URL"].rstrip("/")
    with httpx.Client(timeout=60) as http:
        for i in range(0, len(docs), CHUNK):
            lines = []
            for doc in docs[i : i + CHUNK]:
                body = {k: v for k, v in doc.items() if k != "_id"}
                lines.append(json.dumps({"index": {"_index": index, "_id": doc["_id"]}}))
                lines.append(json.dumps(body, sort_keys=True))
            resp = http.post(
                f"{url}/_bulk",
                content="\n".join(lines) + "\n",
                headers={"Content-Type": "application/x-ndjson"},
            )
            resp.raise_for_status()
            result = resp.json()
            if result.get("errors"):
                bad = next(it for it in result["items"] if "error" in next(iter(it.values())))
                raise RuntimeError(f"{index}: bulk rejected a document: {bad}")
            advance(len(docs[i : i + CHUNK]))
        http.post(f"{url}/{index}/_refresh")
    return len(docs)


def count_and_ids(env: dict[str, str], index: str, limit: int = 10000) -> tuple[int, set[str]]:
    import httpx

    url = env["OPENSEARCH_URL"].rstrip("/")
    with httpx.Client(timeout=30) as http:
        http.post(f"{url}/{index}/_refresh")
        resp = http.post(
            f"{url}/{index}/_search",
            json={"size": limit, "_source": False, "query": {"match_all": {}}},
        )
        if resp.status_code == 404:
            return 0, set()
        resp.raise_for_status()
        hits = resp.json()["hits"]
        total = hits["total"]["value"] if isinstance(hits["total"], dict) else hits["total"]
        return int(total), {h["_id"] for h in hits["hits"]}
