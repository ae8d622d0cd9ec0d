"""What ``status`` and ``env`` print: engines, stores and a service's variables.

``env`` prints the variables of DESIGN.md with the names the ECS task definitions use
(polystore.naming), filled with the local stack's values and the service's own login.
"""

from __future__ import annotations

import os
from typing import Any

from emulation.errors import NotRunning
from emulation.runtimes import factory
from emulation.runtimes.base import ENGINE_NAMES, endpoints_of
from emulation.state import State, StateDir
from polystore.naming import local_name, service_role_name, store_env_var
from polystore.topology.model import DynamoStore, PostgresStore, SearchStore, System

# moto and DynamoDB Local accept any credentials; boto3 only needs some to sign with.
LOCAL_AWS_KEY = "local"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _state(state_dir: StateDir) -> State:
    if not state_dir.exists():
        raise NotRunning(f"no local stack in {state_dir.root}", "run `polystore up`")
    return state_dir.load()


def status(state_dir: StateDir, systems: list[System]) -> dict[str, Any]:
    """The ``status --json`` document (``systems``: the topology's, filtered to provisioned)."""
    state = _state(state_dir)
    engines: dict[str, Any] = {}
    if state.runtime:
        live = factory.make(state.runtime, state_dir, state).status()
        engines = {e: live[e].as_json() for e in ENGINE_NAMES}
    ep = endpoints_of(state)
    stores: list[dict[str, Any]] = []
    for system in systems:
        if system.name not in state.provisioned:
            continue
        for name, store in system.stores.items():
            entry: dict[str, Any] = {"system": system.name, "service": store.owner,
                                     "store": name, "kind": store.kind}  # fmt: skip
            if isinstance(store, PostgresStore):
                role = service_role_name(system, store.owner)
                entry |= {"database": store.database, "host": ep.host,
                          "port": ep.postgres_port, "user": role,
                          "url": f"postgresql://{role}@{ep.host}:{ep.postgres_port}/"
                                 f"{store.database}"}  # fmt: skip
            elif isinstance(store, DynamoStore):
                entry |= {"table": local_name(system, name), "endpoint": ep.dynamodb_url,
                          "region": region(), "stream": bool(store.stream)}  # fmt: skip
            elif isinstance(store, SearchStore):
                entry |= {"index": local_name(system, name), "endpoint": ep.search_url}
            else:
                entry |= {"topic": local_name(system, name),
                          "endpoint": None,
                          "note": "topics are not emulated locally yet"}  # fmt: skip
            stores.append(entry)
    return {"runtime": state.runtime or None, "state_dir": str(state_dir.root),
            "engines": engines, "stores": stores}  # fmt: skip


def env(state_dir: StateDir, system: System, service: str) -> dict[str, str]:
    """``NAME -> value`` for one service of one system, as its ECS task would have them."""
    state = _state(state_dir)
    if system.name not in state.provisioned:
        raise NotRunning(f"{system.name} is not provisioned in {state_dir.root}",
                         f"run `polystore up {system.name}`")  # fmt: skip
    ep = endpoints_of(state)
    own = system.stores_of(service)
    out: dict[str, str] = {}
    pg = [s for s in own.values() if isinstance(s, PostgresStore)]
    if pg:
        role = service_role_name(system, service)
        out |= {"PGHOST": ep.host, "PGPORT": str(ep.postgres_port),
                "PGDATABASE": pg[0].database, "PGUSER": role,
                "PGPASSWORD": state.passwords.get(role, ""), "PGSSLMODE": "disable"}  # fmt: skip
    if any(isinstance(s, DynamoStore) for s in own.values()):
        out |= {"AWS_REGION": region(), "AWS_ENDPOINT_URL_DYNAMODB": ep.dynamodb_url,
                "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
                "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY}  # fmt: skip
    if any(isinstance(s, SearchStore) for s in own.values()):
        out["OPENSEARCH_URL"] = ep.search_url
    for name, store in sorted(own.items()):
        var = store_env_var(name, store)
        if var is None:
            continue
        out[var] = local_name(system, name)
    return out
