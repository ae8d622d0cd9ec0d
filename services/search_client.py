"""A minimal OpenSearch client for services: ``_search`` over a pooled httpx client.

Signing is the sync handler's (``sync.stream_to_search.search_http``): the URL decides —
an Amazon OpenSearch endpoint is SigV4-signed with the task role's credentials, the local
engine is spoken to as it is. httpx rather than that module's single connection because a
service answers from a thread pool.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sync.stream_to_search.search_http import aws_signing, signed_headers


class SearchClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.sign_as = aws_signing(httpx.URL(self.url).host)

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.sign_as is None:
            return headers
        return signed_headers(method, self.url + path, body, headers, *self.sign_as)

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/{index}/_search"
        data = json.dumps(body).encode()
        resp = self.http.post(path, content=data, headers=self._headers("POST", path, data))
        resp.raise_for_status()
        out: dict[str, Any] = resp.json()
        return out

    def ping(self) -> bool:
        resp = self.http.get("/", headers=self._headers("GET", "/", b""))
        return resp.status_code == 200

    def close(self) -> None:
        self.http.close()
