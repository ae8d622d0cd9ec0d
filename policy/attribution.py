"""Which system, service and store a resource belongs to, and what one resource names.

The program tags every taggable resource (``polystore:system``, ``polystore:environment``,
``polystore:service``, ``polystore:store``); those tags are read first. A resource without
them (IAM role policies cannot be tagged) inherits from its parent chain or the role it
attaches to. Physical names (``tcgstore-prod-Cards``) come from :mod:`polystore.naming`,
never restated here.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from policy.model import Resource, StackContext, UnknownValue, is_unknown
from polystore.naming import service_role_name, store_physical_name
from polystore.topology.model import PostgresStore, System

TAG_SYSTEM = "polystore:system"
TAG_ENVIRONMENT = "polystore:environment"
TAG_SERVICE = "polystore:service"
TAG_STORE = "polystore:store"

ROLE = "aws:iam/role:Role"


def inherited_tag(r: Resource, ctx: StackContext, key: str) -> str | None:
    """A tag of the resource, else of its nearest tagged ancestor, else its provider's
    ``defaultTags`` (the program tags through one provider per system/service, with the
    plain keys ``system``/``service``/``environment``)."""
    seen: set[str] = set()
    cur: Resource | None = r
    while cur is not None and cur.urn not in seen:
        seen.add(cur.urn)
        value = cur.tags().get(key)
        if value:
            return value
        provider = ctx.by_urn((cur.raw.get("options") or {}).get("provider"))
        if provider is not None:
            value = _default_tags(provider).get(key.removeprefix("polystore:"))
            if value:
                return value
        cur = ctx.by_urn(cur.parent)
    return None


def _default_tags(provider: Resource) -> dict[str, str]:
    raw = provider.inputs.get("defaultTags")
    if isinstance(raw, str) and not is_unknown(raw):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    tags = raw.get("tags") if isinstance(raw, dict) else None
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def references(value: Any, r: Resource) -> bool:
    """Does ``value`` (a name, ARN, id or URN in some input) designate resource ``r``?"""
    if not isinstance(value, str) or is_unknown(value):
        return False
    names = {r.urn, r.name, str(r.raw.get("id", ""))}
    for key in ("name", "arn", "id", "clusterIdentifier", "identifier", "domainName"):
        v = r.inputs.get(key)
        if isinstance(v, str) and not is_unknown(v):
            names.add(v)
    outputs = r.raw.get("outputs")
    if isinstance(outputs, dict):
        names.update(str(v) for k, v in outputs.items() if k in ("id", "arn", "name"))
    names.discard("")
    if value in names:
        return True
    # An ARN ends in the resource's name (role/NAME, table/NAME, secret:NAME-xxxxxx).
    return any(re.search(rf"[/:]{re.escape(n)}(?:$|[/-])", value) for n in names if len(n) > 2)


def resolve(value: Any, candidates: Iterable[Resource], what: str,
            referrer: Resource | None = None) -> Resource | None:
    """The candidate ``value`` designates; UnknownValue if computed; None if none does.

    A computed value is still resolved when the referrer's recorded dependencies
    (``options.dependsOn``) name exactly one candidate: that is where the value comes from.
    """
    candidates = list(candidates)
    if not is_unknown(value):
        for c in candidates:
            if references(value, c):
                return c
    if referrer is not None:
        deps = set((referrer.raw.get("options") or {}).get("dependsOn") or ())
        hits = [c for c in candidates if c.urn in deps]
        if len(hits) == 1:
            return hits[0]
    if is_unknown(value):
        raise UnknownValue(what)
    return None


def service_of(r: Resource, ctx: StackContext) -> str | None:
    """The service owning a role, policy, task or security group."""
    tagged = inherited_tag(r, ctx, TAG_SERVICE)
    if tagged:
        return tagged
    role_ref = r.inputs.get("role")
    if role_ref is not None:
        role = resolve(role_ref, ctx.of_type(ROLE), f"{r.name}.role")
        if role is not None:
            return inherited_tag(role, ctx, TAG_SERVICE)
    return None


def system_for(r: Resource, ctx: StackContext) -> System | None:
    name = inherited_tag(r, ctx, TAG_SYSTEM)
    for s in ctx.systems:
        if s.name == name:
            return s
    return ctx.systems[0] if len(ctx.systems) == 1 else None


def physical_names(system: System, environment: str) -> dict[str, str]:
    """Store name → the physical table/index/topic/database name in this environment."""
    return {n: store_physical_name(system, environment, n) for n in system.stores}


def store_of(r: Resource, ctx: StackContext) -> tuple[System, str] | None:
    """The (system, store) a data resource implements: by tag, else by physical name."""
    tagged = inherited_tag(r, ctx, TAG_STORE)
    systems = [s for s in ctx.systems if s.name == inherited_tag(r, ctx, TAG_SYSTEM)] or ctx.systems
    for system in systems:
        if tagged in system.stores:
            return system, tagged
        for store, phys in physical_names(system, ctx.environment).items():
            for key in ("name", "databaseName", "dbName"):
                v = r.inputs.get(key)
                if isinstance(v, str) and v == phys:
                    return system, store
    return None


_ARN_NAME = [
    re.compile(r"^arn:[^:]*:dynamodb:[^:]*:[^:]*:table/([^/]+)"),
    re.compile(r"^arn:[^:]*:kafka:[^:]*:[^:]*:(?:topic|group|transactional-id)/[^/]+/[^/]+/([^/]+)"),
    re.compile(r"^arn:[^:]*:es:[^:]*:[^:]*:domain/[^/]+/([^/]+)"),
    re.compile(r"^arn:[^:]*:rds-db:[^:]*:[^:]*:dbuser:[^/]+/(.+)$"),
    re.compile(r"^arn:[^:]*:secretsmanager:[^:]*:[^:]*:secret:(.+)$"),
]


def arn_targets(arn: str) -> list[str]:
    """The data names an IAM resource pattern points at (table, topic, index, db user)."""
    for pattern in _ARN_NAME:
        m = pattern.match(arn)
        if m:
            return [m.group(1)]
    return []


def stores_reached(pattern: str, system: System, environment: str) -> Iterator[str]:
    """Stores whose physical name (or owner's DB user) the IAM resource pattern covers."""
    if pattern == "*":
        yield from system.stores
        return
    targets = arn_targets(pattern)
    if not targets:
        return
    phys = physical_names(system, environment)
    for target in targets:
        for store, name in phys.items():
            spec = system.stores[store]
            if isinstance(spec, PostgresStore) and ":rds-db:" in pattern:
                if fnmatch.fnmatchcase(service_role_name(system, spec.owner), target):
                    yield store
            elif fnmatch.fnmatchcase(name, target) or fnmatch.fnmatchcase(name, target + "*"):
                yield store
