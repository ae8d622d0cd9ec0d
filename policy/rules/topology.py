"""Topology rules (ours alone): the stack must be exactly what stacks/<system>.yaml declares.

Database per service, stores ↔ resources one to one, sensitive data backed up, and every
access pattern served by a key or index that the stack actually deploys.
"""

from __future__ import annotations

from collections.abc import Iterator

from policy.attribution import (
    ROLE_CDC_CONNECTOR,
    ROLE_CDC_SINK,
    ROLE_DB_SETUP,
    ROLE_KAFKA_ADMIN,
    ROLE_REINDEX,
    ROLE_SEARCH_BOOTSTRAP,
    ROLE_SERVICE,
    ROLE_STREAM_TO_SEARCH,
    TAG_LINK,
    TAG_ROLE,
    TAG_SERVICE,
    TAG_STORE,
    TAG_SYSTEM,
    inherited_tag,
    name_hint,
    resolve,
    role_resource,
    store_of,
    stores_hosted,
    stores_reached,
    system_for,
)
from policy.model import Resource, Rule, StackContext, UnknownValue, Violation, as_list
from policy.rules._common import (
    DDB_TABLE,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    MSK_SERVERLESS,
    OPENSEARCH_DOMAIN,
    RDS_CLUSTER,
    RDS_INSTANCE,
    covered_by_backup,
    listed,
    policy_documents,
    statements,
)
from policy.rules.network import database_security_groups, ingress_of
from polystore.topology.model import DynamoStore, PostgresStore, System

SENSITIVE = {"money", "orders", "payments"}
# Action prefixes that read or write a store (others, e.g. ecr:* on *, reach no data).
DATA_ACTIONS = ("dynamodb:", "kafka-cluster:", "es:", "rds-db:", "secretsmanager:")
DATA_TYPES = (DDB_TABLE, RDS_CLUSTER, RDS_INSTANCE)


def _guard(r: Resource, fn: object) -> Iterator[Violation]:
    try:
        yield from fn()  # type: ignore[operator]
    except UnknownValue as exc:
        yield Violation(f"cannot be checked at preview: {exc.path} is unknown", r, unknown=True)


def reachable_stores(role: Resource, ctx: StackContext, system: System) -> set[str] | None:
    """Stores a workload identity may reach, from its ``polystore:role``/``service``/``link``
    tags and the topology; None for identities no topology rule scopes (RDS monitoring,
    AWS Backup: AWS-managed policies, judged by PS-IAM-01)."""
    kind = inherited_tag(role, ctx, TAG_ROLE)
    if kind == ROLE_SERVICE:
        service = inherited_tag(role, ctx, TAG_SERVICE)
        if service not in system.services:
            return set()  # tagged as a service the topology does not have: reaches nothing
        return set(system.stores_of(service)) | set(system.consumed_topics(service))
    if kind in (ROLE_STREAM_TO_SEARCH, ROLE_CDC_SINK, ROLE_REINDEX):
        link = system.links.get(inherited_tag(role, ctx, TAG_LINK) or "")
        if link is None:
            return set()
        return {v for v in (getattr(link, "source", None), getattr(link, "target", None),
                            getattr(link, "topic", None)) if v}
    if kind == ROLE_CDC_CONNECTOR:
        return {n for link in system.cdc_links().values() for n in (link.source, link.topic)}
    if kind == ROLE_KAFKA_ADMIN:
        return set(system.topic_stores())
    if kind == ROLE_DB_SETUP:  # a store's setup task runs as its owner, on its database
        service = inherited_tag(role, ctx, TAG_SERVICE)
        return {n for n, s in system.postgres_stores().items() if s.owner == service}
    if kind == ROLE_SEARCH_BOOTSTRAP:
        return set(system.search_stores())
    return None


