"""HTTP to the search engine: one kept-alive connection, SigV4-signed when it is AWS.

Whether to sign is decided by the URL, not by a flag in the code: an Amazon OpenSearch
Service endpoint (``*.es.amazonaws.com``, serverless ``*.aoss.amazonaws.com``, or a bare
host as infra passes it) is signed with the credentials botocore finds (the Lambda role);
anything else (the local engine, a plain OpenSearch) is spoken to as it is.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

AWS_HOST = re.compile(r"\.(?P<region>[a-z0-9-]+)\.(?P<service>es|aoss)\.amazonaws\.com$")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class SearchHttp:
    """A tiny client: ``request(method, path, body)`` over a reused connection."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        if "://" not in url:
            url = "https://" + url  # infra passes the domain endpoint without a scheme
        parts = urllib.parse.urlsplit(url)
        self.url = url.rstrip("/")
        self.scheme, self.host = parts.scheme, parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self.sign_as = aws_signing(self.host)
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (http.client.HTTPSConnection if self.scheme == "https"
                   else http.client.HTTPConnection)  # fmt: skip
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> Response:  # fmt: skip
        headers = {"Content-Type": content_type} if body is not None else {}
        target = self.base_path + path
        if self.sign_as is not None:
            headers = signed_headers(method, self.url + path, body, headers, *self.sign_as)
        # A kept-alive connection the server closed fails on first use: reconnect once.
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
                return Response(resp.status, resp.read())
            except (http.client.HTTPException, ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def aws_signing(host: str) -> tuple[str, str] | None:
    """(service, region) to sign requests to ``host`` with, or None when it is not AWS."""
    m = AWS_HOST.search(host)
    if not m:
        return None
    return m.group("service"), m.group("region") or os.environ.get("AWS_REGION", "")


def signed_headers(method: str, url: str, body: bytes | None, headers: dict[str, str],
                   service: str, region: str) -> dict[str, str]:  # fmt: skip
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    req: Any = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    creds = botocore.session.get_session().get_credentials()
    if creds is None:
        raise RuntimeError(f"{url} is an AWS endpoint but botocore found no credentials")
    SigV4Auth(creds, service, region).add_auth(req)
    return dict(req.headers.items())
