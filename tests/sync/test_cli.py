"""``polystore sync status|redrive`` and ``polystore reindex``: output and bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from polystore.cli.main import cli
from sync.link_state import LinkState, state_path

from .records import card, put


def run(*args: str) -> tuple[int, str, str]:
    out = CliRunner().invoke(cli, list(args))
    return out.exit_code, out.stdout, out.stderr


def test_status_of_a_link_never_started(tmp_path: Path) -> None:
    code, out, _ = run("sync", "status", "--json", "--state-dir", str(tmp_path))
    assert code == 0
    rows = json.loads(out)["links"]
    assert {(r["system"], r["link"]) for r in rows} >= {("tcgstore", "cards-to-search")}
    assert all(r["state"] == "never-started" for r in rows)


def test_status_reports_lag_errors_and_queued_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync import status

    # "running" = a heartbeat younger than 5 s; a loaded machine can take that long to
    # load the topology in the command below: staleness is not what this test checks.
    monkeypatch.setattr(status, "STALE_HEARTBEAT_SECONDS", 600.0)
    st = LinkState(state_path(tmp_path, "tcgstore", "cards-to-search"))
    st.checkpoint("shard-1", "120", {"lag_ms": 42, "last_sequence_number": "120"})
    st.dead_letter("shard-1", put(121, card("x")), "record 121 failed 5 time(s)", 5)
    st.set_status(heartbeat=time.time(), last_error="record 121 failed 5 time(s)")
    st.close()
    code, out, _ = run("sync", "status", "tcgstore.cards-to-search", "--state-dir", str(tmp_path))
    assert code == 1  # a queued failure needs attention
    assert out.startswith("tcgstore.cards-to-search: running, lag 42 ms, 1 queued failures")
    assert "last error: record 121 failed 5 time(s)" in out
    code, out, _ = run("sync", "status", "--json", "tcgstore.cards-to-search",
                       "--state-dir", str(tmp_path))  # fmt: skip
    row = json.loads(out)["links"][0]
    assert row["shards"] == {"shard-1": {"sequence_number": "121", "finished": False}}


def test_bad_targets_are_rejected(tmp_path: Path) -> None:
    code, _, err = run("sync", "redrive", "tcgstore", "--state-dir", str(tmp_path))
    assert code == 2 and "expected SYSTEM.LINK" in err
    code, _, err = run("sync", "redrive", "tcgstore.order-placed", "--state-dir", str(tmp_path))
    assert code == 2 and "no stream-to-search link 'order-placed'" in err
    code, _, err = run("reindex", "nosuch.cards-index", "--state-dir", str(tmp_path))
    assert code == 2 and "no system 'nosuch'" in err
    code, _, err = run("reindex", "tcgstore.cards", "--state-dir", str(tmp_path))
    assert code == 1 and "has no search store 'cards'" in err
