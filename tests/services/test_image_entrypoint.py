"""The services image's steps, without Docker: a clean virtualenv holding only the pins
``services.image_requirements`` takes from pyproject.toml, the files the Dockerfile
copies, and its entrypoint (``python -m services SYSTEM.SERVICE``) against the stack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from emulation import report
from emulation.ports import free_port
from emulation.stack import LocalStack
from emulation.waits import wait_for
from polystore.topology.model import Topology
from services.image_requirements import requirements

pytestmark = pytest.mark.slow
SYSTEMS = ["inventory"]
ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "infra/docker/services/Dockerfile"


def test_the_dockerfile_copies_what_the_test_copies() -> None:
    copied = re.findall(r"^COPY (\S+)/ ", DOCKERFILE.read_text(), re.M)
    assert {"polystore", "services", "stacks", "dbsetup"} <= set(copied)
    assert 'ENTRYPOINT ["python", "-m", "services"]' in DOCKERFILE.read_text()


def test_entrypoint_serves_from_a_clean_virtualenv(stack: LocalStack, topology: Topology,
                                                   tmp_path: Path) -> None:  # fmt: skip
    system = topology.system("inventory")
    stack.up([system], runtime="embedded")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("\n".join(requirements(ROOT / "pyproject.toml")) + "\n")
    pip = subprocess.run([str(venv / "bin/pip"), "install", "-q", "-r", str(reqs)],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-2000:]
    app = tmp_path / "app"
    for part in re.findall(r"^COPY (\S+)/ ", DOCKERFILE.read_text(), re.M):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, app / part)
    service = sorted(system.services)[0]
    env = report.env(stack.dir, system, service)
    env |= {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(app),
            "POLYSTORE_STACKS": str(app / "stacks"),
            "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip
    # the stores' setup task runs the same image: `python -m dbsetup`, with dbmate in it
    found = subprocess.run([str(venv / "bin/python"), "-c", "from dbsetup.migrate import "
                            "dbmate_path; print(dbmate_path())"], cwd=app, env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert found.stdout.strip() == str(venv / "bin/dbmate"), found.stderr
    usage = subprocess.run([str(venv / "bin/python"), "-m", "dbsetup", "--help"], cwd=app,
                           env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert usage.returncode == 0 and "--store" in usage.stdout, usage.stderr
    port = free_port()
    proc = subprocess.Popen([str(venv / "bin/python"), "-m", "services", f"inventory.{service}",
                             "--host", "127.0.0.1", "--port", str(port)], cwd=app, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        def health() -> dict[str, object]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                body: dict[str, object] = json.loads(r.read())
                return body

        body = wait_for(health, what="the service from the clean venv", timeout=60,
                        alive=lambda: proc.poll() is None)  # fmt: skip
        assert body["status"] == "ok"
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode(errors="replace")
    assert '"message": "request"' in out  # JSON logs
