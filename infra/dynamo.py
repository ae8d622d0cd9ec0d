"""DynamoTable: one DynamoDB store of the topology, as the declaration says.

Keys, GSIs, LSIs, TTL, stream, PITR and SSE with the system's CMK come from the store;
deletion protection is the store's, switched off only by a throwaway profile; provisioned
tables get application autoscaling on the table and every GSI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.common import child, store_tags
from polystore.topology.model import Capacity, DynamoStore

STREAM_VIEW = {"new-image": "NEW_IMAGE", "old-image": "OLD_IMAGE",
               "new-and-old-images": "NEW_AND_OLD_IMAGES", "keys-only": "KEYS_ONLY"}
PROJECTION = {"all": "ALL", "keys-only": "KEYS_ONLY", "include": "INCLUDE"}


@dataclass(frozen=True)
class DynamoTableArgs:
    store_name: str  # the topology's name for it (the polystore:store tag)
    store: DynamoStore
    physical_name: str
    kms_key_arn: pulumi.Input[str]
    deletion_protection: bool


def _projection(projection: str, non_key: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"projection_type": PROJECTION[projection]}
    if projection == "include":
        out["non_key_attributes"] = list(non_key)
    return out


class DynamoTable(pulumi.ComponentResource):
    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    stream_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: DynamoTableArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("polystore:dynamo:DynamoTable", name, None, opts)
        s = args.store
        self.store_name = args.store_name
        provisioned = s.billing == "provisioned"
        cap = s.capacity
        if provisioned and cap is None:
            raise ValueError(f"dynamodb store {name}: billing provisioned needs capacity")
        throughput: dict[str, Any] = (
            {"read_capacity": cap.read_min, "write_capacity": cap.write_min}
            if provisioned and cap else {})
        gsis = [{
            "name": gname, "hash_key": g.hash, **({"range_key": g.range} if g.range else {}),
            **_projection(g.projection, g.non_key_attributes), **throughput,
        } for gname, g in s.global_indexes.items()]
        lsis = [{"name": lname, "range_key": lsi.range,
                 **_projection(lsi.projection, lsi.non_key_attributes)}
                for lname, lsi in s.local_indexes.items()]
        self.table = aws.dynamodb.Table(
            name,
            name=args.physical_name,
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            hash_key=s.key.hash, range_key=s.key.range,
            attributes=[{"name": a, "type": t} for a, t in s.attributes.items()],
            global_secondary_indexes=gsis or None,
            local_secondary_indexes=lsis or None,
            ttl={"enabled": True, "attribute_name": s.ttl} if s.ttl else None,
            stream_enabled=bool(s.stream),
            stream_view_type=STREAM_VIEW[s.stream] if s.stream else None,
            point_in_time_recovery={"enabled": s.pitr},
            server_side_encryption={"enabled": True, "kms_key_arn": args.kms_key_arn},
            deletion_protection_enabled=args.deletion_protection,
            tags=store_tags(args.store_name),
            **throughput,
            # Autoscaling owns provisioned capacity once the table exists.
            opts=child(self, ignore_changes=["readCapacity", "writeCapacity"]
                       if provisioned else None),
        )
        if provisioned and cap is not None:
            self._autoscale(name, f"table/{args.physical_name}", "table", cap)
            for gname in s.global_indexes:
                self._autoscale(f"{name}-{gname}",
                                f"table/{args.physical_name}/index/{gname}", "index", cap)
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.stream_arn = self.table.stream_arn if s.stream else None
        self.register_outputs({"table_name": self.table_name, "table_arn": self.table_arn,
                               "stream_arn": self.stream_arn})

    def _autoscale(self, name: str, resource_id: str, level: str, cap: Capacity) -> None:
        for dim, lo, hi, metric in (
            ("Read", cap.read_min, cap.read_max, "DynamoDBReadCapacityUtilization"),
            ("Write", cap.write_min, cap.write_max, "DynamoDBWriteCapacityUtilization"),
        ):
            target = aws.appautoscaling.Target(
                f"{name}-{dim.lower()}", service_namespace="dynamodb",
                resource_id=resource_id, min_capacity=lo, max_capacity=hi,
                scalable_dimension=f"dynamodb:{level}:{dim}CapacityUnits",
                tags=store_tags(self.store_name), opts=child(self, depends_on=[self.table]))
            aws.appautoscaling.Policy(
                f"{name}-{dim.lower()}", policy_type="TargetTrackingScaling",
                resource_id=target.resource_id, scalable_dimension=target.scalable_dimension,
                service_namespace=target.service_namespace,
                target_tracking_scaling_policy_configuration={
                    "target_value": cap.target_utilization,
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                }, opts=child(self))
