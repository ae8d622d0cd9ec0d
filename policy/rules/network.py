"""Network rules: ingress exposure, database security groups, flow logs, subnets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policy.attribution import TAG_ROLE, TAG_STORE, TAG_STORES, inherited_tag, resolve
from policy.model import Resource, Rule, StackContext, UnknownValue, Violation, as_list, is_unknown
from policy.rules._common import (
    DEFAULT_SG,
    FLOW_LOG,
    MSK_SERVERLESS,
    OPENSEARCH_DOMAIN,
    RDS_CLUSTER,
    RDS_INSTANCE,
    SG,
    SG_EGRESS,
    SG_INGRESS,
    SG_RULE,
    SUBNET,
    VPC,
)
from policy.rules._exemptions import OPEN_EGRESS_PORTS
from polystore.tags import TAG_TIER

OPEN = ("0.0.0.0/0", "::/0")


def ingress_entries(r: Resource) -> list[dict[str, Any]]:
    """Ingress rules of an SG, SG rule or ingress-rule resource, in one shape."""
    if r.type in (SG, DEFAULT_SG):
        return [e for e in as_list(r.get("ingress")) if isinstance(e, dict)]
    if r.type == SG_RULE and r.get("type") == "ingress":
        return [dict(r.inputs)]
    if r.type == SG_INGRESS:
        e = dict(r.inputs)
        e["cidrBlocks"] = [e["cidrIpv4"]] if e.get("cidrIpv4") else []
        e["ipv6CidrBlocks"] = [e["cidrIpv6"]] if e.get("cidrIpv6") else []
        if e.get("referencedSecurityGroupId"):
            e["securityGroups"] = [e["referencedSecurityGroupId"]]
        return [e]
    return []


def cidrs(entry: dict[str, Any]) -> list[str]:
    return [str(c) for c in as_list(entry.get("cidrBlocks")) + as_list(entry.get("ipv6CidrBlocks"))]


def subnet_is_public(subnet: Resource) -> bool:
    tier = subnet.tags().get(TAG_TIER) or ""
    return tier == "public" or (not tier and subnet.get("mapPublicIpOnLaunch") is True)


class NoOpenIngress(Rule):
    """No ingress from 0.0.0.0/0 or ::/0 to anything.

    Checkov CKV_AWS_24 (port 22), CKV_AWS_25 (port 3389) — ours covers every port;
    cdk-nag AwsSolutions-EC23.
    """

    id, name, group = "PS-NET-01", "no-open-ingress", "network"
    types = (SG, SG_RULE, SG_INGRESS)
    reason = "The data tier has no public entry point; nothing admits the whole internet."
    remediation = "Admit the calling security group instead of a CIDR range."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        for e in ingress_entries(r):
            for c in cidrs(e):
                if c in OPEN:
                    yield f"ingress from {c} on ports {e.get('fromPort')}-{e.get('toPort')}"


def database_security_groups(ctx: StackContext) -> dict[str, Resource]:
    """SG urn → SG for every group attached to a database, domain or Kafka cluster."""
    refs: list[Any] = []
    for r in ctx.of_type(RDS_CLUSTER, RDS_INSTANCE):
        refs += as_list(r.inputs.get("vpcSecurityGroupIds"))
    for r in ctx.of_type(OPENSEARCH_DOMAIN):
        refs += as_list((r.inputs.get("vpcOptions") or {}).get("securityGroupIds"))
    for r in ctx.of_type(MSK_SERVERLESS):
        for vc in as_list(r.inputs.get("vpcConfigs")):
            refs += as_list(vc.get("securityGroupIds")) if isinstance(vc, dict) else []
    out: dict[str, Resource] = {}
    for ref in refs:
        if is_unknown(ref):
            continue
        sg = resolve(ref, ctx.of_type(SG), "vpcSecurityGroupIds")
        if sg is not None:
            out[sg.urn] = sg
    for sg in ctx.of_type(SG):  # groups tagged as a store's are database groups too
        if sg.tags().get(TAG_STORE):
            out[sg.urn] = sg
    return out


def ingress_of(sg: Resource, ctx: StackContext) -> Iterator[tuple[Resource, dict[str, Any]]]:
    """(resource carrying the rule, rule) for every ingress rule of an SG."""
    for e in ingress_entries(sg):
        yield sg, e
    for r in ctx.of_type(SG_RULE, SG_INGRESS):
        try:
            target = resolve(r.inputs.get("securityGroupId"), [sg], f"{r.name}.securityGroupId",
                             r)
        except UnknownValue:
            target = None
        if target is not None:
            for e in ingress_entries(r):
                yield r, e


class DatabaseSgNoCidr(Rule):
    """Database security groups admit only security groups, never CIDR ranges.

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-NET-02", "database-sg-no-cidr", "network"
    types = (SG,)
    cross_resource = True
    reason = "A CIDR admits every workload in the range, not the one service that owns the data."
    remediation = "Replace cidrBlocks with the owning service's security group."

    def check_stack(self, ctx: StackContext) -> Iterator[Any]:

        for sg in database_security_groups(ctx).values():
            for carrier, e in ingress_of(sg, ctx):
                if cidrs(e) or e.get("self") is True or as_list(e.get("prefixListIds")):
                    what = cidrs(e) or "a non-SG source"
                    yield Violation(f"database group {sg.name} admits {what}",
                                    carrier)


