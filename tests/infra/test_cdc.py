"""The CDC path in AWS registers the connector the shared function generates."""

from __future__ import annotations

import json
from typing import Any

from cdc.connector import Database, connector_config, worker_auth

from .conftest import of_type, shipped_preview, topology


def _connect_env(result: dict[str, Any], system: str) -> dict[str, str]:
    [task] = [r for r in of_type(result, "aws:ecs/taskDefinition:TaskDefinition")
              if r["name"].startswith(f"{system}-kafka-connect")]  # fmt: skip
    [container] = json.loads(task["inputs"]["containerDefinitions"])
    return {e["name"]: e["value"] for e in container["environment"]}


def test_connect_registers_the_shared_connector_config() -> None:
    result = shipped_preview("prod")
    system = topology().system("bellyfed")
    env = _connect_env(result, "bellyfed")
    [registered] = json.loads(env["CONNECTOR_CONFIG"])
    host = registered["config"]["database.hostname"]
    assert host.startswith("bellyfed-prod-bellyfed-db")
    expected = connector_config(system, "bellyfed-cdc", "prod", Database(
        host=host, port=5432, user="${env:PGUSER}", password="${env:PGPASSWORD}",
        sslmode="require"))  # fmt: skip
    assert registered == {"name": "bellyfed-cdc", "config": expected}
    # lands on the declared topic's physical name, reads the declared tables
    assert expected["transforms.route.replacement"] == "bellyfed-prod-bellyfed.cdc"
    assert expected["table.include.list"] == "public.restaurants,public.menu_items,public.reviews"


def test_connect_worker_speaks_msk_iam() -> None:
    env = _connect_env(shipped_preview("prod"), "bellyfed")
    for key, value in worker_auth("msk-iam").items():
        assert env["CONNECT_" + key.upper().replace(".", "_")] == value
    assert env["CONNECT_SASL_MECHANISM"] == "AWS_MSK_IAM"


def test_sink_lambda_runs_the_cdc_handler_with_the_declared_transform() -> None:
    from cdc.package import HANDLER, MODULES
    from cdc.plan import sink_spec

    result = shipped_preview("prod")
    [fn] = [r for r in of_type(result, "aws:lambda/function:Function")
            if r["name"].endswith("bellyfed-cdc")]  # fmt: skip
    assert fn["inputs"]["handler"] == HANDLER
    env = fn["inputs"]["environment"]["variables"]
    spec = sink_spec(topology().system("bellyfed"), "bellyfed-cdc")
    assert env["CDC_SINK_SPEC"] == spec.to_json()
    assert env[spec.table_env] == "bellyfed-prod-RestaurantReadModel"
    assert len(json.dumps(env)) < 4096  # Lambda's limit on all variables together
    code = json.dumps(fn["inputs"]["code"])
    for module in MODULES:
        assert module in code
    [policy] = [r for r in of_type(result, "aws:iam/rolePolicy:RolePolicy")
                if r["name"].startswith("bellyfed-prod-bellyfed-cdc")
                or "bellyfed-cdc-policy" in r["name"]]  # fmt: skip
    actions = {
        a
        for s in json.loads(policy["inputs"]["policy"])["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"} <= actions


def test_connect_image_turns_the_task_environment_into_worker_properties() -> None:
    import subprocess
    from pathlib import Path

    from infra.streaming import connect_worker_env

    script = Path(__file__).resolve().parents[2] / "infra/docker/kafka-connect/entrypoint.sh"
    env = {"PATH": "/usr/bin:/bin", "CONNECT_GROUP_ID": "bellyfed-prod-connect",
           "CONNECT_CONFIG_PROVIDERS_ENV_CLASS":
               "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
           "CONNECTOR_CONFIG": "[]", **connect_worker_env()}  # fmt: skip
    done = subprocess.run(["sh", str(script), "--print-properties"], env=env,
                          capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    props = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert props["group.id"] == "bellyfed-prod-connect"
    assert props["config.providers.env.class"].endswith("EnvVarConfigProvider")
    for key, value in worker_auth("msk-iam").items():
        assert props[key] == value  # the worker and its clients speak MSK IAM
    assert "connector.config" not in props and props["plugin.path"] == "/opt/connect/plugins"


def test_connect_image_pins_nothing_of_its_own() -> None:
    """Kafka and Debezium versions come from the local engine's pom, not the Dockerfile."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dockerfile = (root / "infra/docker/kafka-connect/Dockerfile").read_text()
    assert "-f emulation/kafka/pom.xml" in dockerfile
    import re

    assert re.search(r"(kafka|debezium)\S*[-:=]\d+\.\d+", dockerfile, re.IGNORECASE) is None
