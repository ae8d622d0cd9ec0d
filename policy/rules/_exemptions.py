"""Deliberate patterns the rules accept, each through one precise condition.

Nothing here matches a resource by name and nothing switches a rule off: each entry
admits exactly the shape AWS forces (and says why); anything wider still fails. The same
list, with the tests that prove each condition narrow, is the "Exemptions" table of
docs/policy.md.
"""

from __future__ import annotations

import re
from typing import Any

from policy.model import Resource, UnknownValue, is_unknown, parse_json
from policy.rules._common import listed

# IAM actions without resource-level permissions: AWS accepts them only on Resource "*".
# (PS-IAM-01 param ``starResourceActions``; a statement is exempt only if *every* action
# in it is one of these.)
STAR_RESOURCE_ACTIONS = ["ecr:GetAuthorizationToken", "xray:PutTraceSegments",
                         "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"]

# AWS-managed policies accepted, each only on a role that exactly that service assumes:
# they hold the ``*`` grants the service needs (ENIs for Lambda in a VPC, RDS OS metrics,
# AWS Backup taking and restoring recovery points) and AWS keeps them current.
MANAGED_POLICIES: dict[str, str] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole":
        "lambda.amazonaws.com",
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole":
        "monitoring.rds.amazonaws.com",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup":
        "backup.amazonaws.com",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores":
        "backup.amazonaws.com",
}  # fmt: skip
AWS_MANAGED = "arn:aws:iam::aws:policy/"

# Egress to the internet: tcp/443 only, and only from a workload's own group (tagged
# polystore:role) — AWS APIs without an interface endpoint (S3 layers of ECR images, …),
# leaving through NAT. Never from a store's group, never another port.
OPEN_EGRESS_PORTS = (443,)

_ROOT = re.compile(r"^(?:arn:aws[\w-]*:iam::)?(\d{12})(?::root)?$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:[^:]+:[^:]*:(\d{12}):")


def key_policy_star_resource(statement: dict[str, Any]) -> bool:
    """In a KMS key policy ``Resource: "*"`` means "this key" and is the only form KMS
    accepts: exempt when every action of the statement is a ``kms:`` action."""
    actions = listed(statement.get("Action"))
    return bool(actions) and "NotAction" not in statement and all(
        a.startswith("kms:") for a in actions)


def trusted_services(role: Resource) -> set[str] | None:
    """Service principals allowed to assume ``role``; None when anything else may too
    (an AWS account, a federated principal, ``*``). Raises UnknownValue if computed."""
    doc = parse_json(role.inputs.get("assumeRolePolicy"), f"{role.name}.assumeRolePolicy")
    if not isinstance(doc, dict):
        return None
    services: set[str] = set()
    for s in doc.get("Statement") or []:
        if not isinstance(s, dict) or s.get("Effect", "Allow") != "Allow":
            continue
        p = s.get("Principal")
        if not isinstance(p, dict) or set(p) != {"Service"}:
            return None
        services.update(listed(p["Service"]))
    return services


def managed_policy_problem(arn: Any, role: Resource | None) -> str | None:
    """Why attaching ``arn`` to ``role`` is not one of the accepted managed policies."""
    if is_unknown(arn):
        raise UnknownValue("policyArn")
    arn = str(arn)
    if not arn.startswith(AWS_MANAGED):
        return None  # a customer-managed policy: its own aws:iam/policy resource is checked
    service = MANAGED_POLICIES.get(arn)
    if service is None:
        return (f"AWS-managed policy {arn} is not one of the reviewed exemptions; its "
                "statements cannot be checked here")
    if role is None:
        return f"AWS-managed policy {arn} attached to a role not in the stack"
    trusted = trusted_services(role)
    if trusted != {service}:
        return (f"AWS-managed policy {arn} is accepted only on a role assumed by {service} "
                f"alone; {role.name} is assumable by {sorted(trusted) if trusted else 'others'}")
    return None


def account_root(principal: Any) -> str | None:
    """The account id of an account-root principal (``arn:aws:iam::ID:root`` or ``ID``)."""
    m = _ROOT.match(principal) if isinstance(principal, str) else None
    return m.group(1) if m else None


def arn_accounts(resources: Any) -> set[str]:
    """Accounts of the ARNs a statement's Resource names."""
    return {m.group(1) for r in listed(resources) if (m := _ARN_ACCOUNT.match(r))}


def is_kafka_mapping(esm: Resource) -> bool:
    """An MSK or self-managed Kafka event source mapping (AWS rejects bisect and retry
    settings for them; an on-failure destination is what bounds a poison batch)."""
    arn = esm.inputs.get("eventSourceArn")
    return bool(esm.inputs.get("selfManagedEventSource")) or (
        isinstance(arn, str) and arn.startswith("arn:aws:kafka:")) or bool(
        esm.inputs.get("amazonManagedKafkaEventSourceConfig"))

