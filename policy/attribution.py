"""Which system, service and store a resource belongs to, and what one resource names.

Attribution reads tags, never names, wherever a resource can carry tags (docs/infra.md,
"Tags"): ``polystore:system`` / ``polystore:service`` / ``polystore:environment`` come with
the provider's default tags (one provider per service), ``polystore:store`` (one store) or
``polystore:stores`` (a domain or cluster hosting several), ``polystore:role`` and
``polystore:link`` are set on the resource by its component. Resources that cannot carry
tags (IAM role policies and attachments) are attributed through the role they attach to.
Physical names (``tcgstore-prod-Cards``) come from :mod:`polystore.naming`, never restated
here, and serve only as a hint in messages about untagged resources.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from policy.model import Resource, StackContext, UnknownValue, is_unknown
from polystore.naming import service_role_name, store_physical_name
from polystore.tags import (  # noqa: F401  (re-exported: the rules import them here)
    ROLE_CDC_CONNECTOR,
    ROLE_CDC_SINK,
    ROLE_DB_SETUP,
    ROLE_KAFKA_ADMIN,
    ROLE_REINDEX,
    ROLE_SEARCH_BOOTSTRAP,
    ROLE_SERVICE,
    ROLE_STREAM_TO_SEARCH,
    TAG_ENVIRONMENT,
    TAG_LINK,
    TAG_ROLE,
    TAG_SERVICE,
    TAG_STORE,
    TAG_STORES,
    TAG_SYSTEM,
)
from polystore.topology.model import PostgresStore, System

ROLE = "aws:iam/role:Role"


def inherited_tag(r: Resource, ctx: StackContext, key: str) -> str | None:
    """A tag of the resource, else its provider's ``defaultTags`` (the program sets
    system/service/environment through one provider per service), else the same from its
    nearest ancestor."""
    seen: set[str] = set()
    cur: Resource | None = r
    while cur is not None and cur.urn not in seen:
        seen.add(cur.urn)
        value = cur.tags().get(key)
        if value:
            return value
        provider = ctx.by_urn((cur.raw.get("options") or {}).get("provider"))
        if provider is not None:
            value = _default_tags(provider).get(key)
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
    names = r.designators
    if value in names:
        return True
    # An ARN ends in the resource's name (role/NAME, table/NAME, secret:NAME-xxxxxx).
    return any(_names_segment(value, n) for n in names if len(n) > 2)


def _names_segment(value: str, name: str) -> bool:
    """``re.search(rf"[/:]{re.escape(name)}(?:$|[/-])", value)`` without compiling a regex
    per name: the policy run calls this ~20 000 times per stack with ever new names."""
    start = value.find(name, 1)
    while start > 0:
        end = start + len(name)
        if value[start - 1] in "/:" and (end == len(value) or value[end] in "/-"):
            return True
        start = value.find(name, start + 1)
    return False


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


def role_resource(r: Resource, ctx: StackContext) -> Resource | None:
    """The IAM role a role, role policy or policy attachment is (or attaches to).

    Raises UnknownValue when the ``role`` reference is computed and the recorded
    dependencies do not name exactly one role.
    """
    if r.type == ROLE:
        return r
    ref = r.inputs.get("role")
    if ref is None:
        return None
    return resolve(ref, ctx.of_type(ROLE), f"{r.name}.role", r)


def service_of(r: Resource, ctx: StackContext) -> str | None:
    """The service owning a role, policy, task or security group (tags; role policies
    cannot carry tags and are attributed through their role)."""
    tagged = inherited_tag(r, ctx, TAG_SERVICE)
    if tagged:
        return tagged
    role = role_resource(r, ctx) if r.type != ROLE else None
    return inherited_tag(role, ctx, TAG_SERVICE) if role is not None else None


def system_for(r: Resource, ctx: StackContext) -> System | None:
    name = inherited_tag(r, ctx, TAG_SYSTEM)
    for s in ctx.systems:
        if s.name == name:
            return s
    return ctx.systems[0] if len(ctx.systems) == 1 and name is None else None


def physical_names(system: System, environment: str) -> dict[str, str]:
    """Store name → the physical table/index/topic/database name in this environment."""
    return {n: store_physical_name(system, environment, n) for n in system.stores}


def store_of(r: Resource, ctx: StackContext) -> tuple[System, str] | None:
    """The (system, store) a data resource implements, by its ``polystore:store`` tag."""
    tagged = inherited_tag(r, ctx, TAG_STORE)
    system = system_for(r, ctx)
    if tagged and system is not None and tagged in system.stores:
        return system, tagged
    return None


def stores_hosted(r: Resource, ctx: StackContext) -> tuple[System, set[str]] | None:
    """(system, stores) a shared resource hosts: ``polystore:stores`` (space-separated)."""
    system = system_for(r, ctx)
    raw = inherited_tag(r, ctx, TAG_STORES)
    if system is None or not raw:
        return None
    return system, set(raw.split())


def name_hint(r: Resource, ctx: StackContext) -> str | None:
    """For messages only: the store an untagged resource looks like by its physical name."""
    for system in ctx.systems:
        for store, phys in physical_names(system, ctx.environment).items():
            for key in ("name", "databaseName", "dbName"):
                v = r.inputs.get(key)
                if isinstance(v, str) and v == phys:
                    return f"{system.name}/{store}"
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


# Which store kind an ARN's service can designate (a table ARN never names an index).
_ARN_KIND = {"dynamodb": "dynamodb", "kafka": "topic", "es": "search", "rds-db": "postgres"}


def stores_reached(pattern: str, system: System, environment: str) -> Iterator[str]:
    """Stores whose physical name (or owner's DB user) the IAM resource pattern covers."""
    if pattern == "*":
        yield from system.stores
        return
    targets = arn_targets(pattern)
    if not targets:
        return
    parts = pattern.split(":")
    kind = _ARN_KIND.get(parts[2]) if len(parts) > 2 else None
    phys = physical_names(system, environment)
    for target in targets:
        for store, name in phys.items():
            spec = system.stores[store]
            if kind is not None and spec.kind != kind:
                continue
            if isinstance(spec, PostgresStore) and ":rds-db:" in pattern:
                if fnmatch.fnmatchcase(service_role_name(system, spec.owner), target):
                    yield store
            elif fnmatch.fnmatchcase(name, target) or fnmatch.fnmatchcase(name, target + "*"):
                yield store
