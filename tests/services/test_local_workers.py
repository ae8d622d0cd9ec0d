"""``polystore up`` runs each declared service as a process, configured like its ECS task."""

from __future__ import annotations

import json
import os
import signal
import urllib.request

import pytest

from emulation import procs, report
from emulation.stack import LocalStack
from emulation.waits import wait_for
from polystore.topology.model import Topology

pytestmark = pytest.mark.slow
SYSTEMS = ["inventory"]  # no topics: its service needs no Kafka


def _get(url: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def test_up_serves_every_service_and_status_lists_it(stack: LocalStack,
                                                     topology: Topology) -> None:  # fmt: skip
    system = topology.system("inventory")
    result = stack.up([system], runtime="embedded", services=True)
    names = [f"svc-inventory-{s}" for s in sorted(system.services)]
    assert set(names) <= set(result.workers)
    doc = report.status(stack.dir, [system])
    for name in names:
        entry = doc["workers"][name]
        assert entry["state"] == "running", entry
        status, body = _get(str(entry["url"]) + "/health")
        assert status == 200 and body["status"] == "ok", body
    assert doc["problems"] == 0


def test_a_killed_service_is_unhealthy_until_the_next_up(stack: LocalStack,
                                                         topology: Topology) -> None:  # fmt: skip
    system = topology.system("inventory")
    stack.up([system], runtime="embedded", services=True)
    service = sorted(system.services)[0]
    tracked = procs.read_tracked(stack.dir.pids / "workers", f"svc-inventory-{service}")
    assert tracked is not None
    os.kill(tracked.pid, signal.SIGKILL)
    wait_for(lambda: None if not tracked.is_alive() else 1 / 0, what="death", timeout=10)
    assert report.status(stack.dir, [system])["problems"] == 1
    stack.up([system], runtime="embedded", services=True)
    assert report.status(stack.dir, [system])["problems"] == 0