class RuleDescriptions(Rule):
    """Every security group and rule has a description.

    Checkov CKV_AWS_23; cdk-nag AwsSolutions-EC27 (group description).
    """

    id, name, group = "PS-NET-03", "security-group-rule-descriptions", "network"
    types = (SG, SG_RULE, SG_INGRESS, SG_EGRESS)
    reason = "A rule nobody can explain is a rule nobody dares remove."
    remediation = "Add description to the group and to each ingress/egress rule."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == SG:
            if not r.get("description") or r.get("description") == "Managed by Pulumi":
                yield "security group without a description"
            entries = as_list(r.get("ingress")) + as_list(r.get("egress"))
        else:
            entries = [r.inputs]
        for i, e in enumerate(entries):
            if isinstance(e, dict) and not e.get("description"):
                yield f"rule {i} ({e.get('fromPort')}-{e.get('toPort')}) has no description"


def _vpcs_without(ctx: StackContext, kind: str, what: str) -> Iterator[Any]:

    vpcs = ctx.of_type(VPC)
    attached = ctx.of_type(kind)
    unresolved = 0
    covered: set[str] = set()
    for a in attached:
        try:
            vpc = resolve(a.inputs.get("vpcId"), vpcs, f"{a.name}.vpcId", a)
        except UnknownValue:
            unresolved += 1
            continue
        if vpc is not None:
            covered.add(vpc.urn)
    missing = [v for v in vpcs if v.urn not in covered]
    for i, v in enumerate(missing):
        if i < unresolved:
            yield Violation(f"vpcId of a {what} is computed; cannot tell it is this VPC's", v,
                            unknown=True)
        else:
            yield Violation(f"VPC has no {what}", v)


class FlowLogs(Rule):
    """Every VPC has flow logs.

    Checkov CKV2_AWS_11; cdk-nag AwsSolutions-VPC7.
    """

    id, name, group = "PS-NET-04", "vpc-flow-logs", "network"
    types = (VPC,)
    cross_resource = True
    reason = "Flow logs are the record of who talked to the databases."
    remediation = "Add an aws.ec2.FlowLog for the VPC."

    def check_stack(self, ctx: StackContext) -> Iterator[Any]:
        yield from _vpcs_without(ctx, FLOW_LOG, "flow log")


