"""Per-stack configuration: enforcement levels and thresholds, CrossGuard's shape.

``policy/config/<stack>.yaml`` (else ``policy/config/<environment>.yaml``) or ``--config``::

    all: mandatory                 # optional: level for every rule not named below
    PS-RDS-03:                     # a rule id
      enforcementLevel: advisory   # advisory | mandatory | disabled
      minimumDays: 21              # a threshold the rule declares in ``params``
    PS-SEC-02: disabled            # shorthand for {enforcementLevel: disabled}

This is exactly the JSON ``pulumi preview --policy-pack-config`` reads, so one file serves
both runs (``yaml.safe_load`` it and dump JSON for the CLI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policy.model import LEVELS, Rule

CONFIG_DIR = Path(__file__).resolve().parent / "config"


class ConfigError(ValueError):
    """A configuration file that does not fit the rules."""


def config_path(stack: str, environment: str) -> Path | None:
    for name in (stack, environment):
        p = CONFIG_DIR / f"{name}.yaml"
        if p.is_file():
            return p
    return None


def load(path: Path | None, rules: list[Rule]) -> dict[str, dict[str, Any]]:
    """Normalised settings ``{rule-id: {enforcementLevel?, **params}}``; ConfigError if wrong."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read policy config: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a policy config is a mapping of rule id → settings")
    known = {r.id: r for r in rules}
    out: dict[str, dict[str, Any]] = {}
    default = data.pop("all", None)
    if default is not None:
        _level(path, "all", default)
        out.update({rid: {"enforcementLevel": default} for rid in known})
    for rid, value in data.items():
        if rid not in known:
            raise ConfigError(f"{path}: unknown rule {rid!r} (known: {', '.join(sorted(known))})")
        settings = {"enforcementLevel": value} if isinstance(value, str) else value
        if not isinstance(settings, dict):
            raise ConfigError(f"{path}: {rid}: expected a level or a mapping, got {value!r}")
        allowed = {"enforcementLevel", "environments", *known[rid].params}
        for key in settings:
            if key not in allowed:
                raise ConfigError(f"{path}: {rid}: unknown setting {key!r} "
                                  f"(allowed: {', '.join(sorted(allowed))})")
        if "enforcementLevel" in settings:
            _level(path, rid, settings["enforcementLevel"])
        out.setdefault(rid, {}).update(settings)
    return out


def _level(path: Path, rid: str, level: Any) -> None:
    if level not in LEVELS and level != "remediate":
        raise ConfigError(f"{path}: {rid}: enforcementLevel {level!r} is not one of {LEVELS}")


def level_of(rule: Rule, settings: dict[str, dict[str, Any]]) -> str:
    level = settings.get(rule.id, {}).get("enforcementLevel", rule.level)
    return "mandatory" if level == "remediate" else str(level)
