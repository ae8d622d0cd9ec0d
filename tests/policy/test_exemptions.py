"""Each deliberate pattern is accepted by one precise condition, and nothing wider is.

For every exemption of docs/policy.md: the shape the program deploys passes, and the
nearest shape outside the condition fails the same rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.engine import evaluate
from tests.policy.mutations import first

ACCOUNT = "123456789012"
VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def _fails(p: dict[str, Any], topology, rule_id: str) -> list[tuple[str | None, str]]:
    return [(f.resource_name, f.message) for f in evaluate(p, topology).failed()
            if f.rule_id == rule_id]


def _add(p: dict[str, Any], type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    r = {"urn": f"urn:pulumi:prod::polystore::{type_}::{name}", "type": type_, "name": name,
         "parent": None, "custom": True, "inputs": inputs, "options": {}}
    p["resources"].append(r)
    return r


def _role_policy(p: dict[str, Any], *statements: dict[str, Any]) -> None:
    _add(p, "aws:iam/rolePolicy:RolePolicy", "extra", {
        "role": "tcgstore-prod-order-task",
        "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})})


# --- Resource "*": only actions without resource-level permissions ----------------------

def test_ecr_login_on_star_passes(topology, preview) -> None:
    p = preview("tcgstore")
    _role_policy(p, {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
    assert _fails(p, topology, "PS-IAM-01") == []


@pytest.mark.parametrize("actions", [
    ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"],  # one action too many
    ["kms:Decrypt"],  # the KMS exemption holds in key policies only
    ["ecr:*"],
])
def test_star_resource_with_other_actions_fails(topology, preview, actions: list[str]) -> None:
    p = preview("tcgstore")
    _role_policy(p, {"Effect": "Allow", "Action": actions, "Resource": "*"})
    assert [n for n, m in _fails(p, topology, "PS-IAM-01") if "resource *" in m] == ["extra"]


# --- KMS key policies: "*" is the key, for kms: actions only ----------------------------

def test_key_policy_kms_actions_on_star_pass(topology, preview) -> None:
    p = preview("tcgstore")
    assert "Resource" in first(p, "aws:kms/key:Key")["inputs"]["policy"]
    assert _fails(p, topology, "PS-IAM-01") == []


@pytest.mark.parametrize("action, expect", [("s3:GetObject", "non-KMS actions"),
                                            ("*", "every action")])
def test_key_policy_wider_than_kms_fails(topology, preview, action: str, expect: str) -> None:
    p = preview("tcgstore")
    key = first(p, "aws:kms/key:Key")
    doc = json.loads(key["inputs"]["policy"])
    doc["Statement"].append({"Sid": "Wide", "Effect": "Allow", "Action": action,
                             "Resource": "*", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}})
    key["inputs"]["policy"] = json.dumps(doc)
    assert any(n == key["name"] and expect in m for n, m in _fails(p, topology, "PS-IAM-01"))


# --- AWS-managed policies: the reviewed list, on roles of their own service -------------

def _role(p: dict[str, Any], name: str, service: str) -> dict[str, Any]:
    return _add(p, "aws:iam/role:Role", name, {"name": name, "assumeRolePolicy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": service}}]})})


def _attach(p: dict[str, Any], role: str, arn: str) -> None:
    _add(p, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{role}-att",
         {"role": role, "policyArn": arn})


def test_lambda_vpc_policy_on_a_lambda_role_passes(topology, preview) -> None:
    p = preview("tcgstore")
    _role(p, "sync", "lambda.amazonaws.com")
    _attach(p, "sync", VPC_ACCESS)
    assert _fails(p, topology, "PS-IAM-01") == []


@pytest.mark.parametrize("service, arn, expect", [
    ("ecs-tasks.amazonaws.com", VPC_ACCESS, "only on a role assumed by lambda"),
    ("lambda.amazonaws.com", "arn:aws:iam::aws:policy/AdministratorAccess", "not one of"),
    ("lambda.amazonaws.com", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", "not one of"),
])
def test_other_managed_policies_or_roles_fail(topology, preview, service: str, arn: str,
                                              expect: str) -> None:
    p = preview("tcgstore")
    _role(p, "worker", service)
    _attach(p, "worker", arn)
    assert any(n == "worker-att" and expect in m for n, m in _fails(p, topology, "PS-IAM-01"))


def test_managed_policy_arns_on_the_role_itself_are_judged_too(topology, preview) -> None:
    p = preview("tcgstore")
    _role(p, "admin", "ecs-tasks.amazonaws.com")["inputs"]["managedPolicyArns"] = [
        "arn:aws:iam::aws:policy/AdministratorAccess"]
    assert [n for n, _ in _fails(p, topology, "PS-IAM-01")] == ["admin"]


# --- Kafka event source mappings: an on-failure destination, no bisect/retries ----------

def _kafka_esm(p: dict[str, Any], **extra: Any) -> None:
    _add(p, "aws:lambda/eventSourceMapping:EventSourceMapping", "sink", {
        "eventSourceArn": f"arn:aws:kafka:us-east-1:{ACCOUNT}:cluster/tcgstore-prod/u-1",
        "topics": ["tcgstore-prod-events"], "startingPosition": "TRIM_HORIZON", **extra})


def test_kafka_mapping_with_a_failure_destination_passes(topology, preview) -> None:
    p = preview("tcgstore")
    _kafka_esm(p, destinationConfig={"onFailure": {
        "destinationArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:sink-failures"}})
    assert _fails(p, topology, "PS-LMB-01") == []


def test_kafka_mapping_without_a_failure_destination_fails(topology, preview) -> None:
    p = preview("tcgstore")
    _kafka_esm(p)
    assert _fails(p, topology, "PS-LMB-01") == [
        ("sink", "Kafka mapping without destinationConfig.onFailure.destinationArn")]


def test_stream_mapping_still_needs_bisect(topology, preview) -> None:
    p = preview("tcgstore")
    first(p, "aws:lambda/eventSourceMapping:EventSourceMapping")["inputs"].pop(
        "bisectBatchOnFunctionError")
    assert [m for _, m in _fails(p, topology, "PS-LMB-01")] == [
        "bisectBatchOnFunctionError is not true"]


# --- Egress to the internet: tcp/443 from a workload group only -------------------------

def _egress(p: dict[str, Any], sg_name: str, **rule: Any) -> None:
    _add(p, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "out", {
        "securityGroupId": sg_name, "cidrIpv4": "0.0.0.0/0", "description": "out", **rule})


def test_workload_https_egress_passes(topology, preview) -> None:
    p = preview("tcgstore")
    _egress(p, "tcgstore-order-sg", ipProtocol="tcp", fromPort=443, toPort=443)
    assert _fails(p, topology, "PS-NET-07") == []


@pytest.mark.parametrize("sg, rule", [
    ("tcgstore-order-sg", {"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535}),
    ("tcgstore-order-sg", {"ipProtocol": "-1", "fromPort": 0, "toPort": 0}),
    ("tcgstore-order-sg", {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432}),
])
def test_other_open_egress_from_a_workload_fails(topology, preview, sg: str,
                                                 rule: dict[str, Any]) -> None:
    p = preview("tcgstore")
    _egress(p, sg, **rule)
    assert [n for n, _ in _fails(p, topology, "PS-NET-07")] == ["out"]


def test_https_egress_from_a_store_group_fails(topology, preview) -> None:
    p = preview("tcgstore")
    db_sg = first(p, "aws:ec2/securityGroup:SecurityGroup",
                  lambda r: "polystore:store" in r["inputs"]["tags"])
    db_sg["inputs"]["egress"].append({"description": "out", "protocol": "tcp", "fromPort": 443,
                                      "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]})
    assert [n for n, m in _fails(p, topology, "PS-NET-07")] == [db_sg["name"]]


def test_https_egress_from_an_untagged_group_fails(topology, preview) -> None:
    p = preview("tcgstore")
    _add(p, "aws:ec2/securityGroup:SecurityGroup", "stray", {
        "name": "stray", "description": "stray", "ingress": [], "tags": {},
        "egress": [{"description": "out", "protocol": "tcp", "fromPort": 443, "toPort": 443,
                    "cidrBlocks": ["0.0.0.0/0"]}]})
    assert [n for n, _ in _fails(p, topology, "PS-NET-07")] == ["stray"]


# --- OpenSearch: the own account's root, with fine-grained access control ---------------

def _access(p: dict[str, Any], account: str, **security: Any) -> dict[str, Any]:
    d = first(p, "aws:opensearch/domain:Domain")["inputs"]
    d["advancedSecurityOptions"].update(security)
    d["accessPolicies"] = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "es:ESHttpGet",
        "Resource": f"arn:aws:es:us-east-1:{ACCOUNT}:domain/{d['domainName']}/*"}]})
    return d


def test_own_account_root_with_fgac_passes(topology, preview) -> None:
    p = preview("tcgstore")
    _access(p, ACCOUNT, internalUserDatabaseEnabled=False)
    assert _fails(p, topology, "PS-OS-06") == []


@pytest.mark.parametrize("account, security, expect", [
    ("210987654321", {}, "not the domain's own account"),
    (ACCOUNT, {"internalUserDatabaseEnabled": True}, "without fine-grained access control"),
])
def test_foreign_root_or_no_fgac_fails(topology, preview, account: str,
                                       security: dict[str, Any], expect: str) -> None:
    p = preview("tcgstore")
    _access(p, account, **security)
    assert any(expect in m for _, m in _fails(p, topology, "PS-OS-06"))


# --- RDS-managed master secrets: judged through their cluster ---------------------------

def test_rds_managed_secret_needs_the_cmk(topology, preview) -> None:
    p = preview("bellyfed")
    cluster = first(p, "aws:rds/cluster:Cluster")
    assert _fails(p, topology, "PS-SEC-01") == []
    cluster["inputs"].pop("masterUserSecretKmsKeyId")
    assert _fails(p, topology, "PS-SEC-01") == [
        (cluster["name"], "RDS-managed master secret without masterUserSecretKmsKeyId")]
