"""Readiness probes: each makes a real request an engine must answer correctly.

An open port proves little (PostgreSQL accepts connections while it is still starting;
a JVM binds before it serves). Each probe raises on anything but a proper answer, so
the waits in ``waits.py`` can report exactly what they saw.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

DYNAMODB_REGION = "us-east-1"
# DynamoDB requires a SigV4-shaped header; local engines check its shape, not its signature.
_FAKE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


def postgres(host: str, port: int, user: str, password: str, timeout: float = 2.0) -> None:
    """Log in and run ``SELECT 1``."""
    import psycopg

    with psycopg.connect(host=host, port=port, user=user, password=password,
                         dbname="postgres", connect_timeout=max(1, int(timeout)),
                         sslmode="disable") as conn:  # fmt: skip
        row = conn.execute("SELECT 1").fetchone()
        if row != (1,):
            raise RuntimeError(f"SELECT 1 returned {row!r}")


def dynamodb(url: str, timeout: float = 2.0) -> list[str]:
    """Call ListTables; return the table names."""
    req = urllib.request.Request(
        url.rstrip("/") + "/", data=b"{}", method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                 "Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Date": "20240101T000000Z", "Authorization": _FAKE_AUTH},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body: dict[str, Any] = json.loads(resp.read())
    if "TableNames" not in body:
        raise RuntimeError(f"ListTables answered {body!r}")
    return list(body["TableNames"])


def search(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """GET / (the cluster info every OpenSearch client reads first)."""
    with urllib.request.urlopen(url.rstrip("/") + "/", timeout=timeout) as resp:
        body: dict[str, Any] = json.loads(resp.read())
    if "version" not in body:
        raise RuntimeError(f"GET / answered {body!r}")
    return body
