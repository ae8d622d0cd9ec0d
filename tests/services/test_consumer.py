"""The consumer loop on its own: dispatch by type, a failing handler is retried with the
same event (never skipped), its error is reported, stop ends the thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from polystore import load_topology
from service_events.envelope import Envelope
from services import consumer as consumer_mod
from services.config import ServiceConfig
from services.consumer import EventConsumer


class ListSubscriber:
    """Delivers a list in order; an event whose handler raised stays at the head, like
    the Subscriber's seek back."""

    def __init__(self, events: list[Envelope]) -> None:
        self.events = events
        self.closed = False

    def run(self, handle: Callable[[Envelope], None], *, max_events: int | None = None,
            idle_timeout: float | None = None) -> int:  # fmt: skip
        n = 0
        while self.events and (max_events is None or n < max_events):
            handle(self.events[0])
            self.events.pop(0)
            n += 1
        if not self.events:
            time.sleep(0.01)
        return n

    def close(self) -> None:
        self.closed = True


def _config() -> ServiceConfig:
    system = load_topology().system("order-processor")
    return ServiceConfig(system, "user", {}, {})


def _env(kind: str, n: int) -> Envelope:
    return Envelope(type=kind, producer="order-processor.order", key="k", data={"n": n})


def test_failing_handler_is_retried_in_order_and_reported(monkeypatch: Any) -> None:
    monkeypatch.setattr(consumer_mod, "BACKOFF_FIRST", 0.01)
    seen: list[int] = []
    fails = {"left": 3}

    def handler(env: Envelope) -> None:
        if env.data["n"] == 1 and fails["left"]:
            fails["left"] -= 1
            raise RuntimeError("store unavailable")
        seen.append(env.data["n"])

    sub = ListSubscriber([_env("order.created", 0), _env("order.created", 1),
                          _env("order.unknown", 9), _env("order.created", 2)])  # fmt: skip
    c = EventConsumer(_config(), {"order.created": handler}, subscriber_factory=lambda: sub)
    c.start()
    deadline = time.monotonic() + 10
    while sub.events and time.monotonic() < deadline:
        time.sleep(0.01)
    state = c.state()
    c.stop()
    assert seen == [0, 1, 2]  # the failed event came again before the next one
    assert state["running"] and state["handled"] == 3 and state["skipped"] == 1
    assert state["failures"] == 3 and "store unavailable" in state["last_error"]
    assert sub.closed and not c.state()["running"]


def test_a_failing_subscription_is_retried(monkeypatch: Any) -> None:
    monkeypatch.setattr(consumer_mod, "BACKOFF_FIRST", 0.01)
    tries = {"n": 0}

    def factory() -> ListSubscriber:
        tries["n"] += 1
        if tries["n"] < 3:
            raise RuntimeError("broker not ready")
        return ListSubscriber([])

    c = EventConsumer(_config(), {"order.created": lambda e: None}, subscriber_factory=factory)
    c.start()
    deadline = time.monotonic() + 10
    while not c.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    c.stop()
    assert c.subscribed and tries["n"] == 3 and "broker not ready" in str(c.last_error)