class TaskRoleOwnStoresOnly(Rule):
    """No workload role reaches a store it has no business with: a service only its own
    stores and the topics it consumes; a link's Lambda only that link's stores; the CDC
    connector only CDC sources and their topics. Roles are told apart by their
    ``polystore:role``/``service``/``link`` tags (role policies through their role).

    Checkov: none found; cdk-nag: none found (topology-aware).
    """

    id, name, group = "PS-TOPO-01", "database-per-service-iam", "topology"
    types = (IAM_ROLE_POLICY, IAM_POLICY, IAM_ROLE)
    cross_resource = True
    reason = "Database per service is enforced by IAM, not hoped for."
    remediation = "Grant each service role only the ARNs of the stores it owns (or consumes)."

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        for r in ctx.of_type(*self.types):
            yield from _guard(r, lambda r=r: self._one(r, ctx))

    def _one(self, r: Resource, ctx: StackContext) -> Iterator[Violation]:
        role = role_resource(r, ctx) if r.type != IAM_POLICY else r
        if role is None:
            return
        system = system_for(role, ctx)
        if system is None:
            if inherited_tag(role, ctx, TAG_ROLE):  # a workload nobody can scope: say so
                yield Violation(f"workload role {role.name} has no polystore:system tag of a "
                                "system in this stack: its grants cannot be scoped", r)
            return
        allowed = reachable_stores(role, ctx, system)
        if allowed is None:
            return
        who = inherited_tag(role, ctx, TAG_ROLE)
        if who == ROLE_SERVICE:
            who = f"service {inherited_tag(role, ctx, TAG_SERVICE)!r}"
        for label, doc in policy_documents(r):
            for s in statements(doc, label):
                if s.get("Effect", "Allow") != "Allow" or not any(
                        a == "*" or a.startswith(DATA_ACTIONS) for a in listed(s.get("Action"))):
                    continue
                for pattern in listed(s.get("Resource")):
                    for store in set(stores_reached(pattern, system, ctx.environment)) - allowed:
                        owner = system.stores[store].owner
                        yield Violation(f"role of {who} reaches store {store!r} "
                                        f"owned by {owner!r} via {pattern}", r)


class DatabaseSgOwnerOnly(Rule):
    """A database security group admits only its owner's workload group, its owner's
    setup task (and, on CDC sources, the system's CDC connector). All are recognised by
    tags alone: ``polystore:role=service`` or ``db-setup`` + ``polystore:service=<owner>``,
    or ``polystore:role=cdc-connector``, in the database's own system.

    Checkov: none found; cdk-nag: none found (topology-aware).
    """

    id, name, group = "PS-TOPO-02", "database-per-service-network", "topology"
    types = ("aws:ec2/securityGroup:SecurityGroup",)
    cross_resource = True
    reason = "Only the owning service (and its CDC connector) may open a connection."
    remediation = ("Admit only the owning service's security group (tagged polystore:role="
                   "service) or, on a CDC source, the connector's (polystore:role=cdc-connector).")

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        groups = ctx.of_type("aws:ec2/securityGroup:SecurityGroup")
        attached: dict[str, tuple[System, str]] = {}  # SG urn → the store it guards
        for data in ctx.of_type(RDS_CLUSTER, RDS_INSTANCE):
            hit = store_of(data, ctx)
            for ref in as_list(data.inputs.get("vpcSecurityGroupIds")):
                try:
                    sg = resolve(ref, groups, f"{data.name}.vpcSecurityGroupIds", data)
                except UnknownValue:
                    continue
                if sg is not None and hit is not None:
                    attached[sg.urn] = hit
        for sg in database_security_groups(ctx).values():
            store_name = inherited_tag(sg, ctx, TAG_STORE)
            system = system_for(sg, ctx)
            if sg.urn in attached:
                system, store_name = attached[sg.urn]
            if system is None or store_name not in system.stores:
                continue
            owner = system.stores[store_name].owner
            cdc = store_name in system.cdc_sources()
            for carrier, e in ingress_of(sg, ctx):
                for i, ref in enumerate(as_list(e.get("securityGroups"))):
                    try:
                        src = resolve(ref, groups, f"{carrier.name}.securityGroups.{i}",
                                      carrier)
                    except UnknownValue as exc:
                        yield Violation(f"cannot be checked at preview: {exc.path} is unknown",
                                        carrier, unknown=True)
                        continue
                    if src is None:  # an id no group of this stack has: cannot attribute
                        yield Violation(f"cannot be checked: {carrier.name} admits {ref}, which "
                                        "is no security group of this stack", carrier,
                                        unknown=True)
                        continue
                    who = inherited_tag(src, ctx, TAG_SERVICE)
                    role = inherited_tag(src, ctx, TAG_ROLE)
                    same_system = inherited_tag(src, ctx, TAG_SYSTEM) == system.name
                    if same_system and role in (ROLE_SERVICE, ROLE_DB_SETUP) and who == owner:
                        continue
                    if same_system and cdc and role == ROLE_CDC_CONNECTOR:
                        continue
                    what = f"role {role}" if role else "no polystore:role tag"
                    if role == ROLE_SERVICE:
                        what = f"service {who}"
                    yield Violation(f"{sg.name} (store {store_name!r}, owner {owner!r}) admits "
                                    f"{src.name} ({what})", carrier)


