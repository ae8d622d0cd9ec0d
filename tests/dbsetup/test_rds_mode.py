"""``python -m dbsetup`` on a real PostgreSQL made to look like RDS, as RDS's master user.

The server is the local stack's (``tests.support.postgres``). RDS is stood in for by what
the setup reads from the server: roles ``rds_iam`` and ``rds_replication`` exist, and the
administrator is not a superuser but a CREATEROLE + CREATEDB login (RDS's master user)
holding both roles with ADMIN OPTION. Three stand-ins, each for something stock
PostgreSQL cannot do: the master owns the ``postgres`` database and the store's database
exists already, owned by it (RDS creates both); it has the REPLICATION attribute (RDS
lets ``rds_superuser`` create slots); and IAM tokens are a password the master gave the
service login (stock PostgreSQL has no IAM authentication) -- the ``password_for`` seam.
The replication password goes through Secrets Manager (moto).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import dbsetup.__main__ as cli
from polystore.naming import replication_role_name, replication_slot_name, service_role_name
from polystore.topology.model import Topology
from tests.emulation.pg_fixture_system import write_system
from tests.support.postgres import ThrowawayPostgres, throwaway_postgres

pytestmark = pytest.mark.slow
MASTER, MASTER_PW = "postgres_admin", "master-pw"
SECRET = "bellyfed-dev/bellyfed-cdc/replication"


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as pg, pg.connect() as conn:
        for stmt in (
            "CREATE ROLE rds_iam", "CREATE ROLE rds_replication",
            f"CREATE ROLE {MASTER} LOGIN PASSWORD '{MASTER_PW}' CREATEROLE CREATEDB "
            "REPLICATION",
            f"GRANT rds_iam, rds_replication TO {MASTER} WITH ADMIN OPTION",
            f"ALTER DATABASE postgres OWNER TO {MASTER}",
        ):  # fmt: skip
            conn.execute(stmt)  # type: ignore[call-overload]
        yield pg


def as_master(pg: ThrowawayPostgres, db: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(host="127.0.0.1", port=pg.port, user=MASTER, password=MASTER_PW,
                           dbname=db, sslmode="disable", autocommit=True)  # fmt: skip


def admin_env(pg: ThrowawayPostgres) -> dict[str, str]:
    return {"PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": MASTER,
            "PGPASSWORD": MASTER_PW, "PGSSLMODE": "disable", "PGDATABASE": "postgres",
            "AWS_REGION": "us-east-1"}  # fmt: skip


def iam_stand_in(pg: ThrowawayPostgres, login: str) -> dict[str, str]:
    """The service login as the master would have it before setup, with a password that
    stands in for its IAM tokens."""
    passwords = {login: "token-stand-in"}
    with as_master(pg) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(login), sql.Literal(passwords[login])))  # fmt: skip
    return passwords


def test_setup_as_rds_master_owns_migrates_replicates_idempotently(
    server: ThrowawayPostgres, topology: Topology, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto import mock_aws

    system = topology.system("bellyfed")
    login = service_role_name(system, "restaurant-api")
    with as_master(server) as conn:
        conn.execute("CREATE DATABASE bellyfed")  # as RDS does, owned by the master
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                            ).fetchone() == (False,)  # fmt: skip
    passwords = iam_stand_in(server, login)
    argv = ["--system", "bellyfed", "--store", "bellyfed-db", "--environment", "dev",
            "--replication-secret", f"bellyfed-cdc={SECRET}"]  # fmt: skip
    with mock_aws():
        import boto3

        client = boto3.client("secretsmanager", region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
        client.create_secret(Name=SECRET, Description="replication login")  # no value yet
        for run in range(2):
            code = cli.main(argv, admin_env(server), password_for=passwords.__getitem__,
                            secrets_client=client)  # fmt: skip
            out = capsys.readouterr()
            assert code == 0, out.err
            assert "dbsetup: done" in out.out
            assert ("generated the replication password" in out.out) == (run == 0)
        replication_pw = client.get_secret_value(SecretId=SECRET)["SecretString"]
        assert len(client.list_secret_version_ids(SecretId=SECRET)["Versions"]) == 1

    repl = replication_role_name(system, "bellyfed-cdc")
    slot = replication_slot_name(system, "dev", "bellyfed-cdc")
    with server.connect("bellyfed") as conn:
        assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                            "WHERE datname = 'bellyfed'").fetchone() == (login,)  # fmt: skip
        owners = dict(conn.execute("SELECT tablename, tableowner FROM pg_tables "
                                   "WHERE schemaname = 'public'").fetchall())  # fmt: skip
        assert "restaurants" in owners and set(owners.values()) == {login}, owners
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
        member = "SELECT pg_has_role(%s, %s, 'MEMBER')"
        assert conn.execute(member, (login, "rds_iam")).fetchone() == (True,)
        assert conn.execute(member, (repl, "rds_replication")).fetchone() == (True,)
        assert conn.execute("SELECT rolreplication FROM pg_roles WHERE rolname = %s",
                            (repl,)).fetchone() == (False,)  # fmt: skip
        published = {
            t
            for (t,) in conn.execute(
                "SELECT tablename FROM pg_publication_tables WHERE pubname = %s", (slot,)
            )
        }
        assert published == set(system.cdc_links()["bellyfed-cdc"].tables)
        readable = {t for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND privilege_type = 'SELECT'", (repl,))}  # fmt: skip
        assert readable == published
        assert conn.execute("SELECT plugin FROM pg_replication_slots WHERE slot_name = %s",
                            (slot,)).fetchone() == ("pgoutput",)  # fmt: skip
        acl = conn.execute("SELECT datacl::text FROM pg_database WHERE datname = 'bellyfed'"
                           ).fetchone()[0]  # fmt: skip
        assert not any(entry.startswith("=") for entry in acl.strip("{}").split(","))  # PUBLIC
    # the secret's password is the replication login's
    with psycopg.connect(host="127.0.0.1", port=server.port, user=repl, password=replication_pw,
                         dbname="bellyfed", sslmode="disable") as conn:  # fmt: skip
        assert conn.execute("SELECT count(*) FROM restaurants").fetchone() is not None


def test_a_failing_migration_exits_2_with_its_path_and_line(
    server: ThrowawayPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = write_system(tmp_path, "rdsfail", migrations={"001_bad.sql": (
        "-- migrate:up\nCREATE TABLE a (id bigint PRIMARY KEY);\n"
        "ALTER TABLE a ADD COLUMN k nosuchtype;\n-- migrate:down\n")})  # fmt: skip
    passwords = iam_stand_in(server, "rdsfail_app")
    code = cli.main(["--system", "rdsfail", "--store", "main-db", "--environment", "dev",
                     "--stacks", str(stacks)], admin_env(server),
                    password_for=passwords.__getitem__)  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    bad = stacks / "migrations" / "rdsfail" / "main-db" / "001_bad.sql"
    assert f"dbsetup: error: {bad}:3:" in err and "nosuchtype" in err


@pytest.mark.parametrize(("argv", "env", "says"), [
    (["--system", "nope", "--store", "x", "--environment", "dev"], {}, "no system 'nope'"),
    (["--system", "bellyfed", "--store", "cdc-topic", "--environment", "dev"], {},
     "no PostgreSQL store 'cdc-topic'"),
    (["--system", "bellyfed", "--store", "bellyfed-db", "--environment", "dev"],
     {"AWS_REGION": "us-east-1"}, "no replication password for CDC link(s) bellyfed-cdc"),
    (["--system", "bellyfed", "--store", "bellyfed-db", "--environment", "dev",
      "--replication-secret", "other=s"], {}, "--replication-secret 'other=s'"),
    (["--system", "bellyfed", "--store", "bellyfed-db", "--environment", "dev"],
     {"CDC_REPLICATION_PASSWORD": "p", "AWS_REGION": "us-east-1"}, "missing environment "
     "variables PGHOST, PGUSER"),
])  # fmt: skip
def test_bad_input_exits_2_naming_what(argv: list[str], env: dict[str, str], says: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert cli.main(argv, env) == 2
    assert says in capsys.readouterr().err
