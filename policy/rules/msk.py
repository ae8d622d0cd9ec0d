"""MSK Serverless and Kafka Connect rules (no public tool covers MSK Serverless today)."""

from __future__ import annotations

from collections.abc import Iterator

from policy.attribution import resolve
from policy.model import Resource, Rule, StackContext, as_list
from policy.rules._common import MSK_CONNECTOR, MSK_SERVERLESS, SUBNET
from policy.rules.network import subnet_is_public


class MskIamAuth(Rule):
    """IAM client authentication on the cluster and on every connector (with TLS).

    Checkov: none found for MSK Serverless; cdk-nag: none found (MSK2 covers provisioned TLS).
    """

    id, name, group = "PS-MSK-01", "msk-iam-client-auth", "msk"
    types = (MSK_SERVERLESS, MSK_CONNECTOR)
    reason = "Topic access is granted per service role; unauthenticated clients bypass it."
    remediation = ("ServerlessCluster: clientAuthentication.sasl.iam.enabled: true; Connector: "
                   "kafkaClusterClientAuthentication IAM and kafkaClusterEncryptionInTransit TLS.")

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == MSK_SERVERLESS:
            if r.get("clientAuthentication.sasl.iam.enabled") is not True:
                yield "clientAuthentication.sasl.iam.enabled is not true"
            return
        if r.get("kafkaClusterClientAuthentication.authenticationType") != "IAM":
            yield "kafkaClusterClientAuthentication.authenticationType is not IAM"
        if r.get("kafkaClusterEncryptionInTransit.encryptionType") != "TLS":
            yield "kafkaClusterEncryptionInTransit.encryptionType is not TLS"


class MskPrivateSubnets(Rule):
    """Cluster and connectors only in private subnets.

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-MSK-02", "msk-private-subnets", "msk"
    types = (MSK_SERVERLESS, MSK_CONNECTOR)
    cross_resource = True
    reason = "Brokers and workers must not be reachable from, or route to, the internet directly."
    remediation = "Use the VPC's private (or isolated) subnets only."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == MSK_SERVERLESS:
            subnets = [s for vc in as_list(r.get("vpcConfigs")) if isinstance(vc, dict)
                       for s in as_list(vc.get("subnetIds"))]
        else:
            subnets = as_list(r.get("kafkaCluster.apacheKafkaCluster.vpc.subnets"))
        if not subnets:
            yield "no subnets configured"
        for i, ref in enumerate(subnets):
            subnet = resolve(ref, ctx.of_type(SUBNET), f"subnets.{i}", r)
            if subnet is not None and subnet_is_public(subnet):
                yield f"subnet {subnet.name} is public"


RULES: list[type[Rule]] = [MskIamAuth, MskPrivateSubnets]
