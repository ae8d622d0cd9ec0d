"""Each stream-to-search link has a one-off reindex task: the services image running
``python -m sync.reindex SYSTEM.INDEX`` with the link's table, index and domain in its
environment (names from polystore.naming, never restated) and a role that can rebuild that
one index from that one table, nothing else."""

from __future__ import annotations

import json
from typing import Any

from polystore.naming import store_env_var, store_physical_name
from polystore.tags import ROLE_REINDEX, TAG_LINK, TAG_ROLE
from tests.infra.conftest import mock_id, of_type, policy, topology

TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _reindex_tasks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["inputs"]["tags"][TAG_LINK]: t for t in of_type(result, TASK)
            if t["inputs"].get("tags", {}).get(TAG_ROLE) == ROLE_REINDEX}  # fmt: skip


def _task_policy(result: dict[str, Any], task: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the inline policy on the task's role (found by the role's ARN)."""
    role_name = task["inputs"]["taskRoleArn"].rsplit("/", 1)[1]
    roles = {r["name"]: r for r in of_type(result, ROLE) if r["inputs"].get("name") == role_name}
    assert len(roles) == 1, role_name
    (role_resource,) = roles.values()
    role_id = mock_id(role_resource)
    docs = [policy(p)["Statement"] for p in of_type(result, ROLE_POLICY)
            if p["inputs"]["role"] == role_id]  # fmt: skip
    assert len(docs) == 1, f"one task policy for {role_name}, got {len(docs)}"
    return docs[0]


def test_every_stream_to_search_link_has_a_reindex_task(result: dict[str, Any], stack: str) -> None:
    tasks = _reindex_tasks(result)
    expected = {name for s in topology().systems.values() for name in s.stream_links()}
    assert expected and set(tasks) == expected
    for system in topology().systems.values():
        for link_name, link in system.stream_links().items():
            task = tasks[link_name]
            (container,) = json.loads(task["inputs"]["containerDefinitions"])
            assert container["entryPoint"] == ["python", "-m", "sync.reindex"]
            assert container["command"][0] == f"{system.name}.{link.target}"
            env = {e["name"]: e["value"] for e in container["environment"]}
            src, dst = system.stores[link.source], system.stores[link.target]
            table = store_physical_name(system, stack, link.source)
            index = store_physical_name(system, stack, link.target)
            assert env[store_env_var(link.source, src) or "?"] == table
            assert env[store_env_var(link.target, dst) or "?"] == index
            assert env["OPENSEARCH_URL"].startswith("https://") and env["AWS_REGION"]
            assert container["image"].endswith(f"/{system.name}/{dst.owner}:latest")
            assert container["readonlyRootFilesystem"] is True


def test_the_reindex_role_rebuilds_one_index_from_one_table(result: dict[str, Any],
                                                             stack: str) -> None:  # fmt: skip
    for system in topology().systems.values():
        for link_name, link in system.stream_links().items():
            task = _reindex_tasks(result)[link_name]
            table = store_physical_name(system, stack, link.source)
            index = store_physical_name(system, stack, link.target)
            by_sid = {s["Sid"]: s for s in _task_policy(result, task)}
            assert set(by_sid) == {"ScanOwnTable", "ReadOwnStream", "DecryptTableAndStream",
                                   "RebuildOwnIndex"}  # fmt: skip
            scan = by_sid["ScanOwnTable"]
            assert sorted(scan["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:DescribeTable",
                                              "dynamodb:Scan"]  # fmt: skip
            assert [r.rsplit(":table/", 1)[1] for r in scan["Resource"]] == [table]
            stream = by_sid["ReadOwnStream"]
            assert all(f":table/{table}/stream/" in r for r in stream["Resource"])
            es = by_sid["RebuildOwnIndex"]
            assert all(a.startswith("es:ESHttp") for a in es["Action"])
            paths = sorted(r.split(":domain/", 1)[1].split("/", 1)[1] for r in es["Resource"])
            assert paths == sorted([index, f"{index}/*", f"{index}-*", f"_alias/{index}",
                                    "_aliases"])  # fmt: skip
            for s in by_sid.values():  # no wildcard resources, no write to the table
                assert all(r != "*" for r in s["Resource"])
                assert not any(a in s["Action"] for a in ("dynamodb:PutItem", "dynamodb:*"))


def test_the_search_bootstrap_maps_the_reindex_role_to_its_index_only(
    result: dict[str, Any], stack: str
) -> None:
    invocations = of_type(result, "aws:lambda/invocation:Invocation")
    payloads = [json.loads(i["inputs"]["input"]) for i in invocations
                if "indexes" in json.loads(i["inputs"]["input"])]  # fmt: skip
    specs = {s["name"]: s for p in payloads for s in p["indexes"]}
    for system in topology().systems.values():
        for link_name, link in system.stream_links().items():
            task = _reindex_tasks(result)[link_name]
            index = store_physical_name(system, stack, link.target)
            assert specs[index]["reindex_roles"] == [task["inputs"]["taskRoleArn"]]
            assert task["inputs"]["taskRoleArn"] not in specs[index]["iam_roles"]