class StoresMatchStack(Rule):
    """Every store in the topology exists in the stack; no data resource is outside it.
    Matched by tags: ``polystore:store`` on tables, clusters and instances,
    ``polystore:stores`` on the OpenSearch domain / MSK cluster hosting indexes / topics.

    Checkov: none found; cdk-nag: none found (topology-aware).
    """

    id, name, group = "PS-TOPO-03", "stores-match-topology", "topology"
    types = (*DATA_TYPES, OPENSEARCH_DOMAIN, MSK_SERVERLESS)
    cross_resource = True
    reason = "A store missing from the stack breaks a service; an extra one escapes every rule."
    remediation = "Declare the store in stacks/<system>.yaml, or remove the resource."

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        found: dict[tuple[str, str], Resource] = {}
        for r in ctx.of_type(*DATA_TYPES):
            if r.type == RDS_INSTANCE and r.get("replicateSourceDb"):
                continue
            hit = store_of(r, ctx)
            if hit is None:
                tag = inherited_tag(r, ctx, TAG_STORE)
                hint = name_hint(r, ctx)
                why = (f"is tagged polystore:store={tag!r}, not a store of its system" if tag
                       else "carries no polystore:store tag")
                yield Violation(f"{r.type} {r.name} {why}: it implements no store of the "
                                "topology" + (f" (by name it looks like {hint})" if hint else ""),
                                r)
            elif (hit[0].name, hit[1]) in found:
                yield Violation(f"{r.name} and {found[(hit[0].name, hit[1])].name} both claim "
                                f"store {hit[0].name}/{hit[1]}", r)
            else:
                found[(hit[0].name, hit[1])] = r
        hosted: dict[tuple[str, str], set[str]] = {}  # (system, type) → stores it hosts
        for r in ctx.of_type(OPENSEARCH_DOMAIN, MSK_SERVERLESS):
            got = stores_hosted(r, ctx)
            if got is None:
                yield Violation(f"{r.type} {r.name} carries no polystore:stores tag: it hosts "
                                "no store of the topology", r)
                continue
            system, stores = got
            kind = "search" if r.type == OPENSEARCH_DOMAIN else "topic"
            for extra in sorted(stores - {n for n, s in system.stores.items()
                                          if s.kind == kind}):
                yield Violation(f"{r.name} claims {kind} store {system.name}/{extra}, which the "
                                "topology does not declare", r)
            hosted.setdefault((system.name, kind), set()).update(stores)
        for system in ctx.systems:
            for store, spec in system.stores.items():
                if spec.kind in ("dynamodb", "postgres") and (system.name, store) not in found:
                    yield Violation(f"store {system.name}/{store} ({spec.kind}) has no resource")
                elif spec.kind in ("search", "topic") and store not in hosted.get(
                        (system.name, spec.kind), set()):
                    where = "OpenSearch domain" if spec.kind == "search" else "MSK cluster"
                    yield Violation(f"{spec.kind} store {system.name}/{store} is hosted by no "
                                    f"{where} (none tagged polystore:stores with it)")


