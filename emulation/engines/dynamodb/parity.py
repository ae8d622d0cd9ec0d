"""DynamoDB parity: every table's keys, GSIs, LSIs, stream, TTL and PITR."""

from __future__ import annotations

from typing import Any

from emulation.engines.base import Endpoints
from emulation.engines.dynamodb import provision as dyn
from polystore.naming import LOCAL_ENVIRONMENT, local_name, physical_name
from polystore.topology.model import System


def _diff(where: str, what: str, want: Any, have: Any) -> str:
    return f"{where}: {what}\n    - topology: {want}\n    + live:     {have}"


def check(systems: list[System], ep: Endpoints) -> list[str]:
    client = dyn.client(ep)
    live_tables = set(client.list_tables().get("TableNames", []))
    drift: list[str] = []
    for system in systems:
        declared = set()
        for store_name, store in system.dynamodb_stores().items():
            name = local_name(system, store_name)
            declared.add(name)
            where = f"{system.name}.{store_name} (table {name})"
            have = dyn.actual(client, name)
            if have is None:
                drift.append(f"{where}: table is missing")
                continue
            want = dyn.expected(store)
            for field in ("key", "stream", "ttl", "pitr"):
                if want[field] != have[field]:
                    drift.append(_diff(where, field, want[field], have[field]))
            for kind in ("gsi", "lsi"):
                for ix in sorted(set(want[kind]) | set(have[kind])):
                    if ix not in have[kind]:
                        drift.append(f"{where}: {kind.upper()} {ix} is missing")
                    elif ix not in want[kind]:
                        drift.append(f"{where}: {kind.upper()} {ix} exists but is not declared")
                    elif want[kind][ix] != have[kind][ix]:
                        drift.append(_diff(where, f"{kind.upper()} {ix}", want[kind][ix],
                                           have[kind][ix]))  # fmt: skip
        prefix = physical_name(system, LOCAL_ENVIRONMENT, "")
        for extra in sorted(t for t in live_tables - declared if t.startswith(prefix)):
            drift.append(f"{system.name}: table {extra} exists but no store declares it")
    return drift
