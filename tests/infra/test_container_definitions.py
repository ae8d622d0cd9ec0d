"""Container definitions are readable at preview: what the policy rules read is known.

The program builds them from known inputs (physical names, region, the account from the
caller-identity invoke): image URI, log group, role ARNs. Only values AWS alone can know
before deploying — database and domain endpoints, secret ARNs (RDS-managed ones, and
those of our secrets: AWS appends 6 random characters to the name), Kafka bootstrap
brokers — may make one unknown; a run whose mocks derive nothing else proves it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import infra.preview as preview_mod
from infra.mock_state import computed_state
from infra.preview import UNKNOWN
from tests.infra.conftest import of_type, topology

TASK = "aws:ecs/taskDefinition:TaskDefinition"
# What only AWS knows before a first deployment (and the mocks fill in, marked "mock").
AWS_ONLY = {
    "aws:rds/cluster:Cluster": {"endpoint", "readerEndpoint", "masterUserSecrets"},
    "aws:rds/instance:Instance": {"address", "masterUserSecrets"},
    "aws:opensearch/domain:Domain": {"endpoint"},
    "aws:msk/serverlessCluster:ServerlessCluster": {"bootstrapBrokersSaslIam"},
    "aws:secretsmanager/secret:Secret": {"arn"},  # name + "-" + 6 random characters
}


def _containers(task: dict[str, Any]) -> list[dict[str, Any]]:
    raw = task["inputs"]["containerDefinitions"]
    assert raw != UNKNOWN, f"{task['name']}: containerDefinitions unknown at preview"
    return list(json.loads(raw))


def test_every_container_says_what_the_rules_read(result: dict[str, Any]) -> None:
    tasks = of_type(result, TASK)
    assert len(tasks) >= sum(len(s.services) for s in topology().systems.values())
    log_groups = {g["inputs"]["name"] for g in of_type(result, "aws:cloudwatch/logGroup:LogGroup")}
    for task in tasks:
        for c in _containers(task):
            assert UNKNOWN not in json.dumps(c), task["name"]
            assert c["readonlyRootFilesystem"] is True and c["privileged"] is False
            assert c["user"] and c["user"] != "0"
            logs = c["logConfiguration"]
            assert logs["logDriver"] == "awslogs"
            assert logs["options"]["awslogs-group"] in log_groups  # the group it creates
            for e in c["environment"]:
                assert set(e) == {"name", "value"} and isinstance(e["value"], str)
            for s in c["secrets"]:
                assert s["valueFrom"].startswith("arn:aws:secretsmanager:"), s
            assert c["image"].endswith(":latest") and ".dkr.ecr." in c["image"]
        assert task["inputs"]["taskRoleArn"] != task["inputs"]["executionRoleArn"]


@pytest.fixture(scope="module")
def aws_only_preview() -> dict[str, Any]:
    """The prod program run with mocks that derive only what AWS alone can know."""
    def aws_only(typ: str, name: str, inputs: dict[str, Any], region: str
                 ) -> tuple[str, dict[str, Any]]:
        rid, state = computed_state(typ, name, inputs, region)
        keep = AWS_ONLY.get(typ, set())
        return rid, {k: v for k, v in state.items() if k in inputs or k in keep}

    mp = pytest.MonkeyPatch()
    mp.setattr(preview_mod, "computed_state", aws_only)
    try:
        return preview_mod.run_preview("prod", topology=topology())
    finally:
        mp.undo()


def test_container_definitions_need_no_other_computed_value(aws_only_preview) -> None:
    """No ARN, URL or name the mocks merely derive (repository URL, log group name, role
    ARNs) is needed: with those unknown, every task definition is still readable."""
    tasks = of_type(aws_only_preview, TASK)
    assert tasks
    for task in tasks:
        assert _containers(task), task["name"]
        assert UNKNOWN not in (task["inputs"]["taskRoleArn"], task["inputs"]["executionRoleArn"])
    # The run really left derived outputs unknown (the check is not vacuous): policies
    # naming a KMS key ARN (a random key id until created) are unknown in it.
    policies = of_type(aws_only_preview, "aws:iam/rolePolicy:RolePolicy")
    assert any(p["inputs"]["policy"] == UNKNOWN for p in policies)
