"""The local PostgreSQL is the declared one, and migrations are applied as declared.

One embedded stack for the module; each test writes its own one-store system (own
database) into a temp stacks dir, so it can edit its migrations freely.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from emulation import report
from emulation.engines.base import endpoints_of
from emulation.engines.postgres import parity as pg_parity
from emulation.errors import MigrationRefused, StaleState
from emulation.stack import LocalStack
from polystore.cli.local_cmds import up as up_cmd
from polystore.topology.model import System
from tests.emulation.pg_fixture_system import FIRST_MIGRATION, load_system, write_system

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(tmp_path_factory.mktemp("pg-fidelity-state"))
    try:
        yield local
    finally:
        local.reset()


def connect(stack: LocalStack, system: System) -> psycopg.Connection[Any]:
    env = report.env(stack.dir, system, "app")
    return psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
                           password=env["PGPASSWORD"], dbname=env["PGDATABASE"],
                           sslmode="disable", autocommit=True)  # fmt: skip


def cli_up(stack: LocalStack, stacks: Path) -> Any:
    return CliRunner().invoke(up_cmd, ["--state-dir", str(stack.dir.root)],
                              env={"POLYSTORE_STACKS": str(stacks)})  # fmt: skip


def test_a_store_declared_16_runs_16_and_postgres_18_sql_fails(
    stack: LocalStack, tmp_path: Path
) -> None:
    system = load_system(write_system(tmp_path, "pg16probe", "16"), "pg16probe")
    stack.up([system], runtime="embedded")
    with connect(stack, system) as conn:
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000 == 16
        assert conn.execute("SELECT count(*) FROM account").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.UndefinedFunction):
            conn.execute("SELECT uuidv7()")  # PostgreSQL 18 only: fails in AWS on 16 too
    assert pg_parity.check([system], endpoints_of(stack.dir.load())) == []


def test_another_declared_major_is_reported_by_parity_and_refused_by_up(
    stack: LocalStack, tmp_path: Path
) -> None:
    sixteen = load_system(write_system(tmp_path / "a", "pgmajor", "16"), "pgmajor")
    stack.up([sixteen], runtime="embedded")
    seventeen = load_system(write_system(tmp_path / "b", "pgmajor", "17"), "pgmajor")
    drift = pg_parity.check([seventeen], endpoints_of(stack.dir.load()))
    assert any("runs PostgreSQL 16." in d and "declares PostgreSQL 17" in d for d in drift)
    with pytest.raises(StaleState) as err:
        stack.up([seventeen], runtime="embedded")
    assert "runs 16" in str(err.value) and "polystore reset" in err.value.hint
    stack.up([sixteen], runtime="embedded")  # the declared major again: fine


def test_an_edited_applied_migration_is_refused_with_its_line_even_after_down_up(
    stack: LocalStack, tmp_path: Path
) -> None:
    stacks = write_system(tmp_path, "pgedit")
    stack.up([load_system(stacks, "pgedit")], runtime="embedded")
    stack.down()
    stack.up([load_system(stacks, "pgedit")], runtime="embedded")  # unchanged: fine
    migration = stacks / "migrations" / "pgedit" / "main-db" / "001_accounts.sql"
    migration.write_text(FIRST_MIGRATION.replace("name  text", "name  varchar(80)"))
    with pytest.raises(MigrationRefused) as err:
        stack.up([load_system(stacks, "pgedit")], runtime="embedded")
    message = str(err.value)
    assert f"{migration}:5: migration 001 was applied to database pgedit_db" in message
    assert "applied: name  text NOT NULL" in message
    assert "now:     name  varchar(80) NOT NULL" in message
    assert "new migration" in err.value.hint and "polystore reset" in err.value.hint
    result = cli_up(stack, stacks)
    assert result.exit_code == 2, result.output
    assert f"{migration}:5:" in result.output


def test_a_failing_migration_names_the_file_line_exits_2_and_applies_nothing(
    stack: LocalStack, tmp_path: Path
) -> None:
    stacks = write_system(tmp_path, "pgfail")
    system = load_system(stacks, "pgfail")
    stack.up([system], runtime="embedded")
    bad = stacks / "migrations" / "pgfail" / "main-db" / "002_entries.sql"
    bad.write_text(
        "-- entries\n"
        "-- migrate:up\n"
        "CREATE TABLE entry (id bigint PRIMARY KEY);\n"
        "\n"
        "ALTER TABLE account\n"
        "    ADD COLUMN kind nosuchtype;\n"
        "-- migrate:down\n"
        "DROP TABLE entry;\n"
    )
    with pytest.raises(MigrationRefused) as err:
        stack.up([load_system(stacks, "pgfail")], runtime="embedded")
    assert str(err.value).startswith(f"{bad}:6:")
    assert 'type "nosuchtype" does not exist' in str(err.value)
    assert "ADD COLUMN kind nosuchtype;" in str(err.value)
    result = cli_up(stack, stacks)
    assert result.exit_code == 2, result.output
    with connect(stack, system) as conn:
        assert conn.execute("SELECT to_regclass('entry')").fetchone()[0] is None
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
        assert versions == ["001"]


def test_an_error_postgres_gives_no_position_for_is_located_by_statement(
    stack: LocalStack, tmp_path: Path
) -> None:
    stacks = write_system(tmp_path, "pgdup")
    system = load_system(stacks, "pgdup")
    stack.up([system], runtime="embedded")
    bad = stacks / "migrations" / "pgdup" / "main-db" / "002_seed.sql"
    bad.write_text(
        "-- migrate:up\n"
        "INSERT INTO account VALUES (1, 'first');\n"
        "\n"
        "INSERT INTO account VALUES (1, 'again');\n"
        "-- migrate:down\n"
    )
    with pytest.raises(MigrationRefused) as err:
        stack.up([load_system(stacks, "pgdup")], runtime="embedded")
    assert str(err.value).startswith(f"{bad}:4:")
    assert "duplicate key" in str(err.value)
    with connect(stack, system) as conn:
        assert conn.execute("SELECT count(*) FROM account").fetchone()[0] == 0
