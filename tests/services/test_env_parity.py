"""A service reads the same variables on ECS as locally: the task definition's list and
``polystore env``'s are equal, and both satisfy what the service requires at start."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulation import report
from emulation.engines.base import endpoints_of
from emulation.state import State, StateDir
from polystore.topology.model import Topology
from services.config import required_variables
from tests.infra.conftest import of_type, shipped_preview

TASK = "aws:ecs/taskDefinition:TaskDefinition"
# Only the local stack sets these: in AWS the task role and the region's endpoints do,
# and a service logs in to its database with an IAM token it makes per connection for
# PGUSER (services.clients) instead of PGPASSWORD -- RDS IAM authentication has no local
# counterpart, so locally the login has a password.
LOCAL_ONLY = {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
              "PGPASSWORD"}  # fmt: skip


def _task_env(preview: dict[str, Any], system: str, service: str) -> tuple[set[str], list[str]]:
    for task in of_type(preview, TASK):
        if task["inputs"]["family"] == f"{system}-dev-{service}":
            [c] = json.loads(task["inputs"]["containerDefinitions"])
            names = {e["name"] for e in c["environment"]} | {s["name"] for s in c["secrets"]}
            return names, c.get("command", [])
    raise AssertionError(f"no task definition for {system}.{service}")


@pytest.mark.parametrize("system_name", ["tcgstore", "bellyfed", "order-processor",
                                         "inventory", "ecommerce"])
def test_ecs_and_local_environments_name_the_same_variables(
    tmp_path: Any, topology: Topology, system_name: str
) -> None:
    preview = shipped_preview("dev")
    system = topology.system(system_name)
    sd = StateDir(tmp_path)
    state = State(runtime="embedded", provisioned={system_name: "x"},
                  ports={"postgres": 1, "dynamodb": 2, "search": 3, "kafka": 4})  # fmt: skip
    sd.save(state)
    assert endpoints_of(state).port("postgres") == 1
    for service in system.services:
        ecs, command = _task_env(preview, system_name, service)
        local = set(report.env(sd, system, service))
        assert ecs - local == set(), (service, ecs - local)
        assert local - ecs <= LOCAL_ONLY, (service, local - ecs)
        assert set(required_variables(system, service)) <= ecs, service
        assert command[0] == f"{system_name}.{service}"
