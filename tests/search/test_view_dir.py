"""The searchable view (tantivy) kept outside the data dir, on tmpfs by default.

SQLite is the durable record: a kill -9 followed by the loss of the view (a reboot clears
/dev/shm) must cost a rebuild on start, never a document or a version.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from emulation.engines.search import ENGINE
from emulation.search import view_dir
from emulation.search.engine import Engine
from emulation.search.versioning import WriteOptions
from emulation.search.view_dir import VIEW_DIR_ENV, choose_root, root_path
from tests.search.cards import CARD_INDEX_BODY
from tests.search.test_engine_process import engine_process

pytestmark = pytest.mark.usefixtures("engine_only")
NO_REFRESH = {
    **CARD_INDEX_BODY,
    "settings": {**CARD_INDEX_BODY["settings"], "refresh_interval": "-1"},
}


def _bulk(url: str, lines: list[dict]) -> None:
    body = "".join(json.dumps(line) + "\n" for line in lines)
    result = httpx.post(
        f"{url}/cards/_bulk", content=body, headers={"content-type": "application/x-ndjson"}
    ).json()
    assert result["errors"] is False, result


def _searchable(url: str) -> dict[str, str]:
    hits = httpx.post(
        f"{url}/cards/_search", json={"query": {"match_all": {}}, "size": 1000}
    ).json()["hits"]["hits"]
    return {h["_id"]: h["_source"]["name"] for h in hits}


@pytest.mark.slow
def test_kill_then_lost_view_rebuilds_every_document_and_version(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VIEW_DIR_ENV, raising=False)  # the default: tmpfs when usable
    if not os.access("/dev/shm", os.W_OK):
        pytest.skip("no writable /dev/shm here: the engine keeps views in the data dir")
    with engine_process(data_dir) as (proc, url):
        httpx.put(f"{url}/cards", json=NO_REFRESH).raise_for_status()
        ext = {"version_type": "external"}
        # 300 documents at version 5, 100 of them then at version 9, 50 deleted at 12; a
        # refresh in the middle, so the view on disk is partly behind SQLite at the kill.
        _bulk(
            url,
            [
                x
                for i in range(300)
                for x in ({"index": {"_id": str(i), "version": 5, **ext}}, {"name": f"Card {i}"})
            ],
        )
        httpx.post(f"{url}/cards/_refresh").raise_for_status()
        _bulk(
            url,
            [
                x
                for i in range(100)
                for x in ({"index": {"_id": str(i), "version": 9, **ext}}, {"name": f"New {i}"})
            ],
        )
        _bulk(url, [{"delete": {"_id": str(i), "version": 12, **ext}} for i in range(250, 300)])
        proc.kill()  # no refresh, no clean shutdown
        proc.wait(timeout=10)
    root = root_path(data_dir)
    assert root is not None and any(root.glob("*/tantivy-*")), "the view was not on tmpfs"
    assert not list(data_dir.glob("indices/*/tantivy-*")), "a view was left in the data dir"
    shutil.rmtree(root)  # as a reboot clears /dev/shm
    with engine_process(data_dir) as (_, url):
        expected = {str(i): f"New {i}" if i < 100 else f"Card {i}" for i in range(250)}
        assert _searchable(url) == expected
        assert httpx.get(f"{url}/cards/_doc/7").json()["_version"] == 9
        assert httpx.get(f"{url}/cards/_doc/150").json()["_version"] == 5
        # Versions are intact: an older external version is still refused, also on a
        # deleted document (its tombstone), and a newer one is accepted.
        stale = httpx.put(f"{url}/cards/_doc/7?version=8&version_type=external",
                          json={"name": "Old"})  # fmt: skip
        assert stale.status_code == 409
        late = httpx.put(f"{url}/cards/_doc/260?version=11&version_type=external",
                         json={"name": "Late"})  # fmt: skip
        assert late.status_code == 409
        newer = httpx.put(f"{url}/cards/_doc/150?version=6&version_type=external&refresh=true",
                          json={"name": "Newer"})  # fmt: skip
        assert newer.status_code == 200
        assert _searchable(url)["150"] == "Newer"
        assert any(root.glob("*/tantivy-*")), "the view was not rebuilt on tmpfs"


def _engine_with_cards(data_dir: Path, views: str | None) -> Engine:
    engine = Engine(data_dir, views)
    store = engine.create_index("cards", NO_REFRESH)
    for i in range(20):
        raw = json.dumps({"name": f"Card {i}"}).encode()
        store.index_doc(str(i), raw, json.loads(raw), WriteOptions())
    store.sources.commit()
    return engine


def _count(engine: Engine) -> int:
    searcher = engine.indices["cards"].searcher()
    return int(searcher.num_docs)


def test_view_in_chosen_dir_is_rebuilt_when_its_files_go(tmp_path: Path) -> None:
    views = tmp_path / "views"
    engine = _engine_with_cards(tmp_path / "data", str(views))
    engine.close()
    (generation,) = list(views.glob("*/*/tantivy-*"))
    shutil.rmtree(generation)  # the index files go, the stamp beside them stays
    engine = Engine(tmp_path / "data", str(views))
    assert _count(engine) == 20
    assert engine.indices["cards"].rebuilt == 20
    engine.close()
    engine = Engine(tmp_path / "data", str(views))  # an intact view: nothing to replay
    assert _count(engine) == 20
    assert engine.indices["cards"].rebuilt == 0
    engine.delete_index("cards")
    assert not list(views.glob("*/*/tantivy-*"))
    engine.close()


def test_data_keeps_the_view_in_the_data_dir(tmp_path: Path) -> None:
    assert choose_root(tmp_path, "data") is None
    engine = _engine_with_cards(tmp_path / "data", "data")
    assert list((tmp_path / "data").glob("indices/cards/tantivy-*"))
    engine.close()


def test_an_unusable_chosen_view_dir_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RuntimeError, match="cannot keep search views in"):
        Engine(tmp_path / "data", str(blocker / "views"))


def test_wipe_removes_the_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    views = tmp_path / "views"
    monkeypatch.setenv(VIEW_DIR_ENV, str(views))
    engine = _engine_with_cards(tmp_path / "state" / "data", str(views))
    engine.close()
    assert list(views.glob("*/*/tantivy-*"))
    ENGINE.wipe(tmp_path / "state")
    assert not (tmp_path / "state").exists()
    assert not list(views.iterdir())


def test_views_of_vanished_data_dirs_are_collected(tmp_path: Path) -> None:
    views = tmp_path / "views"
    _engine_with_cards(tmp_path / "gone", str(views)).close()
    shutil.rmtree(tmp_path / "gone")  # e.g. a test's temporary dir, no reset
    _engine_with_cards(tmp_path / "kept", str(views)).close()
    owners = {p.read_text() for p in views.glob("*/data_dir.txt")}
    assert owners == {str((tmp_path / "kept").resolve())}


def test_a_small_tmpfs_falls_back_to_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VIEW_DIR_ENV, raising=False)
    monkeypatch.setattr(view_dir, "_MIN_FREE", 1 << 62)  # more than any tmpfs has free
    assert choose_root(tmp_path / "data") is None
    engine = _engine_with_cards(tmp_path / "data", None)
    assert engine.view_root is None
    assert list((tmp_path / "data").glob("indices/cards/tantivy-*"))
    engine.close()
