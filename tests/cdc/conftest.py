"""Fixtures: bellyfed's sink spec from the shipped topology; a DynamoDB server (moto, the
embedded runtime's engine today) with the read-model table created from the topology."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cdc.plan import sink_spec
from cdc.sink import ReadModelSink
from cdc.transform import SinkSpec
from polystore.topology.model import Topology

LINK = "bellyfed-cdc"


@pytest.fixture(scope="session")
def topology() -> Topology:
    from polystore import load_topology

    return load_topology()


@pytest.fixture(scope="session")
def spec(topology: Topology) -> SinkSpec:
    return sink_spec(topology.system("bellyfed"), LINK)


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield boto3.client(
            "dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
    finally:
        server.stop()


@pytest.fixture
def table(dynamodb: Any, topology: Topology) -> str:
    """A fresh read-model table per test (same keys and GSIs as declared)."""
    from emulation.engines.dynamodb.provision import create_args

    system = topology.system("bellyfed")
    store = system.stores[system.cdc_links()[LINK].target]
    name = f"rm-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**create_args(name, store))  # type: ignore[arg-type]
    return name


@pytest.fixture
def sink(dynamodb: Any, table: str, spec: SinkSpec) -> ReadModelSink:
    return ReadModelSink(dynamodb, table, spec)


def scan(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of ``table`` by (PK, SK), in plain Python values."""
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page["Items"]:
            item = {k: des.deserialize(v) for k, v in raw.items()}
            out[(item["PK"], item["SK"])] = item
    return out
