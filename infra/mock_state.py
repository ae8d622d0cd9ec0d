"""What the mocked engine answers for a new resource: its id and the state AWS would compute.

Values a real deployment derives from the resource's own inputs are filled in, shaped as
AWS shapes them: ARNs built from physical names, the RDS-managed master secret, endpoints
and bootstrap brokers (marked ``mock``). IAM policies, backup selections and container
definitions reference them; if they stayed unknown, the whole JSON document embedding one
would be unknown and no reviewer or policy could read it. Anything else AWS computes stays
unknown and prints as ``<computed>``.
"""

from __future__ import annotations

import hashlib
from typing import Any

MOCK_ACCOUNT = "123456789012"


def _uuid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _arn(service: str, region: str, resource: str, *, global_: bool = False) -> str:
    return f"arn:aws:{service}:{'' if global_ else region}:{MOCK_ACCOUNT}:{resource}"


def computed_state(typ: str, name: str, inputs: dict[str, Any],
                   region: str) -> tuple[str, dict[str, Any]]:
    """(id, outputs) of a mocked resource: its inputs plus the derivable computed values."""
    state = dict(inputs)
    rid = name
    extra: dict[str, Any] = {}
    if typ == "aws:dynamodb/table:Table":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("dynamodb", region, f"table/{rid}")
        if inputs.get("streamEnabled"):
            extra["streamArn"] = f"{extra['arn']}/stream/2025-01-01T00:00:00.000"
    elif typ == "aws:kms/key:Key":
        rid = _uuid(name)
        extra["arn"] = _arn("kms", region, f"key/{rid}")
        extra["keyId"] = rid
    elif typ == "aws:iam/role:Role":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("iam", region, f"role/{rid}", global_=True)
    elif typ == "aws:rds/cluster:Cluster":
        rid = inputs.get("clusterIdentifier", name)
        extra["arn"] = _arn("rds", region, f"cluster:{rid}")
        extra["endpoint"] = f"{rid}.cluster-mock.{region}.rds.amazonaws.com"
        extra["readerEndpoint"] = f"{rid}.cluster-ro-mock.{region}.rds.amazonaws.com"
        extra["clusterResourceId"] = "cluster-" + _uuid(rid)[:26].replace("-", "").upper()
        extra["masterUserSecrets"] = [{
            "secretArn": _arn("secretsmanager", region, f"secret:rds!cluster-{_uuid(rid)}-AbCdEf"),
            "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"), "secretStatus": "active"}]
    elif typ == "aws:rds/instance:Instance":
        rid = inputs.get("identifier", name)
        extra["arn"] = _arn("rds", region, f"db:{rid}")
        extra["address"] = f"{rid}.mock.{region}.rds.amazonaws.com"
        extra["resourceId"] = "db-" + _uuid(rid)[:26].replace("-", "").upper()
        if inputs.get("manageMasterUserPassword"):
            extra["masterUserSecrets"] = [{
                "secretArn": _arn("secretsmanager", region, f"secret:rds!db-{_uuid(rid)}-AbCdEf"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"), "secretStatus": "active"}]
    elif typ == "aws:opensearch/domain:Domain":
        rid = inputs.get("domainName", name)
        extra["arn"] = _arn("es", region, f"domain/{rid}")
        extra["endpoint"] = f"vpc-{rid}-mock.{region}.es.amazonaws.com"
    elif typ == "aws:msk/serverlessCluster:ServerlessCluster":
        rid = inputs.get("clusterName", name)
        extra["arn"] = _arn("kafka", region, f"cluster/{rid}/{_uuid(rid)}-s1")
        extra["clusterUuid"] = f"{_uuid(rid)}-s1"
        extra["bootstrapBrokersSaslIam"] = (
            f"boot-mock.c1.kafka-serverless.{region}.amazonaws.com:9098")
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("logs", region, f"log-group:{rid}")
    elif typ == "aws:secretsmanager/secret:Secret":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("secretsmanager", region, f"secret:{rid}-AbCdEf")
    elif typ == "aws:sqs/queue:Queue":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("sqs", region, rid)
        extra["url"] = f"https://sqs.{region}.amazonaws.com/{MOCK_ACCOUNT}/{rid}"
    elif typ == "aws:lambda/function:Function":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("lambda", region, f"function:{rid}")
    elif typ == "aws:ecr/repository:Repository":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("ecr", region, f"repository/{rid}")
        extra["repositoryUrl"] = f"{MOCK_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{rid}"
    elif typ == "aws:ecs/cluster:Cluster":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("ecs", region, f"cluster/{rid}")
    elif typ == "aws:backup/vault:Vault":
        rid = inputs.get("name", name)
        extra["arn"] = _arn("backup", region, f"backup-vault:{rid}")
    elif typ.startswith("aws:ec2/") or typ.startswith("aws:vpc/"):
        kind = typ.split(":")[-1]
        prefix = {"Vpc": "vpc", "Subnet": "subnet", "SecurityGroup": "sg",
                  "InternetGateway": "igw", "NatGateway": "nat", "RouteTable": "rtb",
                  "Eip": "eipalloc", "VpcEndpoint": "vpce", "FlowLog": "fl"}.get(kind, "r")
        rid = f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:17]}"
    for key, value in extra.items():
        state.setdefault(key, value)
    return rid, state
