"""Evaluate every rule over a preview (``polystore preview --format json``) offline.

The stack-level context is the preview's resources plus the topology of the repository,
the environment (from the stack name, e.g. ``tcgstore-prod`` or ``prod``) and the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy import config as policy_config
from policy.model import Finding, Resource, Rule, StackContext, UnknownValue, Violation
from policy.rules import all_rules
from policy.topology_keys import topology_place
from polystore.topology.model import ENVIRONMENTS, Topology


class PreviewError(ValueError):
    """A preview document that is not what ``polystore preview --format json`` writes."""


@dataclass
class Report:
    stack: str
    environment: str
    rules: list[Rule]
    findings: list[Finding] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)

    def failed(self, level: str | None = None) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"
                and (level is None or f.level == level)]

    @property
    def blocked(self) -> bool:
        return bool(self.failed("mandatory"))


def split_stack(stack: str, topology: Topology | None) -> tuple[str | None, str]:
    """(system or None, environment) from ``prod`` / ``tcgstore-prod`` / ``order-processor-dev``."""
    if stack in ENVIRONMENTS:
        return None, stack
    for env in ENVIRONMENTS:
        if stack.endswith("-" + env):
            system = stack[: -len(env) - 1]
            if topology is None or system in topology.systems:
                return system, env
    raise PreviewError(f"stack {stack!r}: expected ENV or SYSTEM-ENV with ENV one of "
                       f"{', '.join(ENVIRONMENTS)}")


def context(preview: Mapping[str, Any], topology: Topology,
            settings: Mapping[str, Mapping[str, Any]] | None = None) -> StackContext:
    if not isinstance(preview, Mapping) or not isinstance(preview.get("resources"), list):
        raise PreviewError("a preview is a JSON object with a 'resources' list "
                           "(write one with `polystore preview --stack S --format json`)")
    stack = str(preview.get("stack", ""))
    system, env = split_stack(stack, topology)
    env = str(preview.get("environment") or env)
    # The systems a preview deployed: named by the stack, listed by the preview or its
    # outputs (``run_preview`` restricted by ``polystore:systems``), else all of them.
    deployed = preview.get("systems") or ((preview.get("outputs") or {}).get("systems") or {})
    names = [system] if system else list(deployed or topology.systems)
    systems = [topology.systems[n] for n in names if n in topology.systems]
    resources = []
    for i, d in enumerate(preview["resources"]):
        if not isinstance(d, Mapping) or "type" not in d:
            raise PreviewError(f"resources[{i}] is not a resource (needs at least 'type')")
        resources.append(Resource.from_dict(_with_ids(d, preview)))
    return StackContext(stack=stack, environment=env, resources=resources, systems=systems,
                        settings=settings or {})


def _with_ids(d: Mapping[str, Any], preview: Mapping[str, Any]) -> Mapping[str, Any]:
    """Attach the id/ARN the mocked run gave a resource, so references by id resolve.

    The offline preview records inputs only; the ids it handed out are a pure function of
    type, name and inputs (infra.mock_state). Where infra is absent, ids stay unresolved
    and rules that need them report ``unknown``.
    """
    if "id" in d or not d.get("custom", True):
        return d
    try:
        from infra.mock_state import computed_state
    except ImportError:
        return d
    region = str((preview.get("outputs") or {}).get("region") or "us-east-1")
    try:
        rid, state = computed_state(str(d["type"]), str(d.get("name", "")),
                                    dict(d.get("inputs") or {}), region)
    except Exception:  # a mock that cannot model this input shape: keep the resource as is
        return d
    return {**d, "id": rid, "outputs": {k: v for k, v in state.items() if k in ("arn", "id")}}


def evaluate_context(ctx: StackContext, rules: list[Rule] | None = None) -> Report:
    rules = rules if rules is not None else all_rules()
    report = Report(ctx.stack, ctx.environment, rules)
    for rule in rules:
        level = policy_config.level_of(rule, dict(ctx.settings))  # type: ignore[arg-type]
        report.levels[rule.id] = level
        if level == "disabled" or not rule.applies(ctx):
            continue
        try:
            violations = list(rule.check_stack(ctx))
        except UnknownValue as exc:
            violations = [Violation(f"cannot be checked at preview: {exc.path} is unknown",
                                    unknown=True)]
        for v in violations:
            r = v.resource
            place = topology_place(rule.id, r, ctx)
            report.findings.append(Finding(
                rule.id, rule.name, level, "unknown" if v.unknown else "fail",  # type: ignore[arg-type]
                v.message, r.name if r else None, r.type if r else None, r.urn if r else None,
                topology=str(place) if place else None,
                topology_file=str(place.path) if place else None,
                topology_line=place.line if place else None))
    return report


def evaluate(preview: Mapping[str, Any], topology: Topology, config_file: Path | None = None,
             rules: list[Rule] | None = None) -> Report:
    """Load the stack's config (explicit file, else policy/config/<stack|env>.yaml) and run."""
    rules = rules if rules is not None else all_rules()
    ctx = context(preview, topology)
    path = config_file or policy_config.config_path(ctx.stack, ctx.environment)
    ctx.settings = policy_config.load(path, rules)
    return evaluate_context(ctx, rules)
