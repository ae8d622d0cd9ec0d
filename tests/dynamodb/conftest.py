"""Fixtures for the DynamoDB engine's tests.

By default every test talks to the polystore engine, started as a real process
(``python -m emulation.dynamodb``) on a free port with a temporary data dir. Tests marked
``aws`` are contract tests written from the DynamoDB API Reference: run with ``-m aws``
and AWS credentials in the environment, the same tests and assertions run against real
DynamoDB instead (moto's ``aws_verified`` habit); tables are created per test and deleted.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

READY_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EngineProcess:
    """One engine process on a port, over a data dir; restartable after a kill."""

    data_dir: Path
    port: int
    proc: subprocess.Popen[str] | None = None
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self._log = open(self.data_dir.parent / f"engine-{self.port}.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulation.dynamodb", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        line = self.proc.stdout.readline()
        if f"listening on {self.url}" not in line or time.monotonic() > deadline:
            self.proc.kill()
            raise RuntimeError(
                f"engine did not start on {self.url}: first line {line!r}; see {log.name}"
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._close()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        code = self.proc.wait(timeout=15)
        self._close()
        return code

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()


def on_aws(config: pytest.Config) -> bool:
    return "aws" in (config.option.markexpr or "")


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path_factory.mktemp("dynamodb") / "data", free_port())
    proc.start()
    try:
        yield proc
    finally:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.stop()


@pytest.fixture(scope="session")
def endpoint(request: pytest.FixtureRequest) -> str | None:
    """None on real AWS, else the engine's URL."""
    if on_aws(request.config):
        return None
    engine: EngineProcess = request.getfixturevalue("engine")
    return engine.url


def client_kwargs(endpoint: str | None) -> dict[str, Any]:
    if endpoint is None:
        return {"region_name": os.environ.get("AWS_REGION", "us-east-1")}
    return {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
            "config": Config(retries={"max_attempts": 1, "mode": "standard"})}  # fmt: skip


@pytest.fixture(scope="session")
def ddb(endpoint: str | None) -> Any:
    return boto3.client("dynamodb", **client_kwargs(endpoint))


@pytest.fixture(scope="session")
def streams(endpoint: str | None) -> Any:
    return boto3.client("dynamodbstreams", **client_kwargs(endpoint))


@pytest.fixture(scope="session")
def resource(endpoint: str | None) -> Any:
    return boto3.resource("dynamodb", **client_kwargs(endpoint))


MakeTable = Callable[..., str]


@pytest.fixture
def make_table(ddb: Any) -> Iterator[MakeTable]:
    """Create tables for one test (waiting until ACTIVE on AWS); delete them after."""
    created: list[str] = []

    def make(
        hash_key: str = "pk", range_key: str | None = None, types: dict[str, str] | None = None,
        **extra: Any,
    ) -> str:  # fmt: skip
        name = f"ptest-{uuid.uuid4().hex[:10]}"
        types = dict(types or {})
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        used = {hash_key, range_key} | set(types)
        defs = [{"AttributeName": a, "AttributeType": types.get(a, "S")} for a in used if a]
        ddb.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=defs,
                         BillingMode="PAY_PER_REQUEST", **extra)  # fmt: skip
        created.append(name)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2})
        return name

    yield make
    for name in created:
        with contextlib.suppress(ddb.exceptions.ResourceNotFoundException):
            ddb.delete_table(TableName=name)


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def wait_active(ddb: Any, name: str, timeout: float = 900.0) -> None:
    """Until the table and its indexes are ACTIVE (at once locally; minutes on AWS after
    an UpdateTable), so the next step of a test is valid on both."""
    deadline = time.monotonic() + timeout
    while True:
        t = ddb.describe_table(TableName=name)["Table"]
        statuses = [t["TableStatus"]] + [
            g.get("IndexStatus", "ACTIVE") for g in t.get("GlobalSecondaryIndexes", [])
        ]
        if all(s == "ACTIVE" for s in statuses):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name} not ACTIVE after {timeout}s: {statuses}")
        time.sleep(5)
