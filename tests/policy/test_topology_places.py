"""A finding about a declared store names the topology key, its ``path:line`` and the fix,
besides the rule's Pulumi property hint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from policy.engine import evaluate
from policy.formats import sarif, text
from policy.rules import all_rules
from policy.topology_keys import RULE_KEYS
from polystore.topology.loader import REPO_ROOT, load_topology
from polystore.topology.model import Topology
from tests.policy.stack_builder import build


@pytest.fixture
def stacks_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "stacks", tmp_path / "stacks")
    return tmp_path / "stacks"


def _table(preview: dict[str, Any], store: str) -> dict[str, Any]:
    return next(r for r in preview["resources"] if r["type"] == "aws:dynamodb/table:Table"
                and r["inputs"]["tags"].get("polystore:store") == store)  # fmt: skip


def _declare_pitr_false(stacks: Path, store: str) -> tuple[Path, int]:
    """Write ``pitr: false`` on ``store`` of order-processor; return (file, line)."""
    path = stacks / "order-processor.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line == f"  {store}:\n")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "pitr: true")
    lines[at] = lines[at].replace("pitr: true", "pitr: false")
    path.write_text("".join(lines))
    return path.resolve(), at + 1


def test_declared_pitr_false_is_reported_at_its_line(stacks_copy: Path) -> None:
    path, line = _declare_pitr_false(stacks_copy, "users")
    topology = load_topology([stacks_copy])
    preview = build(topology.systems["order-processor"], "prod")
    # what the program makes of `pitr: false`
    _table(preview, "users")["inputs"]["pointInTimeRecovery"] = {"enabled": False}
    report = evaluate(preview, topology)
    [finding] = [f for f in report.failed() if f.rule_id == "PS-DDB-01"]
    assert finding.topology_file == str(path) and finding.topology_line == line
    assert finding.topology is not None
    assert finding.topology.endswith(f"order-processor.yaml:{line}: pitr: true")
    rendered = text([report])
    assert f"order-processor.yaml:{line}: pitr: true" in rendered
    assert "Set pointInTimeRecovery: {enabled: true}." in rendered  # the Pulumi hint stays
    doc = json.loads(sarif([report]))
    locations = [loc for res in doc["runs"][0]["results"] if res["ruleId"] == "PS-DDB-01"
                 for loc in res["locations"]]  # fmt: skip
    assert locations[0]["physicalLocation"]["region"]["startLine"] == line
    assert locations[0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "order-processor.yaml"
    )


def test_a_key_left_to_its_default_points_at_the_store(topology: Topology) -> None:
    system = topology.systems["order-processor"]
    assert not system.declares("stores", "users", "deletion_protection")
    preview = build(system, "prod")
    _table(preview, "users")["inputs"]["deletionProtectionEnabled"] = False
    report = evaluate(preview, topology)
    [finding] = [f for f in report.failed() if f.rule_id == "PS-DDB-03"]
    assert finding.topology_line == system.line_of("stores", "users")
    assert "deletion_protection: true (not declared" in (finding.topology or "")


def test_findings_not_about_a_store_key_have_no_topology_place(topology: Topology) -> None:
    preview = build(topology.systems["order-processor"], "prod")
    _table(preview, "users")["inputs"]["serverSideEncryption"] = {"enabled": False}
    report = evaluate(preview, topology)
    [finding] = [f for f in report.failed() if f.rule_id == "PS-DDB-02"]
    assert finding.topology is None


def test_every_mapped_rule_exists_and_every_key_is_a_store_field() -> None:
    from polystore.topology.model import DynamoStore, PostgresStore, SearchStore, TopicStore

    fields = {"dynamodb": DynamoStore, "postgres": PostgresStore, "search": SearchStore,
              "topic": TopicStore}  # fmt: skip
    ids = {r.id for r in all_rules()}
    for (rule_id, kind), key in RULE_KEYS.items():
        assert rule_id in ids, rule_id
        assert key.key in fields[kind].model_fields, (rule_id, key.key)
