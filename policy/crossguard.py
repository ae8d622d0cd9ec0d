"""The same rules as CrossGuard policies (``pulumi preview --policy-pack policy/``).

Per-resource rules become ResourceValidationPolicy, rules reading other resources or the
topology StackValidationPolicy. ``PolicyPack(...)`` itself serves gRPC forever, so only
``policy/__main__.py`` builds it; this module only builds the policy list (importable,
testable). Unknown preview values map to the SDK's UnknownValueError (an advisory note).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, _is_unknown

from policy.attribution import TAG_ENVIRONMENT, TAG_SYSTEM, inherited_tag
from policy.model import UNKNOWN, Resource, Rule, StackContext, UnknownValue
from policy.rules import all_rules
from polystore.topology.loader import load_topology
from polystore.topology.model import Topology

ENV_VAR = "POLYSTORE_ENVIRONMENT"  # fallback when resources carry no environment tag


def plain(value: Any) -> Any:
    """Unwrap the SDK's unknown-checking proxies into plain values with our UNKNOWN marker."""
    if type(value).__name__ in ("_DictProxy", "_ListProxy", "_DictSecretsProxy",
                                "_ListSecretsProxy"):
        value = value["__target"]  # the raw dict/list; reading it raises nothing
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return UNKNOWN if _is_unknown(value) else value


_topology: Topology | None = None


def topology() -> Topology:
    global _topology
    if _topology is None:
        _topology = load_topology()
    return _topology


def _ctx(resources: list[Resource], config: Mapping[str, Any], rule: Rule) -> StackContext:
    topo = topology()
    # Tags come from the resource or its provider's default tags (see policy.attribution).
    probe = StackContext(stack="", environment="", resources=resources, systems=[])
    systems = {inherited_tag(r, probe, TAG_SYSTEM) for r in resources} - {None}
    chosen = [s for n, s in topo.systems.items() if n in systems] or list(topo.systems.values())
    envs = [e for r in resources if (e := inherited_tag(r, probe, TAG_ENVIRONMENT))]
    env = envs[0] if envs else os.environ.get(ENV_VAR, "prod")  # strictest when unsaid
    return StackContext(stack=env, environment=env, resources=resources, systems=chosen,
                        settings={rule.id: dict(config)})


def _with_providers(resources: list[Resource], providers: list[Any]) -> list[Resource]:
    """Add each distinct provider (its ``defaultTags`` carry system/service/environment)."""
    seen = {r.urn for r in resources}
    out = list(resources)
    for p in providers:
        if p is not None and p.urn not in seen:
            seen.add(p.urn)
            out.append(Resource(urn=p.urn, type=p.resource_type, name=p.name,
                                inputs=plain(p.props)))
    return out


def _resource(urn: str, type_: str, name: str, props: Any, provider: Any,
              parent: str | None = None) -> Resource:
    raw = {"options": {"provider": provider.urn}} if provider is not None else {}
    return Resource(urn=urn, type=type_, name=name, inputs=plain(props), parent=parent,
                    raw=raw)


def _report(rule: Rule, ctx: StackContext, report: ReportViolation) -> None:
    unknown: list[str] = []
    for v in rule.check_stack(ctx):
        if v.unknown:
            unknown.append(f"{v.resource.name if v.resource else 'stack'}: {v.message}")
        else:
            report(v.message, v.resource.urn if v.resource else None)
    if unknown:
        raise UnknownValueError(UNKNOWN_STRING_VALUE, ["; ".join(unknown)])


def _resource_validate(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        r = _resource(args.urn, args.resource_type, args.name, args.props, args.provider)
        ctx = _ctx(_with_providers([r], [args.provider]), args.get_config(), rule)
        if not rule.applies(ctx):
            return
        try:
            for message in rule.check(r, ctx):
                report(message, None)
        except UnknownValue as exc:
            raise UnknownValueError(UNKNOWN_STRING_VALUE, exc.path.split(".")) from exc
    return validate


def _stack_validate(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [_resource(p.urn, p.resource_type, p.name, p.props, p.provider,
                               p.parent.urn if p.parent is not None else None)
                     for p in args.resources]
        resources = _with_providers(resources, [p.provider for p in args.resources])
        ctx = _ctx(resources, args.get_config(), rule)
        if rule.applies(ctx):
            _report(rule, ctx, report)
    return validate


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    if not rule.params:
        return None
    return PolicyConfigSchema(properties={k: {} for k in rule.params})


Policy = ResourceValidationPolicy | StackValidationPolicy


def policies(rules: list[Rule] | None = None) -> list[Policy]:
    """One CrossGuard policy per rule, named by rule id (so config files are shared)."""
    out: list[Policy] = []
    for rule in rules if rules is not None else all_rules():
        common = dict(
            description=f"{rule.name}: {rule.reason}",
            enforcement_level=EnforcementLevel(rule.level),
            config_schema=_schema(rule),
            display_name=rule.name,
            remediation_steps=rule.remediation,
            tags=[rule.group],
        )
        if rule.cross_resource or type(rule).check_stack is not Rule.check_stack:
            out.append(StackValidationPolicy(name=rule.id, validate=_stack_validate(rule),
                                             **common))  # type: ignore[arg-type]
        else:
            out.append(ResourceValidationPolicy(name=rule.id, validate=_resource_validate(rule),
                                                **common))  # type: ignore[arg-type]
    return out
