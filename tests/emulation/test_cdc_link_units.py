"""The cdc link kind's worker and connector, without engines."""

from __future__ import annotations

from pathlib import Path

from emulation import cdc_link, links
from emulation.engines.base import Endpoints
from emulation.state import State, StateDir
from polystore import load_topology
from polystore.naming import service_role_name

BELLYFED = load_topology().system("bellyfed")
LINK = BELLYFED.cdc_links()["bellyfed-cdc"]


def test_registered_for_link_kind_cdc() -> None:
    assert links.REGISTRY["cdc"] == "emulation.cdc_link"


def test_no_worker_until_the_stack_runs_kafka(tmp_path: Path) -> None:
    ep = Endpoints(State(ports={"postgres": 5432, "dynamodb": 4566}))
    assert cdc_link.workers(BELLYFED, "bellyfed-cdc", LINK, ep, StateDir(tmp_path)) == []


def test_sink_consumer_worker(tmp_path: Path) -> None:
    ep = Endpoints(State(ports={"postgres": 5432, "dynamodb": 4566, "kafka": 9092}))
    [w] = cdc_link.workers(BELLYFED, "bellyfed-cdc", LINK, ep, StateDir(tmp_path))
    assert w.command[1:] == [
        "-m",
        "cdc.consumer",
        "--system",
        "bellyfed",
        "--link",
        "bellyfed-cdc",
        "--dead-letter",
        str(tmp_path / "logs/cdc-bellyfed-bellyfed-cdc-dead-letter.jsonl"),
    ]
    assert w.env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert w.env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4566"
    assert w.env["DYNAMODB_TABLE_RESTAURANT_READ_MODEL"] == "bellyfed-local-RestaurantReadModel"


def test_local_connector_reads_as_the_replication_login() -> None:
    state = State(ports={"postgres": 5544})
    [(name, config)] = cdc_link.connectors([BELLYFED], Endpoints(state)).items()
    assert name == "bellyfed-cdc"
    assert config["database.user"] == "bellyfed_bellyfed_cdc_replication"
    assert config["database.password"] == state.passwords["bellyfed_bellyfed_cdc_replication"]
    assert config["database.port"] == "5544"
    assert config["database.user"] != service_role_name(BELLYFED, "restaurant-api")
