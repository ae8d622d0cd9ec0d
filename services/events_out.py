"""What a service publishes: analytics events of the patterns it serves, domain events.

Events go through the project's events library (the JSON envelope, MSK IAM in AWS and
plaintext locally, chosen from the environment). A service publishes only what the
topology says it produces; the library enforces that too.
"""

from __future__ import annotations

import logging
from typing import Any

from services.config import ServiceConfig

log = logging.getLogger("services.events")


class Publisher:
    """The service's events publisher, created on first use (a service that never
    publishes never connects to Kafka). Each request's events are flushed before the
    response: a 2xx means the broker acknowledged them (acks=all)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self._impl: Any = None

    def _publisher(self) -> Any:
        if self._impl is None:
            from service_events import publisher_from_env

            # Physical topic names come from the environment (KAFKA_TOPIC_*), so the
            # environment name only matters where a variable is missing.
            self._impl = publisher_from_env(self.config.system, self.config.service,
                                            self.config.env)  # fmt: skip
        return self._impl

    def analytics(self, event: str, pattern: str, params: dict[str, Any], count: int) -> None:
        """Publish analytics event ``event`` for one request served by ``pattern``."""
        self.domain(event, key=pattern, data={"pattern": pattern, "params": params,
                                              "results": count})  # fmt: skip

    def domain(self, event: str, key: str, data: dict[str, Any]) -> None:
        pub = self._publisher()
        pub.publish(event, key=key, data=data)
        pub.flush()

    def relay(self, envelopes: list[Any]) -> None:
        """Publish envelopes built earlier (an outbox's rows), keeping their ids; return
        once the broker acknowledged them all."""
        pub = self._publisher()
        for env in envelopes:
            pub.publish_envelope(env)
        pub.flush()

    def close(self) -> None:
        """On shutdown: deliver what is queued (raising naming what was not), then close
        the producer so librdkafka stops here, not in the interpreter's exit."""
        impl, self._impl = self._impl, None
        if impl is not None:
            impl.close()
