"""The AWS search bootstrap keeps an existing index's dynamic settings as declared.

The request to the domain is recorded (no domain here): an existing index gets one
``PUT /<index>/_settings`` with the declared ``refresh_interval``; a new one is created
with it in its body.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.handlers import search_bootstrap
from polystore import load_topology


def _store() -> Any:
    return load_topology().system("tcgstore").stores["cards-index"]


def _run(monkeypatch: pytest.MonkeyPatch, exists: bool) -> list[tuple[str, str, Any]]:
    store = _store()
    calls: list[tuple[str, str, Any]] = []

    def signed(method: str, url: str, body: Any) -> tuple[int, str]:
        calls.append((method, url, body))
        if method == "HEAD":
            return (200 if exists else 404), ""
        return 200, "{}"

    monkeypatch.setenv("OPENSEARCH_URL", "search-d.eu-west-1.es.amazonaws.com")
    monkeypatch.setattr(search_bootstrap, "_signed", signed)
    event = {"indexes": [{"name": "tcgstore-prod-cards", "security_role": "r",
                          "body": store.body(), "dynamic_settings": store.dynamic_settings(),
                          "iam_roles": ["arn:role"]}]}  # fmt: skip
    search_bootstrap.handler(event)
    return calls


def test_an_existing_index_gets_the_declared_dynamic_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _run(monkeypatch, exists=True)
    puts = [c for c in calls if c[0] == "PUT" and c[1].endswith("/tcgstore-prod-cards/_settings")]
    assert len(puts) == 1
    declared = _store().settings["refresh_interval"]
    assert puts[0][2] == {"index": {"refresh_interval": declared, "max_result_window": None}}


def test_a_new_index_is_created_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _run(monkeypatch, exists=False)
    create = next(c for c in calls if c[1].endswith("/tcgstore-prod-cards-000001"))
    assert create[2]["settings"]["refresh_interval"] == _store().settings["refresh_interval"]
    assert not any(c[1].endswith("/_settings") for c in calls)


def test_declared_dynamic_settings_read_every_form_of_declaration() -> None:
    """One list for local provisioning and the bootstrap (``SearchStore.dynamic_settings``),
    whether a stack writes ``{"index": {...}}``, ``index.x`` keys or bare keys."""
    store = _store()
    for settings in ({"index": {"refresh_interval": "5s"}}, {"index.refresh_interval": "5s"},
                     {"refresh_interval": "5s", "analysis": {}}):  # fmt: skip
        form = store.model_copy(update={"settings": settings})
        assert form.dynamic_settings() == {"refresh_interval": "5s", "max_result_window": None}
