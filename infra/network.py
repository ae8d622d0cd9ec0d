"""Network: one VPC per system over the environment's AZs, three subnet tiers.

public (NAT gateways only) · private (services, Lambdas, Kafka) · isolated (databases,
search; no route out). NAT per profile, a DynamoDB gateway endpoint, interface endpoints
for what the services and handlers call, VPC flow logs to an encrypted log group, and the
default security group stripped of every rule.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.common import TAG_TIER, Context, child, inline_policy, log_group, role, statement

# Interface endpoints the services, Lambdas and ECS need without a NAT hop.
INTERFACE_ENDPOINTS = ("secretsmanager", "kms", "logs", "ecr.api", "ecr.dkr", "sts")


@dataclass(frozen=True)
class NetworkArgs:
    ctx: Context
    cidr: str
    zones: tuple[str, ...]
    nat_gateways: int
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:network:Network", name, None, opts)
        ctx = args.ctx
        net = ipaddress.ip_network(args.cidr)
        # /20 blocks: 0-5 public, 6-11 private, 12-15 isolated (up to 4 AZs there).
        blocks = list(net.subnets(new_prefix=20))
        self.cidr = args.cidr
        self.vpc = aws.ec2.Vpc(name, cidr_block=args.cidr, enable_dns_hostnames=True,
                               enable_dns_support=True,
                               tags={"Name": ctx.prefix}, opts=child(self))
        aws.ec2.DefaultSecurityGroup(  # no ingress, no egress: nothing may use it
            f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[],
            tags={"Name": f"{ctx.prefix}-default-closed"}, opts=child(self))
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=child(self))

        def subnet(tier: str, i: int, zone: str, block: ipaddress.IPv4Network) -> aws.ec2.Subnet:
            return aws.ec2.Subnet(
                f"{name}-{tier}-{zone}", vpc_id=self.vpc.id, cidr_block=str(block),
                availability_zone=zone, map_public_ip_on_launch=False,
                tags={"Name": f"{ctx.prefix}-{tier}-{zone}", TAG_TIER: tier}, opts=child(self))

        public = [subnet("public", i, z, blocks[i]) for i, z in enumerate(args.zones)]
        private = [subnet("private", i, z, blocks[6 + i]) for i, z in enumerate(args.zones)]
        isolated = [subnet("isolated", i, z, blocks[12 + i]) for i, z in enumerate(args.zones)]

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=self.vpc.id,
                                       opts=child(self))
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_rt.id,
                      destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=child(self))
        for s, z in zip(public, args.zones, strict=True):
            aws.ec2.RouteTableAssociation(f"{name}-public-{z}", subnet_id=s.id,
                                          route_table_id=public_rt.id, opts=child(self))
        nats = []
        for i in range(args.nat_gateways):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", opts=child(self))
            nats.append(aws.ec2.NatGateway(f"{name}-nat-{i}", allocation_id=eip.id,
                                           subnet_id=public[i].id,
                                           opts=child(self, depends_on=[igw])))
        private_rts = []
        for i, (s, z) in enumerate(zip(private, args.zones, strict=True)):
            rt = aws.ec2.RouteTable(f"{name}-private-rt-{z}", vpc_id=self.vpc.id,
                                    opts=child(self))
            aws.ec2.Route(f"{name}-private-default-{z}", route_table_id=rt.id,
                          destination_cidr_block="0.0.0.0/0",
                          nat_gateway_id=nats[i % len(nats)].id, opts=child(self))
            aws.ec2.RouteTableAssociation(f"{name}-private-{z}", subnet_id=s.id,
                                          route_table_id=rt.id, opts=child(self))
            private_rts.append(rt)
        isolated_rt = aws.ec2.RouteTable(f"{name}-isolated-rt", vpc_id=self.vpc.id,
                                         opts=child(self))
        for s, z in zip(isolated, args.zones, strict=True):
            aws.ec2.RouteTableAssociation(f"{name}-isolated-{z}", subnet_id=s.id,
                                          route_table_id=isolated_rt.id, opts=child(self))

        aws.ec2.VpcEndpoint(
            f"{name}-dynamodb", vpc_id=self.vpc.id, vpc_endpoint_type="Gateway",
            service_name=f"com.amazonaws.{ctx.region}.dynamodb",
            route_table_ids=[rt.id for rt in private_rts], opts=child(self))
        self.endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=self.vpc.id,
            description=f"{ctx.prefix}: interface endpoints, HTTPS from inside the VPC",
            opts=child(self))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https", security_group_id=self.endpoint_sg.id,
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=args.cidr,
            description="HTTPS to AWS APIs from workloads in this VPC", opts=child(self))
        for svc in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{svc.replace('.', '-')}", vpc_id=self.vpc.id,
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                service_name=f"com.amazonaws.{ctx.region}.{svc}",
                subnet_ids=[s.id for s in private], security_group_ids=[self.endpoint_sg.id],
                opts=child(self))

        flow_logs = log_group(f"{name}-flow-logs", f"/polystore/{ctx.prefix}/vpc-flow-logs",
                              args.log_retention_days, args.logs_key_arn, self)
        flow_role = role(f"{name}-flow-logs", f"{ctx.prefix}-vpc-flow-logs",
                         "vpc-flow-logs.amazonaws.com", self, "VPC flow logs delivery")
        inline_policy(f"{name}-flow-logs", flow_role, [statement(
            ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [flow_logs.arn, pulumi.Output.concat(flow_logs.arn, ":*")])], self)
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=self.vpc.id, traffic_type="ALL",
                        log_destination_type="cloud-watch-logs",
                        log_destination=flow_logs.arn, iam_role_arn=flow_role.arn,
                        opts=child(self))

        self.vpc_id = self.vpc.id
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.isolated_subnet_ids = [s.id for s in isolated]
        self.register_outputs({
            "vpc_id": self.vpc_id, "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "isolated_subnet_ids": self.isolated_subnet_ids,
        })
