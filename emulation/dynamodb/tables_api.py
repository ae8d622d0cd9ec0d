"""Table operations: Create/Describe/List/Update/DeleteTable, TTL, continuous backups, tags.

Tables are ACTIVE as soon as CreateTable answers and an added GSI is backfilled before
UpdateTable answers (as DynamoDB Local does): the caller's waiters pass at once.
"""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

from emulation.dynamodb.engine import ACCOUNT, Engine, check_table_name
from emulation.dynamodb.errors import (
    DynamoError,
    constraint,
    in_use,
    invalid_params,
    missing,
    validation,
)
from emulation.dynamodb.storage import TableInfo

MAX_GSI = 20
MAX_LSI = 5
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")


def _key_schema(schema: Any, where: str) -> list[dict[str, str]]:
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


def _projection(p: Any, index: str) -> dict[str, Any]:
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


def _throughput(req: dict[str, Any], billing: str, where: str) -> dict[str, Any]:
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


def _attribute_definitions(defs: Any) -> dict[str, str]:
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


def _check_keys_defined(schema: list[dict[str, str]], types: dict[str, str]) -> None:
    absent = [k["AttributeName"] for k in schema if k["AttributeName"] not in types]
    if absent:
        raise invalid_params(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: ["
            + ", ".join(absent) + "], AttributeDefinitions: [" + ", ".join(types) + "]"
        )  # fmt: skip


def _index_name(name: Any, where: str) -> str:
    if name is None:
        raise missing(where)
    if not isinstance(name, str) or len(name) < 3:
        raise constraint(name, where, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise constraint(name, where, "Member must have length less than or equal to 255")
    check_table_name(name, where)
    return name


def _gsi(engine: Engine, g: dict[str, Any], types: dict[str, str], billing: str,
         table: str) -> dict[str, Any]:  # fmt: skip
    name = _index_name(g.get("IndexName"), "globalSecondaryIndexes.member.indexName")
    schema = _key_schema(g.get("KeySchema"), "globalSecondaryIndexes.member.keySchema")
    _check_keys_defined(schema, types)
    return {
        "IndexName": name,
        "KeySchema": schema,
        "Projection": _projection(g.get("Projection"), name),
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": _throughput(g, billing, "globalSecondaryIndexes.member"),
        "IndexArn": f"{engine.table_arn(table)}/index/{name}",
        "_iid": engine.store.next_id("index"),
    }


def create_table(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    name = req.get("TableName")
    check_table_name(name, "tableName")
    schema = _key_schema(req.get("KeySchema"), "keySchema")
    types = _attribute_definitions(req.get("AttributeDefinitions"))
    billing = req.get("BillingMode") or "PROVISIONED"
    if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise constraint(
            billing,
            "billingMode",
            "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
        )
    _check_keys_defined(schema, types)
    used = {k["AttributeName"] for k in schema}
    gsis_in = req.get("GlobalSecondaryIndexes")
    lsis_in = req.get("LocalSecondaryIndexes")
    if gsis_in is not None and not gsis_in:
        raise validation("One or more parameter values were invalid: List of "
                         "GlobalSecondaryIndexes is empty")  # fmt: skip
    if lsis_in is not None and not lsis_in:
        raise validation("One or more parameter values were invalid: List of "
                         "LocalSecondaryIndexes is empty")  # fmt: skip
    if len(gsis_in or []) > MAX_GSI:
        raise DynamoError(
            "LimitExceededException", f"Subscriber limit exceeded: GSI limit of {MAX_GSI} exceeded"
        )
    if len(lsis_in or []) > MAX_LSI:
        raise invalid_params("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    names: set[str] = set()
    with engine.store.tx():
        if name in engine.store.tables:
            raise in_use(f"Table already exists: {name}")
        gsis = []
        for g in gsis_in or []:
            ix = _gsi(engine, g, types, billing, name)
            if ix["IndexName"] in names:
                raise invalid_params(f"Duplicate index name: {ix['IndexName']}")
            names.add(ix["IndexName"])
            used |= {k["AttributeName"] for k in ix["KeySchema"]}
            gsis.append(ix)
        lsis = []
        hash_key = schema[0]["AttributeName"]
        for x in lsis_in or []:
            ix_name = _index_name(x.get("IndexName"), "localSecondaryIndexes.member.indexName")
            ks = _key_schema(x.get("KeySchema"), "localSecondaryIndexes.member.keySchema")
            if len(schema) < 2:
                raise invalid_params(
                    "Table KeySchema does not have a range key, which is required when "
                    "specifying a LocalSecondaryIndex"
                )
            if ks[0]["AttributeName"] != hash_key:
                raise invalid_params(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {ix_name}. index hash key: {ks[0]['AttributeName']}, table hash "
                    f"key: {hash_key}"
                )
            if len(ks) < 2:
                raise invalid_params(f"Index KeySchema must have a range key for index: {ix_name}")
            _check_keys_defined(ks, types)
            if ix_name in names:
                raise invalid_params(f"Duplicate index name: {ix_name}")
            names.add(ix_name)
            used |= {k["AttributeName"] for k in ks}
            lsis.append({
                "IndexName": ix_name, "KeySchema": ks,
                "Projection": _projection(x.get("Projection"), ix_name),
                "IndexArn": f"{engine.table_arn(name)}/index/{ix_name}",
                "_iid": engine.store.next_id("index"),
            })  # fmt: skip
        unused = [a for a in types if a not in used]
        if unused:
            raise invalid_params(
                "Some AttributeDefinitions are not used. AttributeDefinitions: ["
                + ", ".join(types) + "], keys used: [" + ", ".join(sorted(used)) + "]"
            )  # fmt: skip
        now = time.time()
        desc: dict[str, Any] = {
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t}
                                     for a, t in types.items()],
            "TableName": name,
            "KeySchema": schema,
            "TableStatus": "ACTIVE",
            "CreationDateTime": now,
            "ProvisionedThroughput": _throughput(req, billing, "provisionedThroughput"),
            "TableArn": engine.table_arn(name),
            "TableId": str(uuid.uuid4()),
            "DeletionProtectionEnabled": bool(req.get("DeletionProtectionEnabled", False)),
        }  # fmt: skip
        if billing == "PAY_PER_REQUEST":
            desc["BillingModeSummary"] = {
                "BillingMode": billing,
                "LastUpdateToPayPerRequestDateTime": now,
            }
        if gsis:
            desc["GlobalSecondaryIndexes"] = gsis
        if lsis:
            desc["LocalSecondaryIndexes"] = lsis
        sse = req.get("SSESpecification")
        if sse and sse.get("Enabled"):
            desc["SSEDescription"] = {
                "Status": "ENABLED", "SSEType": sse.get("SSEType", "KMS"),
                "KMSMasterKeyArn": sse.get("KMSMasterKeyId")
                or f"arn:aws:kms:{engine.region}:{ACCOUNT}:key/local",
            }  # fmt: skip
        if req.get("TableClass"):
            desc["TableClassSummary"] = {"TableClass": req["TableClass"]}
        desc["_tags"] = {t["Key"]: t["Value"] for t in req.get("Tags") or []}
        t = TableInfo(name, engine.store.next_id("table"), desc)
        spec = req.get("StreamSpecification")
        if spec:
            _set_stream(engine, t, spec)
        engine.store.save_table(t)
    return {"TableDescription": describe(engine, t)}


def _set_stream(engine: Engine, t: TableInfo, spec: dict[str, Any]) -> None:
    from emulation.dynamodb import streams_api

    enabled = spec.get("StreamEnabled")
    if enabled is None:
        raise missing("streamSpecification.streamEnabled")
    current = t.desc.get("StreamSpecification", {}).get("StreamEnabled")
    if enabled:
        view = spec.get("StreamViewType")
        if view not in VIEW_TYPES:
            raise invalid_params(
                "You must specify a StreamViewType when enabling a stream" if view is None else
                f"Invalid StreamViewType: {view}"
            )  # fmt: skip
        if current:
            raise validation(f"Table already has an enabled stream: TableName: {t.name}")
        label = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        arn = f"{engine.table_arn(t.name)}/stream/{label}"
        sid = streams_api.create_stream(engine, t, arn, label, view)
        t.desc["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        t.desc["LatestStreamLabel"] = label
        t.desc["LatestStreamArn"] = arn
        t.desc["_sid"] = sid
    else:
        if not current:
            raise validation(f"Table already has no stream enabled: TableName: {t.name}")
        streams_api.disable_stream(engine, t.desc["_sid"])
        t.desc["StreamSpecification"] = {"StreamEnabled": False}
        t.desc["_sid"] = None
    t.refresh()


def describe(engine: Engine, t: TableInfo) -> dict[str, Any]:
    out = {k: v for k, v in t.desc.items() if not k.startswith("_")}
    count, size = engine.store.stats.get(str(t.tid), [0, 0])
    out["ItemCount"], out["TableSizeBytes"] = count, size
    if out.get("StreamSpecification", {}).get("StreamEnabled") is False:
        out.pop("StreamSpecification")
    for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if group in out:
            out[group] = [_index_out(engine, t, ix) for ix in out[group]]
    return out


def _index_out(engine: Engine, t: TableInfo, ix: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in ix.items() if not k.startswith("_")}
    count, size = engine.store.stats.get(f"{t.tid}:{ix['IndexName']}", [0, 0])
    out["ItemCount"], out["IndexSizeBytes"] = count, size
    return out


def describe_table(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    return {"Table": describe(engine, engine.described_table(req.get("TableName")))}


def list_tables(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    limit = req.get("Limit", 100)
    if not isinstance(limit, int) or limit < 1:
        raise constraint(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > 100:
        raise constraint(limit, "limit", "Member must have value less than or equal to 100")
    start = req.get("ExclusiveStartTableName")
    if start is not None:
        check_table_name(start, "exclusiveStartTableName")
    names = sorted(n for n in engine.store.tables if start is None or n > start)
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


def delete_table(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.described_table(req.get("TableName"))
    if t.desc.get("DeletionProtectionEnabled"):
        raise validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable "
            "deletion protection first."
        )
    out = describe(engine, t)
    out["TableStatus"] = "DELETING"
    with engine.store.tx():
        if t.stream_sid is not None:
            from emulation.dynamodb import streams_api

            streams_api.disable_stream(engine, t.stream_sid)
        engine.store.drop_table(t)
    return {"TableDescription": out}


def update_table(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.described_table(req.get("TableName")).clone()
    known = ("ProvisionedThroughput", "BillingMode", "StreamSpecification",
             "GlobalSecondaryIndexUpdates", "SSESpecification", "DeletionProtectionEnabled",
             "AttributeDefinitions", "TableClass")  # fmt: skip
    unsupported = [k for k in ("ReplicaUpdates", "OnDemandThroughput", "WarmThroughput",
                               "MultiRegionConsistency") if k in req]  # fmt: skip
    if unsupported:
        raise validation(f"{unsupported[0]} is not supported by this local engine")
    if not any(k in req for k in known if k != "AttributeDefinitions"):
        raise validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    with engine.store.tx():
        d = t.desc
        types = {a["AttributeName"]: a["AttributeType"] for a in d["AttributeDefinitions"]}
        if "AttributeDefinitions" in req:
            for name, kind in _attribute_definitions(req["AttributeDefinitions"]).items():
                if name in types and types[name] != kind:
                    raise invalid_params(f"Cannot change the type of attribute {name}")
                types[name] = kind
        billing = req.get("BillingMode") or d.get("BillingModeSummary", {}).get(
            "BillingMode", "PROVISIONED")  # fmt: skip
        if "BillingMode" in req or "ProvisionedThroughput" in req:
            d["ProvisionedThroughput"] = _throughput(req, billing, "provisionedThroughput")
            if billing == "PAY_PER_REQUEST":
                d["BillingModeSummary"] = {
                    "BillingMode": billing,
                    "LastUpdateToPayPerRequestDateTime": time.time(),
                }
            else:
                d.pop("BillingModeSummary", None)
        if "DeletionProtectionEnabled" in req:
            d["DeletionProtectionEnabled"] = bool(req["DeletionProtectionEnabled"])
        if "TableClass" in req:
            d["TableClassSummary"] = {"TableClass": req["TableClass"]}
        if "SSESpecification" in req:
            sse = req["SSESpecification"] or {}
            d["SSEDescription"] = {"Status": "ENABLED" if sse.get("Enabled", True) else
                                   "DISABLED", "SSEType": sse.get("SSEType", "KMS")}  # fmt: skip
        updates = req.get("GlobalSecondaryIndexUpdates") or []
        if sum(1 for u in updates if "Create" in u or "Delete" in u) > 1:
            raise DynamoError(
                "LimitExceededException",
                "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                "simultaneously per table",
            )
        d["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": k}
                                     for a, k in types.items()]  # fmt: skip
        for u in updates:
            _gsi_update(engine, t, u, types, billing)
        used = {k["AttributeName"] for k in d["KeySchema"]}
        for ix in d.get("GlobalSecondaryIndexes", []) + d.get("LocalSecondaryIndexes", []):
            used |= {k["AttributeName"] for k in ix["KeySchema"]}
        d["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": k}
                                     for a, k in types.items() if a in used]  # fmt: skip
        if "StreamSpecification" in req:
            _set_stream(engine, t, req["StreamSpecification"])
        engine.store.save_table(t)
    return {"TableDescription": describe(engine, t)}


def _gsi_update(engine: Engine, t: TableInfo, u: dict[str, Any], types: dict[str, str],
                billing: str) -> None:  # fmt: skip
    d = t.desc
    gsis = d.setdefault("GlobalSecondaryIndexes", [])
    if "Create" in u:
        ix = _gsi(engine, u["Create"], types, billing, t.name)
        if ix["IndexName"] in t.indexes:
            raise invalid_params(f"Index with name {ix['IndexName']} already exists")
        if len(gsis) >= MAX_GSI:
            raise DynamoError(
                "LimitExceededException",
                f"Subscriber limit exceeded: GSI limit of {MAX_GSI} exceeded",
            )
        gsis.append(ix)
        t.refresh()
        engine.store.backfill_index(t, t.indexes[ix["IndexName"]])
    elif "Delete" in u:
        name = u["Delete"].get("IndexName")
        info = t.indexes.get(name)
        if info is None or info.local:
            raise not_found_index(name, t.name)
        engine.store.drop_index_rows(info)
        engine.store.stats.pop(f"{t.tid}:{name}", None)
        engine.store.db.execute("DELETE FROM stats WHERE id = ?", (f"{t.tid}:{name}",))
        d["GlobalSecondaryIndexes"] = [g for g in gsis if g["IndexName"] != name]
    elif "Update" in u:
        name = u["Update"].get("IndexName")
        ix = next((g for g in gsis if g["IndexName"] == name), None)
        if ix is None:
            raise not_found_index(name, t.name)
        ix["ProvisionedThroughput"] = _throughput(
            u["Update"], billing, "globalSecondaryIndexUpdates.member.update"
        )
    if not d["GlobalSecondaryIndexes"]:
        del d["GlobalSecondaryIndexes"]
    t.refresh()


def not_found_index(name: Any, table: str) -> DynamoError:
    return DynamoError(
        "ResourceNotFoundException",
        f"Requested resource not found: Index: {name} not found in table {table}",
    )


# --- TTL, continuous backups, tags --------------------------------------------------------


def update_ttl(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.described_table(req.get("TableName")).clone()
    spec = req.get("TimeToLiveSpecification")
    if not isinstance(spec, dict):
        raise missing("timeToLiveSpecification")
    enabled, attr = spec.get("Enabled"), spec.get("AttributeName")
    if enabled is None:
        raise missing("timeToLiveSpecification.enabled")
    if not attr:
        raise missing("timeToLiveSpecification.attributeName")
    current = t.desc.get("_ttl", {})
    if enabled and current.get("status") == "ENABLED":
        raise validation("TimeToLive is already enabled")
    if not enabled and current.get("status") != "ENABLED":
        raise validation("TimeToLive is already disabled")
    if not enabled and current.get("AttributeName") != attr:
        raise validation("TimeToLive attribute name does not match the current attribute name")
    with engine.store.tx():
        t.desc["_ttl"] = {"status": "ENABLED" if enabled else "DISABLED", "AttributeName": attr}
        engine.store.save_table(t)
        engine.store.rebuild_ttl(t)
    return {"TimeToLiveSpecification": {"Enabled": bool(enabled), "AttributeName": attr}}


def describe_ttl(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.described_table(req.get("TableName"))
    ttl = t.desc.get("_ttl", {})
    if ttl.get("status") == "ENABLED":
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                          "AttributeName": ttl["AttributeName"]}}  # fmt: skip
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}


def _backup_table(engine: Engine, name: Any) -> TableInfo:
    check_table_name(name, "tableName")
    t = engine.store.tables.get(name)
    if t is None:
        raise DynamoError("TableNotFoundException", f"Table not found: {name}")
    return t


def _backups(t: TableInfo) -> dict[str, Any]:
    pitr = t.desc.get("_pitr")
    desc: dict[str, Any] = {"PointInTimeRecoveryStatus": "ENABLED" if pitr else "DISABLED"}
    if pitr:
        now = time.time()
        desc.update(EarliestRestorableDateTime=pitr, LatestRestorableDateTime=now - 300,
                    RecoveryPeriodInDays=35)  # fmt: skip
    return {
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": desc,
        }
    }


def describe_backups(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    return _backups(_backup_table(engine, req.get("TableName")))


def update_backups(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = _backup_table(engine, req.get("TableName")).clone()
    spec = req.get("PointInTimeRecoverySpecification")
    if not isinstance(spec, dict) or "PointInTimeRecoveryEnabled" not in spec:
        raise missing("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
    with engine.store.tx():
        on = bool(spec["PointInTimeRecoveryEnabled"])
        t.desc["_pitr"] = (t.desc.get("_pitr") or time.time()) if on else None
        engine.store.save_table(t)
    return _backups(t)


def _by_arn(engine: Engine, arn: Any) -> TableInfo:
    if not isinstance(arn, str):
        raise missing("resourceArn")
    prefix = f"arn:aws:dynamodb:{engine.region}:{ACCOUNT}:table/"
    if not arn.startswith("arn:aws:dynamodb:") or ":table/" not in arn:
        raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    name = arn.split(":table/", 1)[1].split("/", 1)[0]
    t = engine.store.tables.get(name)
    if t is None or not arn.startswith(prefix):
        raise DynamoError(
            "ResourceNotFoundException",
            f"Requested resource not found: ResourcArn: {arn} not found",
        )
    return t


def tag_resource(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = _by_arn(engine, req.get("ResourceArn")).clone()
    tags = req.get("Tags")
    if not isinstance(tags, list):
        raise missing("tags")
    with engine.store.tx():
        for tag in tags:
            if not tag.get("Key"):
                raise constraint(
                    tag.get("Key"),
                    "tags.member.key",
                    "Member must have length greater than or equal to 1",
                )
            t.desc.setdefault("_tags", {})[tag["Key"]] = tag.get("Value", "")
        if len(t.desc["_tags"]) > 50:
            raise DynamoError("LimitExceededException", "Too many tags on the resource (max 50)")
        engine.store.save_table(t)
    return {}


def untag_resource(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = _by_arn(engine, req.get("ResourceArn")).clone()
    keys = req.get("TagKeys")
    if not isinstance(keys, list):
        raise missing("tagKeys")
    with engine.store.tx():
        for k in keys:
            t.desc.setdefault("_tags", {}).pop(k, None)
        engine.store.save_table(t)
    return {}


def list_tags(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = _by_arn(engine, req.get("ResourceArn"))
    tags = [{"Key": k, "Value": v} for k, v in t.desc.get("_tags", {}).items()]
    return {"Tags": tags}
