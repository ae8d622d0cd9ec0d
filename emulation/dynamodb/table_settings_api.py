"""Table settings: Update/DescribeTimeToLive, Update/DescribeContinuousBackups and tags.

Each change works on a copy of the table's description (``TableInfo.clone``), so a
refused request leaves the live table as it was.
"""

from __future__ import annotations

import time
from typing import Any

from emulation.dynamodb.engine import ACCOUNT, Engine, check_table_name
from emulation.dynamodb.errors import DynamoError, constraint, missing, validation
from emulation.dynamodb.storage import TableInfo


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
