"""Every rule, grouped by service. ``all_rules()`` is the registry engine and pack share."""

from __future__ import annotations

from policy.model import Rule
from policy.rules import (
    dynamodb,
    ecs_lambda_iam,
    msk,
    network,
    opensearch,
    rds,
    secrets_kms_backup,
    topology,
)

GROUPS = {
    "rds": rds.RULES,
    "dynamodb": dynamodb.RULES,
    "opensearch": opensearch.RULES,
    "msk": msk.RULES,
    "secrets_kms_backup": secrets_kms_backup.RULES,
    "network": network.RULES,
    "ecs_lambda_iam": ecs_lambda_iam.RULES,
    "topology": topology.RULES,
}


def all_rules() -> list[Rule]:
    """One instance of every rule, in group order; ids are unique (checked by a test)."""
    return [cls() for rules in GROUPS.values() for cls in rules]
