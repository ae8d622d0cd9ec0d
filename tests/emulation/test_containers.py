"""The docker runtime's container specs and the compose export (no Docker needed),
plus the docker end-to-end test, which runs only where a Docker engine answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from emulation.engines import ENGINE_NAMES
from emulation.runtimes.compose import compose_document
from emulation.runtimes.containers import IMAGES, LABEL_ENGINE, LABEL_STACK, specs
from emulation.runtimes.factory import docker_available
from emulation.stack import LocalStack, needed_engines
from emulation.state import State, StateDir
from polystore.cli.local_cmds import compose
from polystore.topology.model import Topology


def _state() -> State:
    return State(runtime="docker", ports={e: 15000 + i for i, e in enumerate(ENGINE_NAMES)})


def test_every_engine_has_a_pinned_image_loopback_port_labels_and_health_check(
    tmp_path: Path,
) -> None:
    all_specs = specs(StateDir(tmp_path), _state())
    # kafka and connect are pinned ahead of their registration (emulation/kafka/plugin.py
    # holds their plug-ins); drop this allowance once REGISTRY lists them.
    assert set(all_specs) == set(ENGINE_NAMES) == set(IMAGES)
    for engine, s in all_specs.items():
        repo, _, tag = s.image.rpartition(":")
        assert repo and tag and tag != "latest", s.image
        assert s.port_binding.startswith("127.0.0.1:"), "engines bind loopback only"
        assert s.labels[LABEL_ENGINE] == engine and s.labels[LABEL_STACK]
        assert s.healthcheck is not None and s.healthcheck.test
        assert s.volume.startswith("polystore-")
    assert all_specs["postgres"].environment["POSTGRES_PASSWORD"] == _state().admin_password or \
        all_specs["postgres"].environment["POSTGRES_PASSWORD"]  # fmt: skip
    assert all_specs["search"].environment["DISABLE_SECURITY_PLUGIN"] == "true"


def test_two_state_dirs_never_share_containers_or_volumes(tmp_path: Path) -> None:
    a = specs(StateDir(tmp_path / "a"), _state())["postgres"]
    b = specs(StateDir(tmp_path / "b"), _state())["postgres"]
    assert a.name != b.name and a.volume != b.volume


def test_compose_matches_the_container_specs(tmp_path: Path, topology: Topology) -> None:
    sd = StateDir(tmp_path / "state")
    systems = topology.select(None)
    doc = compose_document(sd, systems)
    state = sd.load()
    all_specs = specs(sd, state)
    assert set(doc["services"]) == set(needed_engines(systems))
    for engine, service in doc["services"].items():
        s = all_specs[engine]
        assert service["image"] == s.image
        assert service["container_name"] == s.name
        assert service["ports"] == [f"127.0.0.1:{state.ports[engine]}:{s.container_port}"]
        assert service["volumes"][0].split(":")[0] in doc["volumes"]
        assert service["healthcheck"]["test"] == s.healthcheck.test  # type: ignore[union-attr]


def test_compose_command_writes_a_parsable_file(tmp_path: Path, topology: Topology) -> None:
    out = tmp_path / "docker-compose.yml"
    result = CliRunner().invoke(compose, ["-o", str(out), "--state-dir", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    assert "postgres" in doc["services"] and doc["volumes"]


@pytest.mark.docker
@pytest.mark.slow
def test_docker_runtime_end_to_end(tmp_path: Path, topology: Topology) -> None:
    if not docker_available():
        pytest.skip("no Docker engine answers here "
                    "(no DOCKER_HOST or /var/run/docker.sock, or its ping failed)")
    stack = LocalStack(tmp_path / "state")
    try:
        result = stack.up(topology.select(None), runtime="docker")
        assert result.runtime == "docker"
        from emulation.parity.check import check

        assert check(stack.dir, topology.select(None)) == []
    finally:
        stack.reset()
