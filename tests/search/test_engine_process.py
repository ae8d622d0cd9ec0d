"""The engine as the runtime runs it: a child process on a port with a data dir.

Start-up readiness, clean SIGTERM, restart persistence, crash recovery of acknowledged
writes, the data-dir lock, and concurrent writers from several client processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from emulation.search.engine import DataDirLockedError
from emulation.search.server import serve_in_thread
from tests.search.cards import CARD_INDEX_BODY

pytestmark = pytest.mark.usefixtures("engine_only")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def engine_process(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulation.search",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    last = "no answer"
    while True:
        if proc.poll() is not None:
            raise AssertionError(
                f"engine exited with {proc.returncode}: "
                f"{proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            answer = httpx.get(url + "/", timeout=1)
            if answer.status_code == 200 and answer.json()["version"]["number"]:
                break
            last = f"status {answer.status_code}"
        except httpx.HTTPError as err:
            last = repr(err)
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"engine not ready on {url} after 20s; last: {last}")
        time.sleep(0.05)
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_sigterm_commits_and_restart_keeps_documents(data_dir: Path) -> None:
    with engine_process(data_dir) as (proc, url):
        httpx.put(f"{url}/cards", json=CARD_INDEX_BODY).raise_for_status()
        for i in range(5):
            httpx.put(
                f"{url}/cards/_doc/{i}",
                json={"name": f"Card {i}", "set": "lea"},
            ).raise_for_status()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    with engine_process(data_dir) as (_, url):
        assert httpx.get(f"{url}/cards/_count").json()["count"] == 5
        hits = httpx.post(
            f"{url}/cards/_search", json={"query": {"match": {"name": "card"}}}
        ).json()["hits"]
        assert hits["total"]["value"] == 5
        mapping = httpx.get(f"{url}/cards/_mapping").json()
        assert mapping["cards"]["mappings"]["dynamic"] == "strict"


def test_acknowledged_writes_survive_a_crash(data_dir: Path) -> None:
    body = {
        **CARD_INDEX_BODY,
        "settings": {**CARD_INDEX_BODY["settings"], "refresh_interval": "-1"},
    }
    with engine_process(data_dir) as (proc, url):
        httpx.put(f"{url}/cards", json=body).raise_for_status()
        lines = "".join(
            json.dumps({"index": {"_id": str(i)}}) + "\n" + json.dumps({"name": f"Card {i}"}) + "\n"
            for i in range(50)
        )
        result = httpx.post(
            f"{url}/cards/_bulk", content=lines, headers={"content-type": "application/x-ndjson"}
        ).json()
        assert result["errors"] is False
        proc.kill()  # no refresh, no clean shutdown
        proc.wait(timeout=10)
    with engine_process(data_dir) as (_, url):
        assert httpx.get(f"{url}/cards/_doc/49").json()["found"] is True
        assert httpx.get(f"{url}/cards/_count").json()["count"] == 50


def test_second_engine_on_same_data_dir_is_refused(data_dir: Path) -> None:
    with engine_process(data_dir):
        port = free_port()
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "emulation.search",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            timeout=30,
        )
        assert second.returncode == 2
        assert b"already served by another polystore search engine" in second.stderr
        with pytest.raises(DataDirLockedError):
            serve_in_thread("127.0.0.1", 0, data_dir)


def _writer(url: str, worker: int, count: int) -> list[str]:
    acknowledged = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(count):
            doc_id = f"w{worker}-{i}"
            if i % 2:
                answer = http.put(
                    f"/shared/_doc/{doc_id}", json={"name": f"card {doc_id}", "set": f"s{worker}"}
                )
            else:
                line = (
                    json.dumps({"index": {"_id": doc_id}})
                    + "\n"
                    + json.dumps({"name": f"card {doc_id}", "set": f"s{worker}"})
                    + "\n"
                )
                answer = http.post(
                    "/shared/_bulk", content=line, headers={"content-type": "application/x-ndjson"}
                )
            if answer.status_code in (200, 201):
                acknowledged.append(doc_id)
            http.post("/shared/_search", json={"query": {"match": {"name": "card"}}})
    return acknowledged


def test_concurrent_writers_from_several_processes(data_dir: Path) -> None:
    with serve_in_thread("127.0.0.1", 0, data_dir) as server:
        httpx.put(f"{server.url}/shared", json=CARD_INDEX_BODY).raise_for_status()
        with ProcessPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(_writer, server.url, w, 40) for w in range(4)]
            acknowledged = [doc for f in futures for doc in f.result(timeout=120)]
        assert len(acknowledged) == 160
        httpx.post(f"{server.url}/shared/_refresh").raise_for_status()
        assert httpx.get(f"{server.url}/shared/_count").json()["count"] == 160
        aggs = httpx.post(
            f"{server.url}/shared/_search",
            json={"size": 0, "aggs": {"sets": {"terms": {"field": "set"}}}},
        ).json()["aggregations"]
        assert sorted(b["doc_count"] for b in aggs["sets"]["buckets"]) == [40, 40, 40, 40]
    # Restart in-process: everything acknowledged is still there.
    with serve_in_thread("127.0.0.1", 0, data_dir) as server:
        docs = httpx.post(
            f"{server.url}/_mget",
            json={"docs": [{"_index": "shared", "_id": d} for d in acknowledged]},
        ).json()["docs"]
        assert all(d["found"] for d in docs)
