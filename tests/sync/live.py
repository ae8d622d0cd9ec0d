"""Helpers for tests and benches that run the poller against a live local stack."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

from emulation import procs
from emulation.engines.base import endpoints_of
from emulation.stack import LocalStack
from emulation.state import StateDir
from polystore.naming import local_name
from polystore.topology.model import System
from sync.link_config import link_config
from sync.local_worker import worker_name
from sync.stream_to_search.transform import document, document_id

LINK = "cards-to-search"


class LiveLink:
    """The tcgstore card link of a running local stack: its table, index and poller."""

    def __init__(self, system: System, state_dir: Path) -> None:
        self.system, self.state_dir = system, state_dir
        ep = endpoints_of(StateDir(state_dir).load())
        self.dynamodb_url, self.search_url = ep.url("dynamodb"), ep.url("search")
        self.table = local_name(system, "cards")
        self.index = local_name(system, "cards-index")
        self.cfg = link_config(system, LINK)
        self.ddb = boto3.client("dynamodb", endpoint_url=self.dynamodb_url,
                                region_name="us-east-1", aws_access_key_id="local",
                                aws_secret_access_key="local",
                                config=Config(read_timeout=300))  # fmt: skip

    # -- the poller: the stack's supervised worker ---------------------------------------
    @property
    def worker(self) -> str:
        return worker_name(self.system, LINK)

    def poller_pid(self) -> int | None:
        t = procs.read_tracked(self.state_dir / "pids" / "workers", self.worker)
        return t.pid if t is not None and t.is_alive() else None

    def start_poller(self) -> None:
        """``up`` again: the stack starts the worker when it is not running."""
        LocalStack(self.state_dir).up([self.system], runtime="embedded")
        assert self.poller_pid() is not None, "the stack did not start the poller worker"

    def kill_poller(self, sig: int = signal.SIGKILL) -> None:
        pid = self.poller_pid()
        if pid is None:
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and psutil.pid_exists(pid):
            time.sleep(0.05)

    # -- the two ends -------------------------------------------------------------------
    def search(self, path: str, body: Any = None, method: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.search_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def status_of(self, path: str) -> int:
        req = urllib.request.Request(self.search_url + path, method="HEAD")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)

    def index_docs(self) -> dict[str, dict[str, Any]]:
        self.search(f"/{self.index}/_refresh", {}, "POST")
        out: dict[str, dict[str, Any]] = {}
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": 5000, "sort": [{"id": "asc"}],
                                    "query": {"match_all": {}}}  # fmt: skip
            if after:
                body["search_after"] = after
            hits = self.search(f"/{self.index}/_search", body)["hits"]["hits"]
            if not hits:
                return out
            for h in hits:
                out[h["_id"]] = h["_source"]
            after = hits[-1]["sort"]

    def table_docs(self) -> dict[str, dict[str, Any]]:
        """What the index must hold: the table's items through the link's transform."""
        out: dict[str, dict[str, Any]] = {}
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table):
            for item in page["Items"]:
                keys = {"Id": item["Id"]}
                out[document_id(self.cfg, keys)] = document(self.cfg, item)
        return out

    def wait_converged(self, timeout: float) -> tuple[bool, float, str]:
        """(converged, seconds taken, last difference); the clock starts after the scan."""
        want = self.table_docs()
        start = time.monotonic()
        diff = "never compared"
        while time.monotonic() - start < timeout:
            got = self.index_docs()
            if got == want:
                return True, time.monotonic() - start, ""
            missing = sorted(set(want) - set(got))[:3]
            extra = sorted(set(got) - set(want))[:3]
            stale = sorted(k for k in set(want) & set(got) if want[k] != got[k])[:3]
            diff = f"missing {missing}, extra {extra}, stale {stale}"
            time.sleep(0.1)
        return False, time.monotonic() - start, diff


def card_item(card_id: str, name: str, n: int) -> dict[str, Any]:
    return {"Id": {"S": card_id}, "name": {"S": name}, "description": {"S": f"card {n}"},
            "set": {"S": ("alpha", "beta", "unlimited")[n % 3]},
            "rarity": {"S": ("common", "uncommon", "rare")[n % 3]}, "type": {"S": "creature"},
            "number": {"N": str(n)}, "price": {"S": f"{n % 100}.25"},
            "foil": {"BOOL": n % 2 == 0}, "released_at": {"S": "1993-08-05T00:00:00Z"},
            "updated_at": {"S": "2024-01-01T00:00:00Z"}}  # fmt: skip


def mixed_load(ddb: Any, table: str, n: int, prefix: str = "c") -> None:
    """n writes: inserts, then every 5th is renamed and every 7th deleted, interleaved."""
    for i in range(n):
        ddb.put_item(TableName=table, Item=card_item(f"{prefix}{i}", f"Card {i}", i))
        if i % 5 == 4:
            j = i - 2
            ddb.put_item(TableName=table, Item=card_item(f"{prefix}{j}", f"Renamed {j}", j))
        if i % 7 == 6:
            ddb.delete_item(TableName=table, Key={"Id": {"S": f"{prefix}{i - 3}"}})
