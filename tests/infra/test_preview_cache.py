"""The preview cache returns exactly what the program run returns, and any change to an
input (topology, migrations, stack config, overrides, program source) is a miss."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from infra import preview_cache
from infra.preview_cache import cached_preview, preview_key
from polystore.cli.preview_cmds import summary
from polystore.topology.loader import REPO_ROOT, load_topology
from polystore.topology.model import Topology


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POLYSTORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("POLYSTORE_NO_CACHE", raising=False)
    return tmp_path / "cache" / "previews"


@pytest.fixture
def stacks_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "stacks", tmp_path / "stacks")
    return tmp_path / "stacks"


ONE = {"polystore:systems": ["order-processor"]}


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


def test_a_hit_is_the_run_it_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch, topology: Topology
) -> None:
    from infra.preview import run_preview

    first = cached_preview("dev", topology, ONE)
    assert len(list(cache.glob("*.json"))) == 1
    fresh = run_preview("dev", topology=topology, config_overrides=ONE)
    assert json.dumps(first) == json.dumps(fresh)

    def no_run(*a: Any, **k: Any) -> Any:
        raise AssertionError("a hit must not run the program")

    monkeypatch.setattr("infra.preview.run_preview", no_run)
    assert json.dumps(cached_preview("dev", topology, ONE)) == json.dumps(fresh)


def test_every_input_is_in_the_key(
    cache: Path, stacks_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = load_topology([stacks_copy])
    base = preview_key("dev", topology, ONE)
    assert base and base == preview_key("dev", load_topology([stacks_copy]), ONE)
    assert preview_key("staging", topology, ONE) != base
    assert preview_key("dev", topology, {"polystore:systems": ["tcgstore"]}) != base

    yaml_file = stacks_copy / "order-processor.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("pitr: true", "pitr: false", 1))
    assert preview_key("dev", load_topology([stacks_copy]), ONE) != base
    yaml_file.write_text(yaml_file.read_text().replace("pitr: false", "pitr: true", 1))

    migration = next((stacks_copy / "migrations").rglob("*.sql"))
    migration.write_text(migration.read_text() + "\n-- a comment is still a change\n")
    assert preview_key("dev", load_topology([stacks_copy]), ONE) != base


def test_program_source_and_stack_config_are_in_the_key(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, topology: Topology
) -> None:
    repo = tmp_path / "repo"
    for part in ("infra", "polystore"):
        shutil.copytree(REPO_ROOT / part, repo / part)
    shutil.copy(REPO_ROOT / "Pulumi.dev.yaml", repo / "Pulumi.dev.yaml")
    monkeypatch.setattr(preview_cache, "REPO_ROOT", repo)
    monkeypatch.setattr(preview_cache, "stack_file", lambda s: repo / f"Pulumi.{s}.yaml")
    base = preview_key("dev", topology, None)
    (repo / "infra" / "dynamo.py").write_text((repo / "infra" / "dynamo.py").read_text() + "\n#\n")
    changed_code = preview_key("dev", topology, None)
    assert changed_code != base
    (repo / "Pulumi.dev.yaml").write_text((repo / "Pulumi.dev.yaml").read_text() + "\n# x\n")
    assert preview_key("dev", topology, None) not in (base, changed_code)
    assert preview_key("nosuch", topology, None) is None  # the run reports the missing file


def test_no_cache_env_turns_it_off(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                   topology: Topology) -> None:  # fmt: skip
    monkeypatch.setenv("POLYSTORE_NO_CACHE", "1")
    cached_preview("dev", topology, ONE)
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_summary_names_resources_by_type_token() -> None:
    resources = [
        {"type": "aws:rds/cluster:Cluster", "custom": True},
        {"type": "aws:ecs/cluster:Cluster", "custom": True},
        {"type": "aws:ecs/cluster:Cluster", "custom": True},
        {"type": "pulumi:providers:aws", "custom": True},
        {"type": "polystore:data:Table", "custom": False},
    ]
    lines = summary(resources).splitlines()
    assert lines[0] == "4 resources by type:"
    assert [line.split() for line in lines[1:]] == [
        ["2", "aws:ecs/cluster:Cluster"],
        ["1", "aws:rds/cluster:Cluster"],
        ["1", "pulumi:providers:aws"],
    ]


def test_preview_table_ends_with_the_summary_by_type_token(cache: Path) -> None:
    from polystore.cli.main import cli

    result = CliRunner().invoke(cli, ["preview", "--stack", "prod", "--system", "tcgstore"])
    assert result.exit_code == 0, result.output
    tail = result.stdout.split("resources by type:")[1]
    assert "aws:rds/cluster:Cluster" in tail or "aws:rds/instance:Instance" in tail
    assert "aws:ecs/cluster:Cluster" in tail
    assert " aws\n" not in tail and not tail.rstrip().endswith(" aws")
