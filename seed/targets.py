"""Where seeded data goes: a service's variables, locally or in a deployed stack.

Loaders and verification only ever see one service's variables — the names of DESIGN.md
that ``polystore env`` prints and the ECS task definitions set (``PG*``,
``AWS_REGION``/``AWS_ENDPOINT_URL_DYNAMODB``, ``OPENSEARCH_URL``, ``DYNAMODB_TABLE_*``,
``OPENSEARCH_INDEX_*``, ``KAFKA_*``). Locally they come from ``emulation.report.env``
(the service's own PostgreSQL login, never the superuser); for a deployed stack from the
saved ``pulumi stack output --json`` (per service: ``environment`` and the database's
``secret_arn``), with the password read from Secrets Manager through the standard AWS
credential chain. Same loaders, same code path, two sources of variables.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from polystore.naming import store_env_var
from polystore.topology.model import System

Env = dict[str, str]


class TargetError(Exception):
    """The target cannot be used (no stack, bad outputs file, prod without consent)."""


class Target(Protocol):
    name: str

    def env(self, system: System, service: str) -> Env: ...

    def check(self, systems: list[System]) -> None: ...


def physical(system: System, store: str, env: Env) -> str:
    """A store's physical table/index/topic name from its owner's variables."""
    spec = system.stores[store]
    if spec.kind == "postgres":
        return env["PGDATABASE"]
    var = store_env_var(store, spec)
    assert var is not None
    if var not in env:
        raise TargetError(
            f"{system.name}: the variables of service {spec.owner} do not name "
            f"store {store} ({var})"
        )
    return env[var]


class LocalTarget:
    """The running local stack in ``state_dir`` (``polystore up``)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        from emulation.state import StateDir

        self.dir = StateDir(state_dir)
        self.name = f"local ({self.dir.root})"
        self._cache: dict[tuple[str, str], Env] = {}
        self._lock = threading.Lock()

    def check(self, systems: list[System]) -> None:
        from emulation.errors import EmulationError

        try:
            state = self.dir.load() if self.dir.exists() else None
        except EmulationError as exc:
            raise TargetError(str(exc)) from exc
        if state is None:
            raise TargetError(f"no local stack in {self.dir.root}: run `polystore up` first")
        missing = [s.name for s in systems if s.name not in state.provisioned]
        if missing:
            raise TargetError(
                f"not provisioned in {self.dir.root}: {', '.join(missing)} "
                f"(run `polystore up {' '.join(missing)}`)"
            )

    def env(self, system: System, service: str) -> Env:
        from emulation import report

        with self._lock:
            key = (system.name, service)
            if key not in self._cache:
                self._cache[key] = report.env(self.dir, system, service)
            return self._cache[key]


class DeployedTarget:
    """A deployed stack, described by a saved ``pulumi stack output --json``."""

    def __init__(self, stack: str, outputs_file: Path, allow_prod: bool = False) -> None:
        self.name = f"stack {stack} ({outputs_file})"
        self.stack = stack
        try:
            self.outputs: dict[str, Any] = json.loads(outputs_file.read_text())
        except (OSError, ValueError) as exc:
            raise TargetError(f"{outputs_file}: cannot read stack outputs: {exc}") from exc
        if not isinstance(self.outputs.get("systems"), dict):
            raise TargetError(
                f"{outputs_file}: no 'systems' key; save it with "
                f"`pulumi stack output --json --show-secrets > {outputs_file}`"
            )
        prod = "prod" in (stack, self.outputs.get("environment"), self.outputs.get("profile"))
        if prod and not allow_prod:
            raise TargetError(
                f"refusing to seed {stack}: it is a prod stack (environment "
                f"{self.outputs.get('environment')!r}); pass --allow-prod"
            )
        self.region = str(self.outputs.get("region") or "")
        self._secrets: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def check(self, systems: list[System]) -> None:
        missing = [s.name for s in systems if s.name not in self.outputs["systems"]]
        if missing:
            raise TargetError(f"{self.name} does not deploy {', '.join(missing)}")

    def _secret(self, arn: str) -> dict[str, str]:
        with self._lock:
            if arn not in self._secrets:
                import boto3

                sm = boto3.client("secretsmanager", region_name=self.region or None)
                value = sm.get_secret_value(SecretId=arn)["SecretString"]
                self._secrets[arn] = json.loads(value)
            return self._secrets[arn]

    def env(self, system: System, service: str) -> Env:
        try:
            entry = self.outputs["systems"][system.name]["services"][service]
        except KeyError:
            raise TargetError(f"{self.name}: no outputs for {system.name}.{service}") from None
        env: Env = {k: str(v) for k, v in (entry.get("environment") or {}).items()}
        if self.region:
            env.setdefault("AWS_REGION", self.region)
        db = entry.get("database")
        if db and db.get("secret_arn"):
            secret = self._secret(db["secret_arn"])
            env["PGUSER"], env["PGPASSWORD"] = secret["username"], secret["password"]
            env.setdefault("PGHOST", str(db.get("endpoint")))
            env.setdefault("PGPORT", str(db.get("port")))
            env.setdefault("PGDATABASE", str(db.get("name")))
        return env
