"""Fast tests of the local stack's parts: no engine is started here."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from emulation import procs
from emulation.engines.dynamodb.provision import STREAM_VIEW, create_args, expected
from emulation.engines.postgres import server as pg_engine
from emulation.errors import EngineNotReady, MissingBinary, PortTaken, StaleState
from emulation.runtimes import factory
from emulation.runtimes.embedded import EmbeddedRuntime
from emulation.state import State, StateDir
from emulation.waits import wait_for
from polystore.topology.model import Topology


def test_state_round_trip_keeps_ports_and_passwords(tmp_path: Path) -> None:
    sd = StateDir(tmp_path)
    state = State(runtime="embedded", ports={"postgres": 5555})
    pw = state.password_for("svc_role")
    sd.save(state)
    again = sd.load()
    assert again.ports == {"postgres": 5555}
    assert again.password_for("svc_role") == pw
    assert (sd.state_file.stat().st_mode & 0o077) == 0  # passwords: owner only


def test_unreadable_state_is_a_stale_state_error_with_a_hint(tmp_path: Path) -> None:
    sd = StateDir(tmp_path)
    sd.state_file.write_text('{"version": 999}')
    with pytest.raises(StaleState) as err:
        sd.load()
    assert "polystore reset" in err.value.hint
    assert str(sd.state_file) in str(err.value)


def test_wait_for_fails_saying_what_it_saw_with_log_lines_and_hint(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    log.write_text("booting\nFATAL: could not bind\n")

    def probe() -> None:
        raise ConnectionRefusedError("refused")

    t0 = time.monotonic()
    with pytest.raises(EngineNotReady) as err:
        wait_for(probe, what="thing on 127.0.0.1:1", timeout=0.3, log=log, hint="try X")
    assert time.monotonic() - t0 < 2
    text = str(err.value)
    assert "thing on 127.0.0.1:1" in text and "ConnectionRefusedError: refused" in text
    assert "FATAL: could not bind" in text and err.value.hint == "try X"


def test_wait_for_stops_early_when_the_process_is_gone() -> None:
    def probe() -> None:
        raise OSError("nope")

    t0 = time.monotonic()
    with pytest.raises(EngineNotReady, match="the process exited"):
        wait_for(probe, what="x", timeout=30, alive=lambda: False)
    assert time.monotonic() - t0 < 1


def test_spawned_process_is_detached_tracked_and_stopped(tmp_path: Path) -> None:
    tracked = procs.spawn_detached("sleeper", ["sleep", "30"], pids_dir=tmp_path / "pids",
                                   log=tmp_path / "sleeper.log")  # fmt: skip
    try:
        assert tracked.is_alive()
        assert procs.read_tracked(tmp_path / "pids", "sleeper") == tracked
    finally:
        procs.stop(tracked, pids_dir=tmp_path / "pids", timeout=5)
    assert not tracked.is_alive()
    assert procs.read_tracked(tmp_path / "pids", "sleeper") is None


def test_a_port_held_by_someone_else_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        sd = StateDir(tmp_path)
        state = State(runtime="embedded", ports={"postgres": 1, "dynamodb": port, "search": 2})
        with pytest.raises(PortTaken) as err:
            EmbeddedRuntime(sd, state)._start_one("dynamodb", lambda _: None)
    assert str(port) in str(err.value) and "--new-ports" in err.value.hint


def test_a_postgres_bin_override_without_binaries_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(pg_engine.PG_BIN_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MissingBinary) as err:
        pg_engine.bin_dir(16)
    assert "nowhere" in str(err.value) and pg_engine.PG_BIN_ENV in err.value.hint


def test_table_definitions_come_from_the_topology(topology: Topology) -> None:
    checked = 0
    for system in topology.systems.values():
        for name, store in system.dynamodb_stores().items():
            args = create_args("t", store)
            keys = {k["AttributeName"]: k["KeyType"] for k in args["KeySchema"]}
            assert keys[store.key.hash] == "HASH"
            assert (store.key.range is None) == ("RANGE" not in keys.values())
            gsis = {g["IndexName"] for g in args.get("GlobalSecondaryIndexes", [])}
            lsis = {g["IndexName"] for g in args.get("LocalSecondaryIndexes", [])}
            assert gsis == set(store.global_indexes) and lsis == set(store.local_indexes)
            defined = {a["AttributeName"] for a in args["AttributeDefinitions"]}
            used = {k["AttributeName"] for ix in args.get("GlobalSecondaryIndexes", [])
                    for k in ix["KeySchema"]} | set(keys)  # fmt: skip
            assert used <= defined, f"{system.name}.{name}"
            stream = args.get("StreamSpecification", {}).get("StreamViewType")
            assert stream == (STREAM_VIEW[store.stream] if store.stream else None)
            assert expected(store)["ttl"] == store.ttl
            checked += 1
    assert checked > 0


def test_runtime_resolution() -> None:
    assert factory.resolve("embedded", State()) == "embedded"
    assert factory.resolve("auto", State(runtime="docker")) == "docker"
    with pytest.raises(Exception, match="unknown runtime"):
        factory.resolve("podman", State())
