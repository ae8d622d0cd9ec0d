"""``polystore compose``: the docker runtime's containers as a docker-compose.yml.

Secrets (the PostgreSQL superuser password) never enter the compose file, which people
commit, paste and share: the file says ``${POSTGRES_PASSWORD}`` and the value goes to a
``.env`` beside it (mode 0600), which ``docker compose`` reads from the compose file's
directory for interpolation. Both files are in ``.gitignore``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from emulation.engines import get
from emulation.engines import needed as needed_engines
from emulation.ports import free_port
from emulation.runtimes.containers import specs, stack_id
from emulation.state import StateDir
from polystore.topology.model import System

ENV_FILE = ".env"


def compose_document(state_dir: StateDir, systems: list[System]) -> dict[str, Any]:
    """The compose document (secrets as ``${NAME}``)."""
    return compose_files(state_dir, systems)[0]


def compose_files(
    state_dir: StateDir, systems: list[System]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The compose document and the secrets it interpolates (``{NAME: value}``).

    Ports and passwords come from (and are kept in) the state. An environment value that
    is one of the state's passwords is replaced by ``${NAME}`` and returned as a secret.
    """
    with state_dir.locked():
        state = state_dir.load()
        engines = needed_engines(systems)
        for engine in engines:
            get(engine).configure(systems, state)
            state.ports.setdefault(engine, free_port())
        state_dir.save(state)
    known_secrets = {state.admin_password, *state.passwords.values()}
    secrets: dict[str, str] = {}
    all_specs = specs(state_dir, state, engines)
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for engine in engines:
        s = all_specs[engine]
        service: dict[str, Any] = {
            "image": s.image,
            "container_name": s.name,
            "ports": [s.port_binding],
            "volumes": [f"{s.volume}:{s.volume_path}"],
            "labels": s.labels,
        }
        if s.environment:
            environment = {}
            for name, value in s.environment.items():
                if value in known_secrets:
                    secrets[name] = value
                    value = "${" + name + "}"
                environment[name] = value
            service["environment"] = environment
        if s.command:
            service["command"] = s.command
        if s.healthcheck:
            hc = s.healthcheck
            service["healthcheck"] = {"test": hc.test, "interval": f"{hc.interval_s}s",
                                      "timeout": f"{hc.timeout_s}s", "retries": hc.retries}
        services[engine] = service
        volumes[s.volume] = {"name": s.volume, "labels": s.labels}
    doc = {"name": f"polystore-{stack_id(state_dir)}", "services": services, "volumes": volumes}
    return doc, secrets


def write_compose(state_dir: StateDir, systems: list[System], output: Path) -> Path:
    """Write ``output`` and its secrets into ``.env`` beside it; return ``output``."""
    doc, secrets = compose_files(state_dir, systems)
    header = ("# Written by `polystore compose`: the engines of the docker runtime.\n"
              f"# Secrets (${{...}}) come from {ENV_FILE} beside this file (mode 0600).\n"
              "# docker compose up -d, then `polystore up --runtime docker` provisions them.\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_env_file(output.parent / ENV_FILE, secrets)
    output.write_text(header + yaml.safe_dump(doc, sort_keys=False))
    return output


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Set ``values`` in a compose ``.env`` (mode 0600), keeping the user's other lines."""
    kept: list[str] = []
    if path.exists():
        for line in path.read_text().splitlines():
            name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if name not in values:
                kept.append(line)
    text = "\n".join([*kept, *(f"{k}={v}" for k, v in values.items())]) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)  # an older tmp file may have had other bits
    tmp.replace(path)
