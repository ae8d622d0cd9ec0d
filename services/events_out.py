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
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self._impl: Any = None

    def _publisher(self) -> Any:
        if self._impl is None:
            from events import publisher_from_env  # type: ignore[import-not-found]

            self._impl = publisher_from_env(self.config.system, self.config.service,
                                            self.config.env)  # fmt: skip
        return self._impl

    def analytics(self, event: str, pattern: str, params: dict[str, Any], count: int) -> None:
        """Publish analytics event ``event`` for one request served by ``pattern``."""
        self._publisher().publish(event, key=pattern, data={
            "pattern": pattern, "params": params, "results": count})  # fmt: skip

    def domain(self, event: str, key: str, data: dict[str, Any]) -> None:
        self._publisher().publish(event, key=key, data=data)

    def close(self) -> None:
        if self._impl is not None:
            self._impl.close()
