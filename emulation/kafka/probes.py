"""Readiness probes: a real metadata request to Kafka, a real REST call to Connect.

A JVM binds its port before it serves, and a broker accepts connections before it is
unfenced, so an open port proves nothing; these raise on anything but a proper answer.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

_QUIET = logging.getLogger("polystore.kafka.client")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def client_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    """librdkafka settings for local admin calls: plaintext, no log noise on stderr."""
    return {
        "bootstrap.servers": bootstrap,
        "logger": _QUIET,
        "log_level": 3,
        "socket.connection.setup.timeout.ms": 2000,
        **extra,
    }


def kafka(bootstrap: str, timeout: float = 2.0) -> dict[str, Any]:
    """A Metadata request; the cluster id, brokers and topic names it answered."""
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient(client_config(bootstrap)).list_topics(timeout=timeout)
    if not metadata.brokers:
        raise RuntimeError(f"Metadata from {bootstrap} lists no broker")
    return {
        "cluster_id": metadata.cluster_id,
        "brokers": len(metadata.brokers),
        "topics": sorted(metadata.topics),
    }


def _get(url: str, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"GET {url} answered {exc.code}: {exc.read()[:200]!r}") from None
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}")
    return json.loads(body)


def connect(url: str, timeout: float = 2.0) -> list[str]:
    """``GET /connectors``: 200 with a JSON list once the worker has joined its group."""
    body = _get(url.rstrip("/") + "/connectors", timeout)
    if not isinstance(body, list):
        raise RuntimeError(f"GET /connectors answered {body!r}")
    return [str(name) for name in body]


def connector_plugins(url: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """``GET /connector-plugins``: the connector classes the worker can run."""
    body = _get(url.rstrip("/") + "/connector-plugins", timeout)
    return list(body)