class SensitiveDataBackedUp(Rule):
    """Every store holding money, orders or payments has PITR and a backup selection.

    Checkov: none found; cdk-nag: none found (topology-aware).
    """

    id, name, group = "PS-TOPO-04", "sensitive-data-backed-up", "topology"
    types = DATA_TYPES
    cross_resource = True
    reason = "Money, orders and payments must be restorable to any second and kept off-table."
    remediation = "Enable PITR (DynamoDB) / backups (RDS) and add the store to a backup selection."

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        for r in ctx.of_type(*DATA_TYPES):
            yield from _guard(r, lambda r=r: self._one(r, ctx))

    def _one(self, r: Resource, ctx: StackContext) -> Iterator[Violation]:
        hit = store_of(r, ctx)
        if hit is None:
            return
        spec = hit[0].stores[hit[1]]
        held = SENSITIVE & set(spec.holds)
        if not held:
            return
        what = "/".join(sorted(held))
        if r.type == DDB_TABLE and r.get("pointInTimeRecovery.enabled") is not True:
            yield Violation(f"store {hit[1]} holds {what} without PITR", r)
        if r.type != DDB_TABLE and int(r.get("backupRetentionPeriod", 1)) < 1:
            yield Violation(f"store {hit[1]} holds {what} without automated backups", r)
        if not covered_by_backup(r, ctx):
            yield Violation(f"store {hit[1]} holds {what} and no backup selection covers it", r)


class AccessPatternsServed(Rule):
    """Every declared access pattern is served by a key or index the stack deploys.

    Checkov: none found; cdk-nag: none found (topology-aware).
    """

    id, name, group = "PS-TOPO-05", "access-patterns-served", "topology"
    types = (DDB_TABLE,)
    cross_resource = True
    reason = "A pattern whose index is missing from the table becomes a scan in production."
    remediation = "Deploy the GSI/LSI (or key) the access pattern names, with the declared keys."

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        tables: dict[tuple[str, str], Resource] = {}
        for r in ctx.of_type(DDB_TABLE):
            hit = store_of(r, ctx)
            if hit:
                tables[(hit[0].name, hit[1])] = r
        for system in ctx.systems:
            for name, ap in system.access_patterns.items():
                spec = system.stores.get(ap.store)
                if isinstance(spec, DynamoStore) and (system.name, ap.store) in tables:
                    r = tables[(system.name, ap.store)]
                    yield from _guard(
                        r, lambda r=r, ap=ap, n=name, s=spec: self._dynamo(r, n, ap, s))
                elif isinstance(spec, PostgresStore):
                    yield from self._postgres(system, name, ap.store, ap.table, ap.index)

    def _dynamo(self, r: Resource, name: str, ap: object, spec: DynamoStore) -> Iterator[Violation]:
        index = getattr(ap, "index", None)
        declared = spec.index_keys(index)
        if index is None:
            deployed = (r.get("hashKey"), r.get("rangeKey"))
        else:
            gsis = {g.get("name"): (g.get("hashKey"), g.get("rangeKey"))
                    for g in as_list(r.get("globalSecondaryIndexes")) if isinstance(g, dict)}
            lsis = {g.get("name"): (r.get("hashKey"), g.get("rangeKey"))
                    for g in as_list(r.get("localSecondaryIndexes")) if isinstance(g, dict)}
            deployed = {**gsis, **lsis}.get(index)  # type: ignore[assignment]
        if deployed is None:
            yield Violation(f"access pattern {name!r} needs index {index!r}, not deployed", r)
        elif declared is not None and tuple(deployed) != tuple(declared):
            yield Violation(f"access pattern {name!r}: deployed keys {deployed} != declared "
                            f"{declared}", r)

    def _postgres(self, system: System, name: str, store: str, table: str | None,
                  index: str | None) -> Iterator[Violation]:
        schema = system.schema(store)
        if table not in schema.tables:
            yield Violation(f"access pattern {name!r}: no table {table!r} in {store} migrations")
        elif index not in (None, "primary key") and index not in schema.indexes:
            yield Violation(f"access pattern {name!r}: no index {index!r} in {store} migrations")


RULES: list[type[Rule]] = [TaskRoleOwnStoresOnly, DatabaseSgOwnerOnly, StoresMatchStack,
                           SensitiveDataBackedUp, AccessPatternsServed]
