"""OpenSearch domain rules: network placement, encryption, access control, HA, logs."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import Resource, Rule, StackContext, as_list
from policy.rules._common import OPENSEARCH_DOMAIN, listed, statements
from policy.rules._exemptions import account_root, arn_accounts

DOMAIN = (OPENSEARCH_DOMAIN,)
TLS12_POLICIES = ("Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10")


class OsInVpc(Rule):
    """Domain inside the VPC.

    Checkov CKV_AWS_137; AWSGuard elasticsearch-in-vpc-only; cdk-nag AwsSolutions-OS1.
    """

    id, name, group = "PS-OS-01", "opensearch-in-vpc", "opensearch"
    types = DOMAIN
    reason = "A public domain endpoint is one leaked credential away from the internet."
    remediation = "Set vpcOptions with private subnetIds and securityGroupIds."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not as_list(r.get("vpcOptions.subnetIds")):
            yield "no vpcOptions.subnetIds: the domain has a public endpoint"


class OsEncryptedAtRestCmk(Rule):
    """Encryption at rest with a customer-managed key.

    Checkov CKV_AWS_5, CKV_AWS_247; AWSGuard elasticsearch-encrypted-at-rest;
    cdk-nag AwsSolutions-OS8.
    """

    id, name, group = "PS-OS-02", "opensearch-encrypted-at-rest-cmk", "opensearch"
    types = DOMAIN
    reason = "Indexes copy table data; they are encrypted like the tables."
    remediation = "Set encryptAtRest: {enabled: true, kmsKeyId: <data CMK>}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("encryptAtRest.enabled") is not True:
            yield "encryptAtRest.enabled is not true"
        elif not r.get("encryptAtRest.kmsKeyId"):
            yield "no encryptAtRest.kmsKeyId (AWS-managed key)"


class OsNodeToNode(Rule):
    """Node-to-node encryption.

    Checkov CKV_AWS_6; cdk-nag AwsSolutions-OS2.
    """

    id, name, group = "PS-OS-03", "opensearch-node-to-node-encryption", "opensearch"
    types = DOMAIN
    reason = "Shard replication traffic carries documents."
    remediation = "Set nodeToNodeEncryption: {enabled: true}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("nodeToNodeEncryption.enabled") is not True:
            yield "nodeToNodeEncryption.enabled is not true"


class OsHttpsTls12(Rule):
    """HTTPS enforced with a TLS 1.2+ security policy.

    Checkov CKV_AWS_83 (HTTPS), CKV_AWS_228 (TLS policy).
    """

    id, name, group = "PS-OS-04", "opensearch-https-tls12", "opensearch"
    types = DOMAIN
    reason = "Clients must not reach the domain over clear text or TLS 1.0/1.1."
    remediation = "Set domainEndpointOptions: {enforceHttps: true, tlsSecurityPolicy: TLS 1.2+}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("domainEndpointOptions.enforceHttps") is not True:
            yield "domainEndpointOptions.enforceHttps is not true"
        policy = r.get("domainEndpointOptions.tlsSecurityPolicy")
        if policy not in TLS12_POLICIES:
            yield f"tlsSecurityPolicy {policy!r} allows TLS < 1.2"


class OsFineGrainedAccess(Rule):
    """Fine-grained access control on.

    Checkov CKV2_AWS_52.
    """

    id, name, group = "PS-OS-05", "opensearch-fine-grained-access", "opensearch"
    types = DOMAIN
    reason = "Index-level permissions keep one service's index from another's role."
    remediation = "Set advancedSecurityOptions: {enabled: true, ...}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("advancedSecurityOptions.enabled") is not True:
            yield "advancedSecurityOptions.enabled is not true"


class OsNoAnonymousAccess(Rule):
    """No anonymous access: no anonymous auth, no unconditioned ``*`` principal.

    Exemption (docs/policy.md): an account-root principal delegates to IAM, so it is
    accepted only for the domain's own account (the account of the statement's Resource)
    and only with fine-grained access control on and the internal user database off —
    then each role reaches only the indexes its FGAC role mapping names.

    cdk-nag AwsSolutions-OS5.
    """

    id, name, group = "PS-OS-06", "opensearch-no-anonymous-access", "opensearch"
    types = DOMAIN
    reason = "Unsigned requests bypass every IAM control."
    remediation = ("Disable anonymousAuthEnabled; name principals in accessPolicies (the own "
                   "account's root only with fine-grained access control and IAM users).")

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("advancedSecurityOptions.anonymousAuthEnabled") is True:
            yield "advancedSecurityOptions.anonymousAuthEnabled is true"
        fgac = r.get("advancedSecurityOptions.enabled") is True and r.get(
            "advancedSecurityOptions.internalUserDatabaseEnabled") is not True
        for i, s in enumerate(statements(r.inputs.get("accessPolicies"), "accessPolicies")):
            if s.get("Effect") != "Allow":
                continue
            if _star_principal(s) and not s.get("Condition"):
                yield "accessPolicies allows principal * without a condition"
            p = s.get("Principal")
            roots = {a for v in (listed(p.get("AWS")) if isinstance(p, dict) else [])
                     if (a := account_root(v))}
            own = arn_accounts(s.get("Resource"))
            for account in sorted(roots):
                if len(own) != 1 or account not in own:
                    yield (f"accessPolicies statement {s.get('Sid', i)} admits account {account} "
                           f"(root), not the domain's own account {sorted(own) or '?'}")
                elif not fgac:
                    yield (f"accessPolicies statement {s.get('Sid', i)} admits the account root "
                           "without fine-grained access control (IAM users) to narrow it")


def _star_principal(statement: dict[str, object]) -> bool:
    p = statement.get("Principal")
    if p == "*":
        return True
    return isinstance(p, dict) and "*" in listed(p.get("AWS"))


class OsDedicatedMasters(Rule):
    """Three dedicated master nodes in prod.

    Checkov CKV_AWS_318, CKV2_AWS_59; cdk-nag AwsSolutions-OS4.
    """

    id, name, group = "PS-OS-07", "opensearch-dedicated-masters", "opensearch"
    types = DOMAIN
    reason = "Data nodes under load must not also elect the cluster manager."
    remediation = "Set clusterConfig.dedicatedMasterEnabled: true, dedicatedMasterCount: 3."
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("clusterConfig.dedicatedMasterEnabled") is not True:
            yield "clusterConfig.dedicatedMasterEnabled is not true"
        elif int(r.get("clusterConfig.dedicatedMasterCount", 0)) < 3:
            yield "fewer than 3 dedicated master nodes"


class OsZoneAwareness(Rule):
    """Zone awareness in prod.

    cdk-nag AwsSolutions-OS7.
    """

    id, name, group = "PS-OS-08", "opensearch-zone-awareness", "opensearch"
    types = DOMAIN
    reason = "Replicas in another AZ keep search up through an AZ outage."
    remediation = "Set clusterConfig.zoneAwarenessEnabled: true (availabilityZoneCount ≥ 2)."
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("clusterConfig.zoneAwarenessEnabled") is not True:
            yield "clusterConfig.zoneAwarenessEnabled is not true"


class OsLogsPublished(Rule):
    """Search/index slow logs and error (application) logs published.

    Checkov CKV_AWS_84; cdk-nag AwsSolutions-OS9.
    """

    id, name, group = "PS-OS-09", "opensearch-logs-published", "opensearch"
    types = DOMAIN
    reason = "Slow and error logs are how a bad query or mapping gets found."
    remediation = "Add logPublishingOptions for each log type in logTypes (see config)."
    params = {"logTypes": ["SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"]}

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        published = {o.get("logType") for o in as_list(r.get("logPublishingOptions"))
                     if isinstance(o, dict) and o.get("enabled", True) is not False
                     and o.get("cloudwatchLogGroupArn")}
        for log_type in self.param(ctx, "logTypes"):
            if log_type not in published:
                yield f"{log_type} not published"


RULES: list[type[Rule]] = [OsInVpc, OsEncryptedAtRestCmk, OsNodeToNode, OsHttpsTls12,
                           OsFineGrainedAccess, OsNoAnonymousAccess, OsDedicatedMasters,
                           OsZoneAwareness, OsLogsPublished]
