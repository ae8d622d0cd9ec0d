"""Shared fixtures: one mocked preview per shipped stack, computed once per worker."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from infra.environments import PROFILES
from infra.mock_state import computed_state
from infra.preview import run_preview
from polystore.topology.loader import load_topology

STACKS = ("dev", "staging", "prod")


@functools.cache
def topology() -> Any:
    return load_topology()


@functools.cache
def shipped_preview(stack: str) -> dict[str, Any]:
    return run_preview(stack, topology=topology())


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def result(stack: str) -> dict[str, Any]:
    return shipped_preview(stack)


@pytest.fixture
def profile(stack: str) -> Any:
    return PROFILES[stack]


def of_type(result: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in result["resources"] if r["type"] == typ]


def mock_id(r: dict[str, Any], region: str = "eu-west-1") -> str:
    """The id the mocked engine gave a resource (what other resources' inputs reference)."""
    return computed_state(r["type"], r["name"], r["inputs"], region)[0]


def policy(r: dict[str, Any]) -> dict[str, Any]:
    return json.loads(r["inputs"]["policy"])