class DefaultSgClosed(Rule):
    """The default security group of every VPC admits and emits nothing.

    Checkov CKV2_AWS_12.
    """

    id, name, group = "PS-NET-05", "default-security-group-closed", "network"
    types = (VPC, DEFAULT_SG)
    cross_resource = True
    reason = "Anything launched without a group lands in the default one."
    remediation = "Adopt it with aws.ec2.DefaultSecurityGroup and no ingress/egress."

    def check_stack(self, ctx: StackContext) -> Iterator[Any]:

        yield from _vpcs_without(ctx, DEFAULT_SG, "adopted default security group")
        for d in ctx.of_type(DEFAULT_SG):
            if as_list(d.inputs.get("ingress")) or as_list(d.inputs.get("egress")):
                yield Violation("default security group has rules", d)


class NoPublicIpPrivateSubnets(Rule):
    """No auto-assigned public IPs in private or isolated subnets.

    Checkov CKV_AWS_130 (which flags every subnet).
    """

    id, name, group = "PS-NET-06", "private-subnets-no-public-ip", "network"
    types = (SUBNET,)
    reason = "An instance in a private subnet with a public IP is not private."
    remediation = "Set mapPublicIpOnLaunch: false (and tag polystore:tier)."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        tier = r.tags().get(TAG_TIER)
        if tier != "public" and r.get("mapPublicIpOnLaunch") is True:
            yield f"mapPublicIpOnLaunch in a {tier or 'untagged (assumed private)'} subnet"


class NoOpenEgress(Rule):
    """Egress to 0.0.0.0/0 or ::/0 only on tcp/443, only from a workload's own group.

    Exemption (docs/policy.md): workload groups (tagged ``polystore:role``) reach AWS APIs
    without an interface endpoint through NAT on 443; no store's group, no other port or
    protocol, no untagged group.

    Checkov CKV_AWS_382 (egress to 0.0.0.0/0 on all ports); cdk-nag: none found.
    """

    id, name, group = "PS-NET-07", "no-open-egress", "network"
    types = (SG, SG_RULE, SG_EGRESS)
    cross_resource = True
    reason = "Open egress is how data leaves; only HTTPS to AWS APIs has a reason to."
    remediation = ("Egress to the VPC CIDR or a security group; to the internet only tcp/443 "
                   "from a workload group (tagged polystore:role).")

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.type == SG:
            group, entries = r, [e for e in as_list(r.get("egress")) if isinstance(e, dict)]
        elif r.type == SG_RULE:
            if r.get("type") != "egress":
                return
            group = resolve(r.inputs.get("securityGroupId"), ctx.of_type(SG),
                            f"{r.name}.securityGroupId", r)
            entries = [dict(r.inputs)]
        else:
            group = resolve(r.inputs.get("securityGroupId"), ctx.of_type(SG),
                            f"{r.name}.securityGroupId", r)
            e = dict(r.inputs)
            e["cidrBlocks"] = [e["cidrIpv4"]] if e.get("cidrIpv4") else []
            e["ipv6CidrBlocks"] = [e["cidrIpv6"]] if e.get("cidrIpv6") else []
            e["protocol"] = e.get("ipProtocol")
            entries = [e]
        for e in entries:
            open_ = [c for c in cidrs(e) if c in OPEN]
            if not open_:
                continue
            ports = (e.get("fromPort"), e.get("toPort"))
            https = str(e.get("protocol")).lower() in ("tcp", "6") and ports[0] == ports[1] \
                and ports[0] in OPEN_EGRESS_PORTS
            workload = group is not None and bool(inherited_tag(group, ctx, TAG_ROLE)) and not (
                inherited_tag(group, ctx, TAG_STORE) or inherited_tag(group, ctx, TAG_STORES))
            if not (https and workload):
                who = group.name if group is not None else "an unknown group"
                yield (f"egress to {open_[0]} on {e.get('protocol')} {ports[0]}-{ports[1]} from "
                       f"{who}" + ("" if workload else " (not a workload group)"))


RULES: list[type[Rule]] = [NoOpenIngress, DatabaseSgNoCidr, RuleDescriptions, FlowLogs,
                           DefaultSgClosed, NoPublicIpPrivateSubnets, NoOpenEgress]
