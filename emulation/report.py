"""What ``status`` and ``env`` print: engines, workers, stores and a service's variables.

``env`` prints the variables of DESIGN.md with the names the ECS task definitions use
(polystore.naming), filled with the local stack's values and the service's own login:
each engine plug-in adds the standard variables of its clients (``PG*``, ``AWS_*``,
``OPENSEARCH_URL``, ``KAFKA_BOOTSTRAP_SERVERS``), the naming module the store names.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from emulation import engines as registry
from emulation import procs as procs_mod
from emulation import supervisor, workers
from emulation.engines.base import endpoints_of
from emulation.errors import NotRunning
from emulation.runtimes import factory
from emulation.state import State, StateDir
from polystore.naming import local_name, store_env_var
from polystore.topology.model import System

ENV_FORMATS = ("shell", "dotenv", "json")


def _state(state_dir: StateDir) -> State:
    if not state_dir.exists():
        raise NotRunning(f"no local stack in {state_dir.root}", "run `polystore up`")
    return state_dir.load()


def status(state_dir: StateDir, systems: list[System]) -> dict[str, Any]:
    """The ``status --json`` document.

    Only the engines the stack needs are listed (those of the systems it provisioned).
    Each has a ``state``: ``running`` (answers), ``stopped`` (after a deliberate
    ``down``) or ``unhealthy`` (should run and does not answer); ``problems`` counts the
    unhealthy ones, which is what makes ``status`` exit non-zero.
    """
    state = _state(state_dir)
    engines: dict[str, Any] = {}
    if state.runtime and state.engines:
        live = factory.make(state.runtime, state_dir, state).status(state.engines)
        for name in state.engines:
            entry = live[name].as_json()
            entry["state"] = ("running" if entry["healthy"] else
                              "stopped" if state.stopped else "unhealthy")  # fmt: skip
            engines[name] = entry
    ep = endpoints_of(state)
    stores: list[dict[str, Any]] = []
    for system in systems:
        if system.name not in state.provisioned:
            continue
        for name, store in system.stores.items():
            entry: dict[str, Any] = {"system": system.name, "service": store.owner,
                                     "store": name, "kind": store.kind}  # fmt: skip
            engine = registry.serving(store.kind)
            if engine is None:
                entry |= {"endpoint": None, "note": f"{store.kind} stores are not emulated "
                          "locally yet", "name": local_name(system, name)}  # fmt: skip
            else:
                entry |= engine.store_status(system, name, store, ep)
            stores.append(entry)
    from emulation.stack import expected_workers

    procs = workers.status(state_dir)
    present = [s for s in systems if s.name in state.provisioned]
    for w in expected_workers(present, state, state_dir) if state.runtime else []:
        entry = procs.setdefault(w.name, {"pid": None, "alive": False, "log": ""})
        entry["url"] = w.url or None
        if w.health and entry["alive"]:
            entry["alive"] = workers.healthy(w.health)
    for entry in procs.values():
        entry["state"] = ("running" if entry["alive"] else
                          "stopped" if state.stopped else "unhealthy")  # fmt: skip
    restarted = supervisor.restarts(state_dir)
    for name, entry in [*engines.items(), *procs.items()]:
        entry["restarts"] = int(restarted.get(name, {}).get("restarts", 0))
    problems = sum(1 for e in [*engines.values(), *procs.values()] if e["state"] == "unhealthy")
    keeper = procs_mod.read_tracked(state_dir.pids, supervisor.NAME)
    from emulation import links

    link_states = links.status(present, state_dir) if state.runtime else {}
    return {"runtime": state.runtime or None, "state_dir": str(state_dir.root),
            "stopped": state.stopped, "engines": engines, "workers": procs,
            "supervisor": {"pid": keeper.pid if keeper and keeper.is_alive() else None,
                           "alive": bool(keeper and keeper.is_alive())},
            "links": link_states,
            "stores": stores, "problems": problems}  # fmt: skip


def env(state_dir: StateDir, system: System, service: str) -> dict[str, str]:
    """``NAME -> value`` for one service of one system, as its ECS task would have them."""
    state = _state(state_dir)
    if system.name not in state.provisioned:
        raise NotRunning(f"{system.name} is not provisioned in {state_dir.root}",
                         f"run `polystore up {system.name}`")  # fmt: skip
    ep = endpoints_of(state)
    from emulation.engines.dynamodb import region

    # Every ECS task has its region (the SDKs of any store, and the events library's MSK
    # auth, need one); boto3 reads AWS_DEFAULT_REGION, the other SDKs AWS_REGION.
    out: dict[str, str] = {"AWS_REGION": region(), "AWS_DEFAULT_REGION": region()}
    for name in registry.needed([system]):
        out |= registry.get(name).service_env(system, service, ep)
    for name, store in sorted(system.stores_of(service).items()):
        var = store_env_var(name, store)
        if var is not None:
            out[var] = local_name(system, name)
    for topic in system.consumed_topics(service):  # as the ECS task: consumed topics too
        var = store_env_var(topic, system.stores[topic])
        if var is not None:
            out[var] = local_name(system, topic)
    return out


def render_env(values: dict[str, str], fmt: str) -> str:
    """``shell``: ``export NAME='value'`` lines for eval; ``dotenv``: NAME=value; json."""
    if fmt == "json":
        return json.dumps(values, indent=2, sort_keys=True)
    if fmt == "dotenv":
        return "\n".join(f"{k}={_dotenv_quote(v)}" for k, v in values.items())
    if fmt == "shell":
        return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in values.items())
    raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(ENV_FORMATS)})")


def _dotenv_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "-_.:/@+=," for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
