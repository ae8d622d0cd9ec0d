"""StreamingPlatform: a system's topics on MSK Serverless, CDC via Debezium, the CDC sink.

Deployed where a system has topic stores: event and analytics links publish on topics
too, so they need a broker even without CDC (decision documented in docs/infra.md).
MSK Serverless with IAM client auth in the private subnets. Topics are created by a
one-off ``kafka-admin`` ECS task whose command is generated from the topology (partitions,
retention). Where the system has CDC links: Kafka Connect running Debezium on Fargate
(one connector per link, its config generated here) and a Lambda sink fed by an MSK event
source mapping, writing the DynamoDB read model.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from cdc.connector import Database, connector_config, connector_name, worker_auth
from infra.common import Context, child, statement, stores_tags
from polystore.topology.model import System

IAM_PORT = 9098


def kafka_arn(cluster_arn: pulumi.Input[str], kind: str, name: str) -> pulumi.Output[str]:
    """ARN of a topic or consumer group: ``...:cluster/N/U`` → ``...:topic/N/U/name``."""
    return pulumi.Output.from_input(cluster_arn).apply(
        lambda a: a.replace(":cluster/", f":{kind}/", 1) + f"/{name}")


def client_statements(cluster_arn: pulumi.Input[str], *, write: tuple[str, ...] = (),
                      read: tuple[str, ...] = (), group: str | None = None,
                      create: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """IAM statements of a Kafka client: connect, then only the named topics and group."""
    out = [statement(["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                     [cluster_arn], sid="KafkaConnect")]
    if write:
        out.append(statement(["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                             [kafka_arn(cluster_arn, "topic", t) for t in write],
                             sid="KafkaWriteOwnTopics"))
    if read:
        out.append(statement(["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                             [kafka_arn(cluster_arn, "topic", t) for t in read],
                             sid="KafkaReadConsumedTopics"))
    if create:
        out.append(statement(["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic",
                              "kafka-cluster:AlterTopic"],
                             [kafka_arn(cluster_arn, "topic", t) for t in create],
                             sid="KafkaCreateTopics"))
    if group:
        out.append(statement(["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                             [kafka_arn(cluster_arn, "group", group)], sid="KafkaOwnGroup"))
    return out


def topics_command(bootstrap: str, topics: dict[str, tuple[int, int]]) -> list[str]:
    """The kafka-admin task's command: create every topic of the topology, idempotently."""
    lines = [
        "kafka-topics.sh --bootstrap-server \"$KAFKA_BOOTSTRAP_SERVERS\" "
        "--command-config /opt/kafka/config/iam.properties --create --if-not-exists "
        f"--topic {shlex.quote(t)} --partitions {parts} "
        f"--config retention.ms={hours * 3600 * 1000}"
        for t, (parts, hours) in sorted(topics.items())
    ]
    return ["sh", "-ec", " && ".join(lines) if lines else "true"]


def debezium_connector(system: System, link: str, environment: str,
                       host: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The link's Debezium connector (``cdc.connector``, the same function local
    provisioning uses), reading as the login the worker gets from Secrets Manager."""

    def build(h: str) -> dict[str, Any]:
        db = Database(host=h, port=5432, user="${env:PGUSER}", password="${env:PGPASSWORD}",
                      sslmode="require")  # fmt: skip
        return {"name": connector_name(link),
                "config": connector_config(system, link, environment, db)}  # fmt: skip

    return pulumi.Output.from_input(host).apply(build)


def connect_worker_env() -> dict[str, str]:
    """MSK IAM client settings of the Connect worker, as the image's CONNECT_* variables."""
    return {"CONNECT_" + k.upper().replace(".", "_"): v for k, v in worker_auth("msk-iam").items()}


@dataclass(frozen=True)
class StreamingPlatformArgs:
    ctx: Context
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    # description -> security group admitted on the IAM port (producers, consumers, connect)
    clients: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    stores: list[str] = field(default_factory=list)  # topic stores the cluster hosts


class StreamingPlatform(pulumi.ComponentResource):
    cluster_arn: pulumi.Output[str]
    bootstrap_brokers: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: StreamingPlatformArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:streaming:StreamingPlatform", name, None, opts)
        ctx = args.ctx
        self.tags = stores_tags(args.stores)
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"{ctx.prefix}: MSK Serverless, IAM auth port from declared clients",
            tags=self.tags, opts=child(self))
        self._base = name
        self._rules = 0
        self.admit("MSK event source pollers (same group)", self.sg.id)
        for who, sg_id in args.clients.items():
            self.admit(who, sg_id)
        self.cluster = aws.msk.ServerlessCluster(
            name, cluster_name=ctx.prefix[:64],
            client_authentication={"sasl": {"iam": {"enabled": True}}},
            vpc_configs=[{"subnet_ids": args.subnet_ids, "security_group_ids": [self.sg.id]}],
            tags=self.tags, opts=child(self))
        self.cluster_arn = self.cluster.arn
        self.bootstrap_brokers = self.cluster.bootstrap_brokers_sasl_iam
        self.security_group_id = self.sg.id
        self.register_outputs({"cluster_arn": self.cluster_arn,
                               "bootstrap_brokers": self.bootstrap_brokers})

    def admit(self, who: str, sg_id: pulumi.Input[str]) -> None:
        aws.vpc.SecurityGroupIngressRule(
            f"{self._base}-from-{self._rules}", security_group_id=self.sg.id,
            ip_protocol="tcp", from_port=IAM_PORT, to_port=IAM_PORT,
            referenced_security_group_id=sg_id, description=f"Kafka (IAM) from {who}",
            tags=self.tags, opts=child(self))
        self._rules += 1


def connector_env(config: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    return {"CONNECTOR_CONFIG": config, "CONNECT_CONFIG_PROVIDERS": "env",
            "CONNECT_CONFIG_PROVIDERS_ENV_CLASS":
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider"}
