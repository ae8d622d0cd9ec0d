"""The DynamoDB engine: DynamoDB + DynamoDB Streams on one port.

Faces: ``provision`` (tables with keys, GSIs, LSIs, stream, TTL, PITR), ``parity``; on
the embedded runtime the server is the project's own engine (``python -m
emulation.dynamodb``: SQLite, durable, indexed, TTL swept inside); on the docker runtime
DynamoDB Local, which does not expire items, so a TTL sweeper runs next to it as a worker.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.engines.base import Endpoints, Engine, Launch, Progress, Worker

if TYPE_CHECKING:
    from emulation.runtimes.containers import ContainerSpec
    from emulation.state import State, StateDir
    from polystore.topology.model import Store, System

# Local engines accept any credentials; boto3 only needs some to sign with.
LOCAL_AWS_KEY = "local"
# DynamoDB requires a SigV4-shaped header; local engines check its shape, not its signature.
_FAKE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


def region() -> str:
    """The region local clients sign for: the caller's, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def list_tables(url: str, timeout: float = 2.0) -> list[str]:
    """Call ListTables over plain HTTP (no boto3 import); return the table names."""
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


class DynamoEngine(Engine):
    name = "dynamodb"
    kinds = ("dynamodb",)
    implementation = "polystore"  # emulation/dynamodb (docs/dynamodb-engine.md)

    def probe(self, ep: Endpoints) -> None:
        list_tables(self.url(ep))

    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        return Launch([sys.executable, "-m", "emulation.dynamodb", "--host", ep.host,
                       "--port", str(ep.port(self.name)), "--data-dir", str(data / "data")])

    def workers(self, runtime: str, ep: Endpoints) -> list[Worker]:
        if runtime != "docker":
            return []  # the embedded server sweeps TTL itself
        return [
            Worker(
                "ttl-sweeper",
                [sys.executable, "-m", "emulation.engines.dynamodb.ttl_sweeper", self.url(ep)],
                description="deletes expired TTL items (DynamoDB Local does not)",
            )
        ]

    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        from emulation.runtimes.containers import HealthCheck, spec

        return spec(state_dir, state, self.name, container_port=8000,
                    volume_path="/home/dynamodblocal/data",
                    command=["-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath",
                             "/home/dynamodblocal/data"],
                    # The image has no curl; bash's /dev/tcp proves the port, the host-side
                    # readiness probe (a real ListTables) proves the API.
                    healthcheck=HealthCheck(["CMD-SHELL",
                                             "bash -c '</dev/tcp/127.0.0.1/8000'"]))  # fmt: skip

    def provision(self, systems: list[System], ep: Endpoints, progress: Progress) -> None:
        from emulation.engines.dynamodb import provision

        provision.provision(systems, ep, progress)

    def parity(self, systems: list[System], ep: Endpoints) -> list[str]:
        from emulation.engines.dynamodb import parity

        return parity.check(systems, ep)

    def service_env(self, system: System, service: str, ep: Endpoints) -> dict[str, str]:
        if not any(s.kind == "dynamodb" for s in system.stores_of(service).values()):
            return {}
        url = self.url(ep)
        # Both region variables: boto3 reads AWS_DEFAULT_REGION, other SDKs AWS_REGION.
        # The per-service endpoint variables are the SDKs' standard ones (boto3 ≥ 1.28).
        return {"AWS_REGION": region(), "AWS_DEFAULT_REGION": region(),
                "AWS_ENDPOINT_URL_DYNAMODB": url, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": url,
                "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
                "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY}  # fmt: skip

    def store_status(self, system: System, name: str, store: Store, ep: Endpoints
                     ) -> dict[str, Any]:  # fmt: skip
        from polystore.naming import local_name

        return {
            "table": local_name(system, name),
            "endpoint": self.url(ep),
            "region": region(),
            "stream": bool(store.stream),
        }  # type: ignore[union-attr]


ENGINE = DynamoEngine()
