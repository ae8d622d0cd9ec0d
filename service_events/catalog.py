"""What one service may publish and consume, read from the topology's links.

``event`` links name a producer, a topic and the consumers; ``analytics`` links a producer,
a topic and its event names. A publish of anything else, or a subscription to a topic the
service is not declared to consume, is refused with :class:`NotDeclared` saying what is
declared. Physical topic names come from the service's environment (``KAFKA_TOPIC_*``,
as the ECS task and ``polystore env`` set them), else from ``polystore.naming``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from polystore.naming import store_env_var, store_physical_name
from polystore.topology.model import AnalyticsLink, EventLink, System


class NotDeclared(PermissionError):
    """The topology does not say this service produces/consumes that."""


@dataclass(frozen=True)
class Catalog:
    """One service's declared events: event type → topic it publishes on, and per
    consumed topic the event types it is declared to receive."""

    system: str
    service: str
    produces: Mapping[str, str]  # event type -> physical topic
    consumes: Mapping[str, frozenset[str]]  # physical topic -> event types

    @property
    def producer(self) -> str:
        return f"{self.system}.{self.service}"

    @classmethod
    def of(cls, system: System, service: str, environment: str,
           env: Mapping[str, str] | None = None) -> Catalog:  # fmt: skip
        if service not in system.services:
            raise NotDeclared(f"{service!r} is not a service of {system.name} "
                              f"(services: {', '.join(sorted(system.services))})")  # fmt: skip
        env = os.environ if env is None else env

        def topic(store: str) -> str:
            var = store_env_var(store, system.stores[store])
            return (env.get(var) if var else None) or store_physical_name(
                system, environment, store)  # fmt: skip

        produces: dict[str, str] = {}
        consumes: dict[str, set[str]] = {}
        for link in system.links.values():
            if isinstance(link, EventLink):
                if link.producer == service:
                    produces[link.event] = topic(link.topic)
                if service in link.consumers:
                    consumes.setdefault(topic(link.topic), set()).add(link.event)
            elif isinstance(link, AnalyticsLink) and link.producer == service:
                produces.update({e: topic(link.topic) for e in link.events})
        return cls(system.name, service, produces,
                   {t: frozenset(e) for t, e in consumes.items()})  # fmt: skip

    def topic_for(self, event_type: str) -> str:
        try:
            return self.produces[event_type]
        except KeyError:
            declared = ", ".join(sorted(self.produces)) or "none"
            raise NotDeclared(
                f"{self.producer} may not publish {event_type!r}: the topology's event and "
                f"analytics links declare it produces: {declared}"
            ) from None

    def check_topics(self, topics: list[str] | None) -> list[str]:
        """The topics to subscribe to (all consumed ones when None); refuse any other."""
        if topics is None:
            topics = sorted(self.consumes)
        for t in topics:
            if t not in self.consumes:
                declared = ", ".join(sorted(self.consumes)) or "none"
                raise NotDeclared(f"{self.producer} is not declared to consume topic {t!r} "
                                  f"(it consumes: {declared})")  # fmt: skip
        if not topics:
            raise NotDeclared(f"{self.producer} consumes no topic in the topology")
        return topics
