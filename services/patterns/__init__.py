"""Access patterns executed against their store: one module per store kind.

Each module exposes ``run(ctx, name, pattern, params, cursor, limit) -> Page``; the
routes look the module up by the pattern's store kind and never branch on it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.clients import Clients
from services.config import ServiceConfig

EXECUTORS = {
    "postgres": "services.patterns.postgres",
    "dynamodb": "services.patterns.dynamodb",
    "search": "services.patterns.search",
}

# Attributes and columns that never leave a service, whatever a pattern selects.
SECRET_MARKERS = ("password", "secret", "token", "_hash")


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    config: ServiceConfig
    clients: Clients


class Executor(Protocol):
    def run(self, ctx: Context, name: str, params: dict[str, str], cursor: str | None,
            limit: int | None) -> Page: ...  # fmt: skip


def executor(kind: str) -> Executor:
    module: Executor = importlib.import_module(EXECUTORS[kind])  # type: ignore[assignment]
    return module


def redact(row: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    markers = SECRET_MARKERS + extra
    return {k: v for k, v in row.items() if not any(m in k.lower() for m in markers)}
