"""Every rule passes on a compliant stack and fails, naming itself and the resource, when
that stack is broken in the one way the rule guards against."""

from __future__ import annotations

import pytest

from policy.engine import evaluate
from policy.rules import GROUPS, all_rules
from tests.policy.mutations import MUTATIONS, first

RULES = all_rules()


def test_rule_ids_unique_and_described() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.__doc__ and r.reason and r.remediation and r.types, r.id
        assert r.level in ("advisory", "mandatory")
        # every docstring names the public tools' ids or says there are none
        assert any(k in r.__doc__ for k in ("CKV", "AwsSolutions", "AWSGuard", "none found")), r.id


def test_every_rule_has_a_failing_example() -> None:
    assert set(MUTATIONS) == {r.id for r in RULES}


@pytest.mark.parametrize("system", ["tcgstore", "bellyfed", "order-processor", "inventory",
                                    "ecommerce"])
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_compliant_stack_passes_every_rule(topology, preview, system: str, env: str) -> None:
    report = evaluate(preview(system, env), topology)
    assert report.findings == []
    assert report.levels and not report.blocked


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_rule_fails_on_its_mutation(topology, preview, rule_id: str) -> None:
    system, mutate = MUTATIONS[rule_id]
    p = preview(system, "prod")
    mutate(p)
    report = evaluate(p, topology)
    failed = {f.rule_id for f in report.failed()}
    assert rule_id in failed, report.findings
    # a mutation breaks its own rule (topology rules may echo another group's finding)
    assert failed - {rule_id} <= {"PS-DDB-01", "PS-DDB-07", "PS-RDS-15", "PS-DDB-04",
                                  "PS-NET-02", "PS-NET-01", "PS-IAM-01", "PS-TOPO-03",
                                  "PS-TOPO-01", "PS-TOPO-04", "PS-TOPO-05", "PS-DDB-05",
                                  "PS-RDS-04"}


def test_prod_only_rules_skip_dev(topology, preview) -> None:
    p = preview("bellyfed", "dev")
    first(p, "aws:rds/cluster:Cluster")["inputs"]["deletionProtection"] = False
    assert evaluate(p, topology).findings == []


def test_groups_cover_the_issue() -> None:
    assert set(GROUPS) == {"rds", "dynamodb", "opensearch", "msk", "secrets_kms_backup",
                           "network", "ecs_lambda_iam", "topology"}
