"""The poller against a real local stack: writes, updates and deletes reach the index;
kill -9 of the poller mid-load loses nothing; the failure queue and its redrive."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator

import psutil
import pytest

from emulation import procs
from emulation.stack import LocalStack
from polystore.topology.model import Topology
from sync.link_state import LinkState, state_path
from sync.redrive import redrive
from sync.reindex import reindex
from sync.status import link_status

from .live import LINK, LiveLink, card_item, mixed_load
from .records import card, put, remove

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLink]:
    from polystore import load_topology

    topology: Topology = load_topology()
    system = topology.system("tcgstore")
    stack = LocalStack(tmp_path_factory.mktemp("sync-state"))
    try:
        stack.up([system], runtime="embedded")
        yield LiveLink(system, stack.dir.root)
    finally:
        stack.reset()


def test_changes_reach_the_index_and_status_reports_them(live: LiveLink) -> None:
    assert live.poller_pid() is not None  # up started the link's poller worker
    mixed_load(live.ddb, live.table, 300, prefix="a")
    ok, _, diff = live.wait_converged(90)
    assert ok, diff
    docs = live.index_docs()
    assert docs["a7"]["name"] == "Renamed 7" and docs["a7"]["id"] == "a7"
    assert docs["a0"]["name"] == "Card 0" and "updated_at" not in docs["a0"]
    deleted = [f"a{i - 3}" for i in range(300) if i % 7 == 6]
    assert deleted and not set(deleted) & set(docs)
    status = link_status(live.state_dir, "tcgstore", LINK)
    assert status["state"] == "running" and status["queued_failures"] == 0
    assert status["last_sequence_number"] is not None


def test_kill9_of_the_poller_mid_load_loses_nothing(live: LiveLink) -> None:
    writer = threading.Thread(target=mixed_load, args=(live.ddb, live.table, 1500, "k"))
    writer.start()
    time.sleep(1.0)
    killed = live.poller_pid()
    live.kill_poller()  # SIGKILL, mid-batch most likely
    time.sleep(0.5)
    live.start_poller()  # polystore up restarts the dead worker
    assert live.poller_pid() not in (None, killed)
    writer.join()
    ok, _, diff = live.wait_converged(90)
    assert ok, diff


def test_kill9_of_the_search_engine_mid_load_loses_nothing(live: LiveLink) -> None:
    """Records the engine did not acknowledge are retried (not queued) until it is back."""
    writer = threading.Thread(target=mixed_load, args=(live.ddb, live.table, 600, "ks"))
    writer.start()
    time.sleep(1.5)
    tracked = procs.read_tracked(live.state_dir / "pids", "search")
    assert tracked is not None
    os.kill(tracked.pid, signal.SIGKILL)
    time.sleep(1.0)  # the poller keeps failing meanwhile
    LocalStack(live.state_dir).up([live.system], runtime="embedded")
    writer.join()
    ok, _, diff = live.wait_converged(90)
    assert ok, diff
    assert link_status(live.state_dir, "tcgstore", LINK)["queued_failures"] == 0


def test_a_record_that_keeps_failing_is_queued_and_redrive_replays(live: LiveLink) -> None:
    bad = card_item("bad1", "Bad", 1)
    bad["number"] = {"S": "not a number"}  # the integer field rejects it
    live.ddb.put_item(TableName=live.table, Item=bad)
    deadline = time.monotonic() + 20
    status = link_status(live.state_dir, "tcgstore", LINK)
    while time.monotonic() < deadline and status["queued_failures"] == 0:
        time.sleep(0.2)
        status = link_status(live.state_dir, "tcgstore", LINK)
    assert status["queued_failures"] == 1, status
    assert "failed" in (status["last_error"] or "")
    # Later records were not held up by the queued one.
    live.ddb.put_item(TableName=live.table, Item=card_item("after-bad", "After", 2))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "after-bad" not in live.index_docs():
        time.sleep(0.1)
    assert "after-bad" in live.index_docs()
    # Still bad: redrive keeps it queued.
    result = redrive(live.state_dir, live.system, LINK)
    assert result == {"redriven": 0, "still_failing": 1, "failing": result["failing"]}
    # A queued record that can now be applied is applied and leaves the queue.
    st = LinkState(state_path(live.state_dir, "tcgstore", LINK))
    failed = st.failures()[0]
    st.remove_failures([failed["id"]])
    st.dead_letter(failed["shard_id"], _now(put(int(failed["sequence_number"]), card("fixed"))),
                   "test", 5)  # fmt: skip
    st.close()
    result = redrive(live.state_dir, live.system, LINK)
    assert result["redriven"] == 1 and result["still_failing"] == 0
    assert "fixed" in live.index_docs()
    assert link_status(live.state_dir, "tcgstore", LINK)["queued_failures"] == 0
    # Leave the table and the index equal for the tests after this one.
    st = LinkState(state_path(live.state_dir, "tcgstore", LINK))
    st.dead_letter(failed["shard_id"], _now(remove(int(failed["sequence_number"]) + 1, "fixed")),
                   "test", 5)  # fmt: skip
    st.close()
    assert redrive(live.state_dir, live.system, LINK)["redriven"] == 1
    live.ddb.delete_item(TableName=live.table, Key={"Id": {"S": "bad1"}})
    ok, _, diff = live.wait_converged(90)
    assert ok, diff


def _now(record: dict) -> dict:
    """A record just made (a record old enough is checked against the table, where these
    synthetic items do not exist: see sync/stream_to_search/late_records.py)."""
    record["dynamodb"]["ApproximateCreationDateTime"] = time.time()
    return record


def _reindex_under_load(live: LiveLink, prefix: str) -> tuple[dict, list[str]]:
    """Reindex while a writer and a searcher run; every search must count > 0 documents."""
    is_alias = live.status_of(f"/_alias/{live.index}") == 200
    before = sorted(live.search(f"/_alias/{live.index}")) if is_alias else []
    stop = threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def searcher() -> None:
        while not stop.is_set():
            try:
                seen.append(live.search(f"/{live.index}/_count")["count"])
            except Exception as exc:  # any failed search is a window without results
                errors.append(repr(exc))
            time.sleep(0.01)

    writer = threading.Thread(target=mixed_load, args=(live.ddb, live.table, 600, prefix))
    reader = threading.Thread(target=searcher)
    writer.start()
    reader.start()
    try:
        result = reindex(live.system, "cards-index", live.state_dir)
    finally:
        writer.join()
        stop.set()
        reader.join()
    assert errors == [] and seen and min(seen) > 0, (errors, min(seen, default=None))
    after = sorted(live.search(f"/_alias/{live.index}"))
    assert after == [result["index"]] and result["index"] not in before
    assert result["scanned"] > 0
    ok, _, diff = live.wait_converged(90)
    assert ok, diff
    return result, before


def test_reindex_while_writes_continue_never_empties_search(live: LiveLink) -> None:
    mixed_load(live.ddb, live.table, 200, prefix="pre")
    assert live.wait_converged(90)[0]
    result, before = _reindex_under_load(live, "during")
    assert result["previous"] == before
    for old in before:  # the previous generation is gone
        assert live.status_of(f"/{old}") == 404


def test_reindex_upgrades_a_legacy_index_named_like_the_alias(live: LiveLink) -> None:
    """A stack provisioned before aliases has a concrete index under the alias's name:
    reindex replaces it by the alias in one ``_aliases`` request (``add`` +
    ``remove_index``), with searches answering throughout."""
    for n in range(20):  # the legacy index holds documents, whichever test ran here before
        live.ddb.put_item(TableName=live.table, Item=card_item(f"legacy-{n}", "Legacy", n))
    assert live.wait_converged(90)[0]
    live.kill_poller()
    generations = sorted(live.search(f"/_alias/{live.index}"))
    live.search("/_aliases", {"actions": [{"remove_index": {"index": g}} for g in generations]},
                "POST")  # fmt: skip
    live.search(f"/{live.index}", live.system.stores["cards-index"].body(), "PUT")
    lines = []
    for doc_id, doc in live.table_docs().items():
        meta = {"_id": doc_id, "version": 0, "version_type": "external"}
        lines += [json.dumps({"index": meta}), json.dumps(doc)]
    req = urllib.request.Request(f"{live.search_url}/{live.index}/_bulk?refresh=true",
                                 data=("\n".join(lines) + "\n").encode(), method="POST",
                                 headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert json.loads(resp.read())["errors"] is False
    assert live.status_of(f"/_alias/{live.index}") == 404  # an index, not an alias
    live.start_poller()
    assert live.wait_converged(90)[0]
    result, before = _reindex_under_load(live, "legacy")
    assert before == [] and result["previous"] == [live.index]
    assert result["index"].startswith(f"{live.index}-")
    # The name is now only the alias: GET /<alias> answers with the generation behind it.
    assert list(live.search(f"/{live.index}")) == [result["index"]]


def test_a_dynamodb_engine_killed_mid_load_keeps_its_stream_and_the_index_follows(
    live: LiveLink,
) -> None:
    """kill -9 of the DynamoDB engine in the middle of a load: every acknowledged write and
    its stream record survive (the engine commits them together), the poller resumes from
    its checkpoint on the same stream (no reindex) and the index converges to the table."""

    stream_before = live.ddb.describe_table(TableName=live.table)["Table"]["LatestStreamArn"]
    tracked = procs.read_tracked(live.state_dir / "pids", "dynamodb")
    assert tracked is not None
    load = threading.Thread(target=lambda: _load_through_kill(live, 300))
    load.start()
    time.sleep(0.5)
    os.kill(tracked.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and psutil.pid_exists(tracked.pid):
        time.sleep(0.1)
    LocalStack(live.state_dir).up([live.system], runtime="embedded")
    load.join(timeout=300)
    live.ddb.put_item(TableName=live.table, Item=card_item("rk0", "After restart", 0))
    ok, _, diff = live.wait_converged(90)
    assert ok, diff
    assert live.index_docs()["rk0"]["name"] == "After restart"
    after = live.ddb.describe_table(TableName=live.table)["Table"]["LatestStreamArn"]
    assert after == stream_before  # the same stream, kept across the kill
    assert "reindexed" not in (link_status(live.state_dir, "tcgstore", LINK)["last_error"] or "")


def _load_through_kill(live: LiveLink, n: int) -> None:
    """Writes that keep going while the engine dies and comes back (retried until acked)."""
    for i in range(n):
        for _ in range(200):
            try:
                live.ddb.put_item(TableName=live.table, Item=card_item(f"rk{i}", f"Card {i}", i))
                break
            except Exception:
                time.sleep(0.1)
