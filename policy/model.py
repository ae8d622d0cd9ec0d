"""The vocabulary every rule speaks: resources, findings, rules and the stack context.

Rules are pure functions over resource dicts shaped like the offline preview's
(``{"urn", "type", "name", "parent", "inputs", ...}``, inputs camelCase as the provider
receives them — the shape CrossGuard's ``args.props`` has). A value unknown at preview is
the string ``UNKNOWN``; reading one through :func:`get` raises :class:`UnknownValue`, the
way CrossGuard's proxy raises ``UnknownValueError``, so no rule passes silently on it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from polystore.topology.model import System

UNKNOWN = "<computed>"  # infra.preview.UNKNOWN: the offline preview's marker

Level = Literal["advisory", "mandatory", "disabled"]
LEVELS: tuple[Level, ...] = ("advisory", "mandatory", "disabled")
Status = Literal["fail", "unknown"]


class UnknownValue(Exception):
    """A rule read a value that is only known after deployment."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is unknown at preview")
        self.path = path


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def get(mapping: Mapping[str, Any] | None, path: str, default: Any = None) -> Any:
    """``a.b.0.c`` from nested inputs; ``default`` when absent; UnknownValue when computed."""
    cur: Any = mapping
    walked: list[str] = []
    for part in path.split("."):
        walked.append(part)
        if is_unknown(cur):
            raise UnknownValue(".".join(walked[:-1]) or path)
        if isinstance(cur, Mapping):
            if part not in cur or cur[part] is None:
                return default
            cur = cur[part]
        elif isinstance(cur, list | tuple) and part.isdigit():
            if int(part) >= len(cur):
                return default
            cur = cur[int(part)]
        else:
            return default
    if is_unknown(cur):
        raise UnknownValue(path)
    return cur


def as_list(value: Any) -> list[Any]:
    """Pulumi accepts one nested block or a list of them; rules always see a list."""
    if value is None:
        return []
    if is_unknown(value):
        raise UnknownValue("list")
    return list(value) if isinstance(value, list | tuple) else [value]


def parse_json(value: Any, what: str) -> Any:
    """IAM / KMS policies and container definitions travel as JSON strings."""
    if is_unknown(value):
        raise UnknownValue(what)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Resource:
        return cls(urn=str(d.get("urn", "")), type=str(d.get("type", "")),
                   name=str(d.get("name", "")), inputs=d.get("inputs") or {},
                   parent=d.get("parent"), raw=d)

    def get(self, path: str, default: Any = None) -> Any:
        return get(self.inputs, path, default)

    @functools.cached_property
    def designators(self) -> frozenset[str]:
        """Every string another resource may use to designate this one (URN, name, id,
        ARN...). Cached: rules resolve references tens of thousands of times per stack."""
        names = {self.urn, self.name, str(self.raw.get("id", ""))}
        for key in ("name", "arn", "id", "clusterIdentifier", "identifier", "domainName"):
            v = self.inputs.get(key)
            if isinstance(v, str) and not is_unknown(v):
                names.add(v)
        outputs = self.raw.get("outputs")
        if isinstance(outputs, dict):
            names.update(str(v) for k, v in outputs.items() if k in ("id", "arn", "name"))
        names.discard("")
        return frozenset(names)

    def tags(self) -> dict[str, str]:
        try:
            tags = self.get("tags", {})
        except UnknownValue:
            return {}
        return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {}


@dataclass(frozen=True)
class Violation:
    """What a rule reports: a message about a resource (None: the stack as a whole)."""

    message: str
    resource: Resource | None = None
    unknown: bool = False


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule_name: str
    level: Level
    status: Status
    message: str
    resource_name: str | None
    resource_type: str | None
    urn: str | None
    # Where the topology declares what the finding is about, and the value that fixes it
    # (``stacks/order-processor.yaml:37: pitr: true``); None when not a declared store's key.
    topology: str | None = None
    topology_file: str | None = None
    topology_line: int | None = None


@dataclass
class StackContext:
    """Everything a rule may read beyond one resource."""

    stack: str
    environment: str
    resources: list[Resource]
    systems: list[System]
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _by_type: dict[str, list[Resource]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for r in self.resources:
            self._by_type.setdefault(r.type, []).append(r)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def by_urn(self, urn: str | None) -> Resource | None:
        if not urn:
            return None
        if not hasattr(self, "_urns"):
            self._urns = {r.urn: r for r in self.resources}
        return self._urns.get(urn)


class Rule:
    """One check. Subclasses set the class attributes and implement ``check``.

    ``check`` yields violation messages for one resource of ``types``; rules that judge the
    stack as a whole (topology rules) override ``check_stack`` instead.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    group: ClassVar[str]
    types: ClassVar[tuple[str, ...]]
    reason: ClassVar[str]
    remediation: ClassVar[str]
    level: ClassVar[Level] = "mandatory"
    # True when the rule reads other resources or the topology (a CrossGuard stack policy).
    cross_resource: ClassVar[bool] = False
    # Environments the rule applies to (None: all). Config may override with "environments".
    environments: ClassVar[tuple[str, ...] | None] = None
    # Thresholds with their defaults; per-environment defaults as {"prod": v, ...} dicts.
    params: ClassVar[dict[str, Any]] = {}

    def param(self, ctx: StackContext, key: str) -> Any:
        value = ctx.settings.get(self.id, {}).get(key, self.params.get(key))
        if isinstance(value, Mapping) and ctx.environment in value:
            return value[ctx.environment]
        if isinstance(value, Mapping) and "default" in value:
            return value["default"]
        return value

    def applies(self, ctx: StackContext) -> bool:
        envs = ctx.settings.get(self.id, {}).get("environments", self.environments)
        return envs is None or ctx.environment in envs

    def check(self, r: Resource, ctx: StackContext) -> Iterator[str]:
        raise NotImplementedError

    def check_stack(self, ctx: StackContext) -> Iterator[Violation]:
        for r in ctx.of_type(*self.types):
            try:
                for message in self.check(r, ctx):
                    yield Violation(message, r)
            except UnknownValue as exc:
                yield Violation(f"cannot be checked at preview: {exc.path} is unknown", r,
                                unknown=True)
