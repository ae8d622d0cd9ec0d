"""Offline preview: run the Pulumi program under Pulumi's mocks and capture every resource.

No Pulumi CLI, no AWS credentials. The mock monitor records each registration as the
engine would receive it: type token, name, parent URN, inputs (camelCase, as the provider
gets them) and options. Values AWS would compute are mocked only where a real ARN can be
derived from the resource's own inputs (so IAM policies stay checkable); everything else
stays unknown and prints as :data:`UNKNOWN`.

``run_preview`` can be called many times in one process: each run gets a fresh monitor,
fresh settings and a fresh root stack.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import PROJECT, read_stack_values, settings_from_values
from infra.mock_state import MOCK_ACCOUNT, computed_state

UNKNOWN = "<computed>"
SECRET = "<secret>"

__all__ = ["SECRET", "UNKNOWN", "run_preview"]


def _clean(value: Any) -> Any:
    """Wire-format value → JSON value: unknowns, secrets, assets and references made plain."""
    if isinstance(value, str):
        return UNKNOWN if value == rpc.UNKNOWN else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return SECRET
        if sig == rpc._special_resource_sig:
            return value.get("urn", UNKNOWN)
        if sig == rpc._special_output_value_sig:
            if "value" not in value:
                return UNKNOWN
            return SECRET if value.get("secret") else _clean(value["value"])
        if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
            kind = "asset" if sig == rpc._special_asset_sig else "archive"
            return {kind: {k: _clean(v) for k, v in value.items() if k != rpc._special_sig_key}}
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Mocks(pulumi_mocks.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        return computed_state(args.typ, args.name, args.inputs, self.region)

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/preview",
                    "userId": "PREVIEW", "id": MOCK_ACCOUNT}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        raise NotImplementedError(f"the offline preview has no mock for invoke {args.token}")


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping what the engine would see of each registration."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.captured: list[dict[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            options: dict[str, Any] = {}
            if request.protect:
                options["protect"] = True
            deps = sorted(set(request.dependencies))
            if deps:
                options["dependsOn"] = deps
            if request.provider:
                options["provider"] = request.provider.rsplit("::", 1)[0]
            if request.ignoreChanges:
                options["ignoreChanges"] = list(request.ignoreChanges)
            if request.retainOnDelete:
                options["retainOnDelete"] = True
            self.captured.append({
                "urn": response.urn,
                "type": request.type,
                "name": request.name,
                # Children of the root stack are top level: their parent is null.
                "parent": None if not request.parent or "::pulumi:pulumi:Stack::" in
                request.parent else request.parent,
                "custom": bool(request.custom),
                "inputs": _clean(inputs),
                "options": options,
            })
        return response


def _config_strings(values: dict[str, Any]) -> dict[str, str]:
    """Pulumi config is strings; structured values travel JSON-encoded, as the CLI does."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def run_preview(
    stack: str,
    *,
    topology: Any = None,
    config_overrides: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the program for ``stack`` under mocks; return ``{stack, project, resources, outputs}``.

    ``config_overrides`` replaces keys of ``Pulumi.<stack>.yaml`` (``"polystore:systems"``,
    ``"aws:region"``...; a key without namespace means ``polystore:``); a value ``None``
    removes the key. ``values`` replaces the stack file altogether. ``topology`` replaces
    the one loaded from ``stacks/``.
    """
    from infra.program import build_program

    config = dict(values) if values is not None else read_stack_values(stack)
    for key, value in (config_overrides or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    stack_settings = settings_from_values(stack, config)
    if topology is None:
        from polystore.topology.loader import load_topology

        topology = load_topology()

    monitor = _CapturingMonitor(_Mocks(stack_settings.region))
    settings.ROOT.set(None)  # a fresh root stack per run, registered with this monitor
    pulumi.runtime.set_all_config(_config_strings(config))
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True,
                           monitor=monitor)
    outputs_holder: dict[str, Any] = {}

    async def program() -> None:
        outputs = build_program(stack_settings, topology)
        outputs_holder.update(await _resolve(outputs))

    _run(program)
    return {
        "stack": stack,
        "project": PROJECT,
        # Registration order varies from run to run (resources resolve concurrently);
        # sorted by URN, two previews of the same code and config are byte-identical,
        # so a reviewer can diff them.
        "resources": sorted(monitor.captured, key=lambda r: r["urn"]),
        "outputs": outputs_holder,
    }


async def _resolve(outputs: dict[str, Any]) -> dict[str, Any]:
    """Stack outputs as plain JSON; unknown parts become UNKNOWN."""
    serialized = await rpc.serialize_property(outputs, [], None, keep_output_values=True)
    return _clean(serialized)


def _run(program: Callable[[], Awaitable[None]]) -> None:
    settings.SETTINGS.rpc_manager.clear()
    _sync_await(run_pulumi_func(program))
