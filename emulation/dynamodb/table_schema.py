"""CreateTable/UpdateTable definitions checked as DynamoDB checks them: key schemas,
attribute definitions, index projections, billing and provisioned throughput."""

from __future__ import annotations

from typing import Any

from emulation.dynamodb.engine import Engine, check_table_name
from emulation.dynamodb.errors import constraint, invalid_params, missing, validation

MAX_GSI = 20
MAX_LSI = 5
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")


def key_schema(schema: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(schema, list) or not schema:
        if schema is None:
            raise missing(where)
        raise constraint(schema, where, "Member must have length greater than or equal to 1")
    if len(schema) > 2:
        raise constraint(schema, where, "Member must have length less than or equal to 2")
    for i, k in enumerate(schema, 1):
        if k.get("KeyType") not in ("HASH", "RANGE"):
            raise constraint(k.get("KeyType"), f"{where}.{i}.member.keyType",
                             "Member must satisfy enum value set: [HASH, RANGE]")  # fmt: skip
        name = k.get("AttributeName")
        if not isinstance(name, str) or not name:
            raise constraint(name, f"{where}.{i}.member.attributeName",
                             "Member must have length greater than or equal to 1")  # fmt: skip
        if len(name) > 255:
            raise constraint(name, f"{where}.{i}.member.attributeName",
                             "Member must have length less than or equal to 255")  # fmt: skip
    if schema[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(schema) == 2:
        if schema[1]["KeyType"] != "RANGE":
            raise validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        if schema[0]["AttributeName"] == schema[1]["AttributeName"]:
            raise validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in schema]


def projection(p: Any, index: str) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise missing("projection")
    kind = p.get("ProjectionType", "ALL") if p else None
    if kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
        raise constraint(
            kind,
            "projection.projectionType",
            "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
        )
    non_key = p.get("NonKeyAttributes")
    if kind == "INCLUDE":
        if not non_key:
            raise invalid_params("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
        if len(set(non_key)) != len(non_key):
            raise invalid_params(f"Duplicate NonKeyAttribute in index {index}")
        return {"ProjectionType": kind, "NonKeyAttributes": list(non_key)}
    if non_key:
        raise invalid_params(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return {"ProjectionType": kind}


def throughput(req: dict[str, Any], billing: str, where: str) -> dict[str, Any]:
    pt = req.get("ProvisionedThroughput")
    if billing == "PAY_PER_REQUEST":
        if pt:
            raise invalid_params(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        return {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0}
    if not pt:
        raise invalid_params(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
            "is PROVISIONED"
        )
    for field in ("ReadCapacityUnits", "WriteCapacityUnits"):
        v = pt.get(field)
        if v is None:
            raise missing(f"{where}.{field[0].lower()}{field[1:]}")
        if not isinstance(v, int) or v < 1:
            raise constraint(v, f"{where}.{field[0].lower()}{field[1:]}",
                             "Member must have value greater than or equal to 1")  # fmt: skip
    return {
        "ReadCapacityUnits": pt["ReadCapacityUnits"],
        "WriteCapacityUnits": pt["WriteCapacityUnits"],
        "NumberOfDecreasesToday": 0,
    }


def attribute_definitions(defs: Any) -> dict[str, str]:
    if not isinstance(defs, list):
        raise missing("attributeDefinitions")
    types: dict[str, str] = {}
    for i, d in enumerate(defs, 1):
        t = d.get("AttributeType")
        if t not in ("S", "N", "B"):
            raise constraint(t, f"attributeDefinitions.{i}.member.attributeType",
                             "Member must satisfy enum value set: [B, N, S]")  # fmt: skip
        name = d.get("AttributeName")
        if name in types:
            raise invalid_params(f"Duplicate AttributeName in AttributeDefinitions: {name}")
        types[name] = t
    return types


def check_keys_defined(schema: list[dict[str, str]], types: dict[str, str]) -> None:
    absent = [k["AttributeName"] for k in schema if k["AttributeName"] not in types]
    if absent:
        raise invalid_params(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: ["
            + ", ".join(absent) + "], AttributeDefinitions: [" + ", ".join(types) + "]"
        )  # fmt: skip


def index_name(name: Any, where: str) -> str:
    if name is None:
        raise missing(where)
    if not isinstance(name, str) or len(name) < 3:
        raise constraint(name, where, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise constraint(name, where, "Member must have length less than or equal to 255")
    check_table_name(name, where)
    return name


def gsi(engine: Engine, g: dict[str, Any], types: dict[str, str], billing: str,
         table: str) -> dict[str, Any]:  # fmt: skip
    name = index_name(g.get("IndexName"), "globalSecondaryIndexes.member.indexName")
    schema = key_schema(g.get("KeySchema"), "globalSecondaryIndexes.member.keySchema")
    check_keys_defined(schema, types)
    return {
        "IndexName": name,
        "KeySchema": schema,
        "Projection": projection(g.get("Projection"), name),
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": throughput(g, billing, "globalSecondaryIndexes.member"),
        "IndexArn": f"{engine.table_arn(table)}/index/{name}",
        "_iid": engine.store.next_id("index"),
    }
