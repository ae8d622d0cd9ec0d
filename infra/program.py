"""The program: for every selected system, the components its topology asks for.

``build_program`` is what ``infra/__main__.py`` runs under the real engine and what the
offline preview runs under mocks. It returns the stack outputs (``__main__`` exports them).
"""

from __future__ import annotations

import zlib
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import StackSettings
from infra.system import SystemDeployment, SystemDeploymentArgs


def vpc_cidr(system: str) -> str:
    """A stable /16 per system, independent of which other systems exist."""
    return f"10.{16 + zlib.crc32(system.encode()) % 224}.0.0/16"


def build_program(settings: StackSettings, topology: Any) -> dict[str, Any]:
    systems = topology.select(list(settings.systems))
    identity = aws.get_caller_identity_output()
    outputs: dict[str, Any] = {
        "environment": settings.environment, "profile": settings.profile.name,
        "region": settings.region, "systems": {},
    }
    for system in systems:
        deployment = SystemDeployment(system.name, SystemDeploymentArgs(
            system=system, settings=settings, account_id=identity.account_id,
            cidr=vpc_cidr(system.name)))
        outputs["systems"][system.name] = deployment.outputs
    return outputs


def export(outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)
