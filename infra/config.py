"""Stack configuration: what one Pulumi stack deploys, read once and validated.

Keys (all under the ``polystore:`` namespace except ``aws:region``) are documented in
docs/infra.md. Nothing secret is configured here: passwords live only in Secrets Manager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.environments import EnvironmentProfile, profile

PROJECT = "polystore"
REPO_ROOT = Path(__file__).resolve().parent.parent
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class ConfigError(ValueError):
    """A stack configuration value is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class StackSettings:
    stack: str
    environment: str  # appears in physical names and tags
    profile: EnvironmentProfile
    region: str
    systems: tuple[str, ...] = ()  # empty: every system of the topology
    images: dict[str, str] = field(default_factory=dict)  # "system/service" -> image URI
    backup_copy_region: str | None = None
    availability_zones: tuple[str, ...] = ()

    def zones(self) -> tuple[str, ...]:
        if self.availability_zones:
            return self.availability_zones[: self.profile.az_count]
        return tuple(f"{self.region}{s}" for s in "abcdef"[: self.profile.az_count])


def settings_from_values(stack: str, values: dict[str, Any]) -> StackSettings:
    """Build settings from ``{"aws:region": ..., "polystore:profile": ...}`` (parsed values)."""

    def get(key: str, default: Any = None) -> Any:
        return values.get(key, default)

    region = get("aws:region")
    if not isinstance(region, str) or not REGION_RE.match(region):
        raise ConfigError(f"stack {stack}: aws:region must be an AWS region such as "
                          f"eu-west-1 (got {region!r}); set it with `pulumi config set aws:region`")
    environment = str(get(f"{PROJECT}:environment", stack))
    prof = profile(str(get(f"{PROJECT}:profile", environment)))
    systems = get(f"{PROJECT}:systems", [])
    if not isinstance(systems, list) or not all(isinstance(s, str) for s in systems):
        raise ConfigError(f"stack {stack}: {PROJECT}:systems must be a list of system names")
    images = get(f"{PROJECT}:images", {})
    if not isinstance(images, dict) or not all(
        isinstance(k, str) and "/" in k and isinstance(v, str) for k, v in images.items()
    ):
        raise ConfigError(f"stack {stack}: {PROJECT}:images must map 'system/service' to an "
                          "image URI, e.g. {'tcgstore/catalog': '...dkr.ecr...:1.4.2'}")
    copy_region = get(f"{PROJECT}:backupCopyRegion")
    if prof.cross_region_copy and not copy_region:
        raise ConfigError(f"stack {stack}: profile {prof.name} copies backups to another "
                          f"region; set {PROJECT}:backupCopyRegion (e.g. eu-central-1)")
    if copy_region is not None and (copy_region == region or not REGION_RE.match(copy_region)):
        raise ConfigError(f"stack {stack}: {PROJECT}:backupCopyRegion must be another AWS "
                          f"region than {region} (got {copy_region!r})")
    zones = get(f"{PROJECT}:availabilityZones", [])
    if zones and len(zones) < prof.az_count:
        raise ConfigError(f"stack {stack}: {PROJECT}:availabilityZones lists {len(zones)} "
                          f"zones; profile {prof.name} needs {prof.az_count}")
    return StackSettings(
        stack=stack, environment=environment, profile=prof, region=region,
        systems=tuple(systems), images=dict(images), backup_copy_region=copy_region,
        availability_zones=tuple(zones),
    )


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_values(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml`` with namespaced keys.

    Refuses ``secure:`` values: the offline preview cannot decrypt them and the shipped
    stacks must not need any.
    """
    path = stack_file(stack, root)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise ConfigError(f"no stack file {path} (stacks: {', '.join(known) or 'none'})")
    data = yaml.safe_load(path.read_text()) or {}
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: 'config' must be a mapping")
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise ConfigError(f"{path}: {key} is a secret; the offline preview cannot read "
                              "secrets and polystore needs none in stack config")
        full = key if ":" in key else f"{PROJECT}:{key}"
        out[full] = value
    return out


def settings_from_pulumi() -> StackSettings:
    """Settings of the running Pulumi program (real engine or mocks)."""
    import json

    import pulumi

    values: dict[str, Any] = {}
    region = pulumi.Config("aws").get("region")
    if region:
        values["aws:region"] = region
    cfg = pulumi.Config(PROJECT)
    for key in ("environment", "profile", "backupCopyRegion"):
        v = cfg.get(key)
        if v is not None:
            values[f"{PROJECT}:{key}"] = v
    for key in ("systems", "images", "availabilityZones"):
        raw = cfg.get(key)
        if raw is not None:
            values[f"{PROJECT}:{key}"] = json.loads(raw)
    return settings_from_values(pulumi.get_stack(), values)
