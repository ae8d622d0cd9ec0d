"""A minimal OpenSearch client: ``_search`` over HTTP, SigV4-signed when the URL is AWS.

The same code reaches the local engine (plain HTTP) and an Amazon OpenSearch domain
(requests signed with the task role's credentials), chosen by the URL, not a flag.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


def _is_aws(url: str) -> bool:
    host = httpx.URL(url).host
    return host.endswith((".es.amazonaws.com", ".aoss.amazonaws.com"))


class SearchClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.aws = _is_aws(url)

    def _signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        if not self.aws:
            return {"content-type": "application/json"}
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = boto3.Session()
        request = AWSRequest(method=method, url=self.url + path, data=body,
                             headers={"content-type": "application/json"})  # fmt: skip
        service = "aoss" if ".aoss." in self.url else "es"
        SigV4Auth(session.get_credentials(), service, session.region_name).add_auth(request)
        return dict(request.headers)

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/{index}/_search"
        data = json.dumps(body).encode()
        resp = self.http.post(path, content=data, headers=self._signed("POST", path, data))
        resp.raise_for_status()
        out: dict[str, Any] = resp.json()
        return out

    def ping(self) -> bool:
        resp = self.http.get("/", headers=self._signed("GET", "/", b""))
        return resp.status_code == 200

    def close(self) -> None:
        self.http.close()
