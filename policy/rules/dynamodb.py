"""DynamoDB rules: PITR, CMK encryption, deletion protection, autoscaling, streams, TTL."""

from __future__ import annotations

from collections.abc import Iterator

from policy.attribution import store_of
from policy.model import Resource, Rule, StackContext, as_list
from policy.rules._common import AUTOSCALING_TARGET, DDB_TABLE, LAMBDA_ESM, covered_by_backup
from polystore.topology.model import DynamoStore

STREAM_VIEW = {"new-image": "NEW_IMAGE", "old-image": "OLD_IMAGE",
               "new-and-old-images": "NEW_AND_OLD_IMAGES", "keys-only": "KEYS_ONLY"}


class DynamoPitr(Rule):
    """Point-in-time recovery on.

    Checkov CKV_AWS_28; cdk-nag AwsSolutions-DDB3.
    """

    id, name, group = "PS-DDB-01", "dynamodb-pitr", "dynamodb"
    types = (DDB_TABLE,)
    reason = "PITR restores any second of the last 35 days after a bad write."
    remediation = "Set pointInTimeRecovery: {enabled: true}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("pointInTimeRecovery.enabled") is not True:
            yield "pointInTimeRecovery.enabled is not true"


class DynamoSseCmk(Rule):
    """Server-side encryption with a customer-managed key.

    Checkov CKV_AWS_119; AWSGuard dynamodb-table-encryption-enabled.
    """

    id, name, group = "PS-DDB-02", "dynamodb-sse-cmk", "dynamodb"
    types = (DDB_TABLE,)
    reason = "Table data is encrypted with a key whose use we control and audit."
    remediation = "Set serverSideEncryption: {enabled: true, kmsKeyArn: <data CMK>}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("serverSideEncryption.enabled") is not True:
            yield "serverSideEncryption.enabled is not true (AWS-owned key)"
        elif not r.get("serverSideEncryption.kmsKeyArn"):
            yield "no serverSideEncryption.kmsKeyArn (AWS-managed key, not a CMK)"


class DynamoDeletionProtection(Rule):
    """Deletion protection on in prod.

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-DDB-03", "dynamodb-deletion-protection", "dynamodb"
    types = (DDB_TABLE,)
    reason = "A production table must not be deletable by one mistaken update."
    remediation = "Set deletionProtectionEnabled: true for prod."
    environments = ("prod",)

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("deletionProtectionEnabled") is not True:
            yield "deletionProtectionEnabled is not true"


class DynamoAutoscaling(Rule):
    """Provisioned tables (and their GSIs) have read and write autoscaling targets.

    Checkov CKV2_AWS_16.
    """

    id, name, group = "PS-DDB-04", "dynamodb-autoscaling", "dynamodb"
    types = (DDB_TABLE,)
    cross_resource = True
    reason = "Fixed provisioned capacity throttles at peak and overpays at night."
    remediation = "Add appautoscaling targets (table and each GSI, read and write)."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if r.get("billingMode", "PROVISIONED") != "PROVISIONED":
            return
        name = r.get("name", r.name)
        have = {(t.get("resourceId"), t.get("scalableDimension"))
                for t in ctx.of_type(AUTOSCALING_TARGET) if t.get("serviceNamespace") == "dynamodb"}
        wanted = [(f"table/{name}", "table")]
        wanted += [(f"table/{name}/index/{g.get('name')}", "index")
                   for g in as_list(r.get("globalSecondaryIndexes")) if isinstance(g, dict)]
        for resource_id, kind in wanted:
            for op in ("Read", "Write"):
                if (resource_id, f"dynamodb:{kind}:{op}CapacityUnits") not in have:
                    yield f"no {op.lower()} autoscaling target for {resource_id}"


class DynamoStreamView(Rule):
    """A stream with the declared view type wherever a consumer reads the stream.

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-DDB-05", "dynamodb-stream-for-consumers", "dynamodb"
    types = (DDB_TABLE,)
    cross_resource = True
    reason = "A Lambda or connector reading a stream gets nothing (or too little) without it."
    remediation = "Set streamEnabled: true and streamViewType to the topology's stream value."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        found = store_of(r, ctx)
        declared = None
        consumed = False
        if found:
            system, store = found
            spec = system.stores[store]
            declared = STREAM_VIEW.get(spec.stream) if isinstance(spec, DynamoStore) else None
            consumed = store in system.streamed_tables()
        name = r.get("name", r.name)
        for esm in ctx.of_type(LAMBDA_ESM):
            arn = esm.get("eventSourceArn", "")
            if isinstance(arn, str) and f":table/{name}/stream/" in arn:
                consumed = True
        if not (consumed or declared):
            return
        if r.get("streamEnabled") is not True:
            yield "streamEnabled is not true but the stream is " + (
                "read by a consumer" if consumed else "declared in the topology")
        elif declared and r.get("streamViewType") != declared:
            yield f"streamViewType {r.get('streamViewType')!r} != declared {declared!r}"
        elif not r.get("streamViewType"):
            yield "no streamViewType"


class DynamoTtlAttribute(Rule):
    """TTL on names its attribute (and the topology's TTL attribute is the one enabled).

    Checkov: none found; cdk-nag: none found.
    """

    id, name, group = "PS-DDB-06", "dynamodb-ttl-attribute", "dynamodb"
    types = (DDB_TABLE,)
    cross_resource = True
    reason = "TTL without the right attribute never expires anything."
    remediation = "Set ttl: {enabled: true, attributeName: <topology ttl>}."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        enabled = r.get("ttl.enabled") is True
        attribute = r.get("ttl.attributeName")
        if enabled and not attribute:
            yield "ttl.enabled without ttl.attributeName"
        found = store_of(r, ctx)
        if found:
            spec = found[0].stores[found[1]]
            if isinstance(spec, DynamoStore) and spec.ttl:
                if not enabled:
                    yield f"the topology declares ttl {spec.ttl!r} but ttl.enabled is not true"
                elif attribute != spec.ttl:
                    yield f"ttl.attributeName {attribute!r} != declared {spec.ttl!r}"


class DynamoBackupSelection(Rule):
    """Every table is selected by an AWS Backup plan.

    Checkov: none found for DynamoDB; cdk-nag: none found.
    """

    id, name, group = "PS-DDB-07", "dynamodb-backup-selection", "dynamodb"
    types = (DDB_TABLE,)
    cross_resource = True
    reason = "PITR ends at 35 days and dies with the table; backup copies outlive both."
    remediation = "Add the table ARN (or its backup tag) to a backup selection."

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        if not covered_by_backup(r, ctx):
            yield "not selected by any aws:backup/selection:Selection"


RULES: list[type[Rule]] = [DynamoPitr, DynamoSseCmk, DynamoDeletionProtection, DynamoAutoscaling,
                           DynamoStreamView, DynamoTtlAttribute, DynamoBackupSelection]
