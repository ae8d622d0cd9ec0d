"""Table operations: Create/Describe/List/Update/DeleteTable, TTL, continuous backups, tags.

Tables are ACTIVE as soon as CreateTable answers and an added GSI is backfilled before
UpdateTable answers (as DynamoDB Local does): the caller's waiters pass at once.
"""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

from emulation.dynamodb import table_schema as defs
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


def create_table(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    name = req.get("TableName")
    check_table_name(name, "tableName")
    assert isinstance(name, str)
    schema = defs.key_schema(req.get("KeySchema"), "keySchema")
    types = defs.attribute_definitions(req.get("AttributeDefinitions"))
    billing = req.get("BillingMode") or "PROVISIONED"
    if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise constraint(
            billing,
            "billingMode",
            "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
        )
    defs.check_keys_defined(schema, types)
    used = {k["AttributeName"] for k in schema}
    gsis_in = req.get("GlobalSecondaryIndexes")
    lsis_in = req.get("LocalSecondaryIndexes")
    if gsis_in is not None and not gsis_in:
        raise validation("One or more parameter values were invalid: List of "
                         "GlobalSecondaryIndexes is empty")  # fmt: skip
    if lsis_in is not None and not lsis_in:
        raise validation("One or more parameter values were invalid: List of "
                         "LocalSecondaryIndexes is empty")  # fmt: skip
    if len(gsis_in or []) > defs.MAX_GSI:
        raise DynamoError(
            "LimitExceededException",
            f"Subscriber limit exceeded: GSI limit of {defs.MAX_GSI} exceeded",
        )
    if len(lsis_in or []) > defs.MAX_LSI:
        raise invalid_params("Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    names: set[str] = set()
    with engine.store.tx():
        if name in engine.store.tables:
            raise in_use(f"Table already exists: {name}")
        gsis = []
        for g in gsis_in or []:
            ix = defs.gsi(engine, g, types, billing, name)
            if ix["IndexName"] in names:
                raise invalid_params(f"Duplicate index name: {ix['IndexName']}")
            names.add(ix["IndexName"])
            used |= {k["AttributeName"] for k in ix["KeySchema"]}
            gsis.append(ix)
        lsis = []
        hash_key = schema[0]["AttributeName"]
        for x in lsis_in or []:
            ix_name = defs.index_name(x.get("IndexName"), "localSecondaryIndexes.member.indexName")
            ks = defs.key_schema(x.get("KeySchema"), "localSecondaryIndexes.member.keySchema")
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
            defs.check_keys_defined(ks, types)
            if ix_name in names:
                raise invalid_params(f"Duplicate index name: {ix_name}")
            names.add(ix_name)
            used |= {k["AttributeName"] for k in ks}
            lsis.append({
                "IndexName": ix_name, "KeySchema": ks,
                "Projection": defs.projection(x.get("Projection"), ix_name),
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
            "ProvisionedThroughput": defs.throughput(req, billing, "provisionedThroughput"),
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
        if spec and spec.get("StreamEnabled") is not False:  # disabled at creation: no stream
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
        if view not in defs.VIEW_TYPES:
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
        if spec.get("StreamViewType") is not None:
            raise invalid_params(
                "If stream is being disabled, then UpdateViewType must not be specified"
            )
        if not current:
            raise validation(f"Table has no stream to disable: TableName: {t.name}")
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
            for name, kind in defs.attribute_definitions(req["AttributeDefinitions"]).items():
                if name in types and types[name] != kind:
                    raise invalid_params(f"Cannot change the type of attribute {name}")
                types[name] = kind
        billing = req.get("BillingMode") or d.get("BillingModeSummary", {}).get(
            "BillingMode", "PROVISIONED")  # fmt: skip
        if "BillingMode" in req or "ProvisionedThroughput" in req:
            d["ProvisionedThroughput"] = defs.throughput(req, billing, "provisionedThroughput")
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
        ix = defs.gsi(engine, u["Create"], types, billing, t.name)
        if ix["IndexName"] in t.indexes:
            raise invalid_params(f"Index with name {ix['IndexName']} already exists")
        if len(gsis) >= defs.MAX_GSI:
            raise DynamoError(
                "LimitExceededException",
                f"Subscriber limit exceeded: GSI limit of {defs.MAX_GSI} exceeded",
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
        found = [g for g in gsis if g["IndexName"] == name]
        if not found:
            raise not_found_index(name, t.name)
        found[0]["ProvisionedThroughput"] = defs.throughput(
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
