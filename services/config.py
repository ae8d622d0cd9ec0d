"""A service's configuration: the standard environment, checked once at start.

Nothing here knows whether it runs on ECS or locally: the ECS task definition and
``polystore env`` set the same variables (``polystore.naming``). A missing variable
is a start-up error naming it, not a failure on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from polystore.naming import store_env_var
from polystore.topology.model import System


class ConfigError(Exception):
    """The environment lacks what the service's stores need."""


def required_variables(system: System, service: str) -> list[str]:
    """The variables a service needs, from the stores it owns and the topics it consumes."""
    out: list[str] = []
    own = system.stores_of(service)
    kinds = {s.kind for s in own.values()}
    if "postgres" in kinds:
        out += ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER"]
    if "search" in kinds:
        out.append("OPENSEARCH_URL")
    if "topic" in kinds or system.consumed_topics(service):
        out.append("KAFKA_BOOTSTRAP_SERVERS")
    names = [store_env_var(n, s) for n, s in sorted(own.items())]
    names += [store_env_var(t, system.stores[t]) for t in system.consumed_topics(service)]
    return out + [n for n in names if n]


@dataclass(frozen=True)
class ServiceConfig:
    system: System
    service: str
    env: Mapping[str, str] = field(repr=False)
    names: dict[str, str] = field(default_factory=dict)  # store name -> physical name

    @classmethod
    def from_env(cls, system: System, service: str,
                 env: Mapping[str, str] | None = None) -> ServiceConfig:  # fmt: skip
        env = dict(os.environ if env is None else env)
        if service not in system.services:
            raise ConfigError(f"no service {service!r} in {system.name} "
                              f"(known: {', '.join(sorted(system.services))})")  # fmt: skip
        missing = [v for v in required_variables(system, service) if not env.get(v)]
        if missing:
            raise ConfigError(
                f"{system.name}.{service}: missing environment variables {', '.join(missing)} "
                f"(locally: eval \"$(polystore env {system.name}.{service})\")"
            )
        names = {}
        for name, store in system.stores_of(service).items():
            var = store_env_var(name, store)
            if var:
                names[name] = env[var]
        for topic in system.consumed_topics(service):
            var = store_env_var(topic, system.stores[topic])
            if var:
                names[topic] = env[var]
        return cls(system, service, env, names)

    def physical(self, store: str) -> str:
        return self.names[store]
