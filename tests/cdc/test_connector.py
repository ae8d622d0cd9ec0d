"""The connector config generated from the link: what differs is only what is passed."""

from __future__ import annotations

from cdc.connector import Database, connector_config, worker_auth
from polystore.topology.model import Topology

LOCAL = Database(host="127.0.0.1", port=5544, user="bellyfed_bellyfed_cdc_replication",
                 password="s3cret")  # fmt: skip


def test_local_connector_from_the_topology(topology: Topology) -> None:
    config = connector_config(topology.system("bellyfed"), "bellyfed-cdc", "local", LOCAL)
    assert config["plugin.name"] == "pgoutput"
    assert config["slot.name"] == config["publication.name"] == "bellyfed_local_bellyfed_cdc"
    assert config["table.include.list"] == "public.restaurants,public.menu_items,public.reviews"
    assert config["transforms.route.replacement"] == "bellyfed-local-bellyfed.cdc"
    assert config["database.dbname"] == "bellyfed"
    assert config["database.user"] == "bellyfed_bellyfed_cdc_replication"
    assert config["value.converter.schemas.enable"] == "false"
    assert config["decimal.handling.mode"] == "string"  # decimal-string fields stay exact
    assert config["tombstones.on.delete"] == "true"
    assert all(isinstance(v, str) for v in config.values())  # Connect's REST API wants strings


def test_places_differ_only_in_the_database_parameters(topology: Topology) -> None:
    system = topology.system("bellyfed")
    aws = connector_config(system, "bellyfed-cdc", "local", Database(
        "db.example", 5432, "${env:PGUSER}", "${env:PGPASSWORD}", "require"))  # fmt: skip
    local = connector_config(system, "bellyfed-cdc", "local", LOCAL)
    differing = {k for k in local if local[k] != aws[k]}
    assert differing == {"database.hostname", "database.port", "database.user",
                         "database.password", "database.sslmode"}  # fmt: skip


def test_worker_auth_plaintext_vs_msk_iam() -> None:
    assert worker_auth("plaintext") == {"security.protocol": "PLAINTEXT"}
    iam = worker_auth("msk-iam")
    assert iam["sasl.mechanism"] == iam["producer.sasl.mechanism"] == "AWS_MSK_IAM"
    assert iam["consumer.security.protocol"] == "SASL_SSL"
