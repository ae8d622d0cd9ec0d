"""DynamoDB stores: the table with its keys, GSIs, LSIs, stream, TTL and PITR.

``expected`` (from the topology) and ``actual`` (from DescribeTable & co.) produce the
same plain shape, so provisioning and ``polystore parity`` compare like with like.
"""

from __future__ import annotations

from typing import Any

from emulation.engines.base import Endpoints, Progress
from emulation.errors import ProvisionError
from polystore.naming import local_name
from polystore.topology.model import DynamoStore, System

STREAM_VIEW = {"new-image": "NEW_IMAGE", "old-image": "OLD_IMAGE",
               "new-and-old-images": "NEW_AND_OLD_IMAGES", "keys-only": "KEYS_ONLY"}  # fmt: skip
PROJECTION = {"all": "ALL", "keys-only": "KEYS_ONLY", "include": "INCLUDE"}


def client(ep: Endpoints) -> Any:
    from emulation.engines.dynamodb.ttl_sweeper import make_client

    return make_client(ep.url("dynamodb"))


def _keys(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    out = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        out.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return out


def _projection(kind: str, non_key: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": PROJECTION[kind]}
    if kind == "include":
        out["NonKeyAttributes"] = list(non_key)
    return out


def create_args(name: str, store: DynamoStore) -> dict[str, Any]:
    """CreateTable arguments for ``store`` (deletion protection stays off locally)."""
    used = {store.key.hash, store.key.range}
    for gsi in store.global_indexes.values():
        used |= {gsi.hash, gsi.range}
    used |= {lsi.range for lsi in store.local_indexes.values()}
    provisioned = store.billing == "provisioned"
    throughput = {}
    if provisioned:
        cap = store.capacity
        throughput = {"ProvisionedThroughput": {
            "ReadCapacityUnits": cap.read_min if cap else 5,
            "WriteCapacityUnits": cap.write_min if cap else 5}}  # fmt: skip
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _keys(store.key.hash, store.key.range),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t}
                                 for a, t in store.attributes.items() if a in used],
        "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
        **throughput,
    }  # fmt: skip
    if store.global_indexes:
        args["GlobalSecondaryIndexes"] = [
            {"IndexName": ix, "KeySchema": _keys(g.hash, g.range),
             "Projection": _projection(g.projection, g.non_key_attributes), **throughput}
            for ix, g in store.global_indexes.items()
        ]  # fmt: skip
    if store.local_indexes:
        args["LocalSecondaryIndexes"] = [
            {"IndexName": ix, "KeySchema": _keys(store.key.hash, lsi.range),
             "Projection": _projection(lsi.projection, lsi.non_key_attributes)}
            for ix, lsi in store.local_indexes.items()
        ]  # fmt: skip
    if store.stream:
        args["StreamSpecification"] = {"StreamEnabled": True,
                                       "StreamViewType": STREAM_VIEW[store.stream]}  # fmt: skip
    return args


def expected(store: DynamoStore) -> dict[str, Any]:
    """The table as the topology declares it, in the shape ``actual`` returns."""
    return {
        "key": [(store.key.hash, "HASH")] + ([(store.key.range, "RANGE")] if store.key.range
                                               else []),
        "gsi": {ix: {"key": [g.hash, g.range], "projection": PROJECTION[g.projection]}
                for ix, g in store.global_indexes.items()},
        "lsi": {ix: {"key": [store.key.hash, lsi.range],
                     "projection": PROJECTION[lsi.projection]}
                for ix, lsi in store.local_indexes.items()},
        "stream": STREAM_VIEW[store.stream] if store.stream else None,
        "ttl": store.ttl,
        "pitr": store.pitr,
    }  # fmt: skip


def actual(dynamo: Any, name: str) -> dict[str, Any] | None:
    """The live table, or None when it does not exist."""
    try:
        desc = dynamo.describe_table(TableName=name)["Table"]
    except dynamo.exceptions.ResourceNotFoundException:
        return None

    def key_pair(schema: list[dict[str, str]]) -> list[str | None]:
        by_type = {k["KeyType"]: k["AttributeName"] for k in schema}
        return [by_type.get("HASH"), by_type.get("RANGE")]

    ttl = dynamo.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    backups = dynamo.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    stream = desc.get("StreamSpecification") or {}
    return {
        "key": [(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]],
        "gsi": {g["IndexName"]: {"key": key_pair(g["KeySchema"]),
                                 "projection": g["Projection"]["ProjectionType"]}
                for g in desc.get("GlobalSecondaryIndexes", [])},
        "lsi": {x["IndexName"]: {"key": key_pair(x["KeySchema"]),
                                 "projection": x["Projection"]["ProjectionType"]}
                for x in desc.get("LocalSecondaryIndexes", [])},
        "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "ttl": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
        "pitr": backups.get("PointInTimeRecoveryDescription", {}).get(
            "PointInTimeRecoveryStatus") == "ENABLED",
    }  # fmt: skip


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    dynamo = client(ep)
    created = 0
    for system in systems:
        for store_name, store in system.dynamodb_stores().items():
            name = local_name(system, store_name)
            live = actual(dynamo, name)
            want = expected(store)
            if live is None:
                dynamo.create_table(**create_args(name, store))
                created += 1
                live = actual(dynamo, name)
                assert live is not None
            elif live["key"] != want["key"]:
                raise ProvisionError(
                    f"table {name} exists with key {live['key']}, the topology says "
                    f"{want['key']} ({system.source})",
                    "a key cannot change in place: `polystore reset` recreates every table "
                    "(local data is lost)",
                )
            if live["stream"] != want["stream"]:
                spec = ({"StreamEnabled": True, "StreamViewType": want["stream"]}
                        if want["stream"] else {"StreamEnabled": False})  # fmt: skip
                dynamo.update_table(TableName=name, StreamSpecification=spec)
            if live["ttl"] != want["ttl"]:
                attr = want["ttl"] or live["ttl"]
                dynamo.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "Enabled": bool(want["ttl"]), "AttributeName": attr})  # fmt: skip
            if live["pitr"] != want["pitr"]:
                dynamo.update_continuous_backups(
                    TableName=name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": want["pitr"]},
                )
    progress(f"dynamodb: tables ready ({created} created)")
