"""CDC provisioning against the embedded PostgreSQL: publication, slot, replication login."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from emulation import cdc_link as cdc
from emulation.stack import LocalStack, UpResult
from polystore.naming import replication_role_name, service_role_name
from polystore.topology.model import Topology

SYSTEMS = ["bellyfed"]
SLOT = "bellyfed_local_bellyfed_cdc"
pytestmark = pytest.mark.slow


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def provisioned(up_stack: tuple[LocalStack, UpResult], topology: Topology) -> dict[str, Any]:
    _stack, result = up_stack  # `up` provisioned the link (emulation.links registry)
    systems = topology.select(SYSTEMS)
    ep = result.endpoints
    cdc.provision_postgres(systems, ep, _quiet)  # idempotent: again, no error
    state = ep.state
    role = replication_role_name(topology.system("bellyfed"), "bellyfed-cdc")
    return {"ep": ep, "state": state, "role": role, "systems": systems,
            "admin": {"host": ep.host, "port": ep.port("postgres"), "user": ep.admin_user,
                      "password": ep.admin_password}}  # fmt: skip


def _as_replicator(p: dict[str, Any], dbname: str = "bellyfed") -> psycopg.Connection:
    ep = p["ep"]
    return psycopg.connect(host=ep.host, port=ep.port("postgres"), user=p["role"],
                           password=p["state"].passwords[p["role"]], dbname=dbname,
                           autocommit=True)  # fmt: skip


def test_publication_holds_exactly_the_declared_tables(provisioned: dict[str, Any]) -> None:
    with psycopg.connect(dbname="bellyfed", **provisioned["admin"]) as conn:
        rows = conn.execute("SELECT tablename FROM pg_publication_tables WHERE pubname = %s",
                            (SLOT,)).fetchall()  # fmt: skip
        slot = conn.execute("SELECT plugin, database FROM pg_replication_slots "
                            "WHERE slot_name = %s", (SLOT,)).fetchone()  # fmt: skip
        keep = conn.execute("SHOW max_slot_wal_keep_size").fetchone()
    assert {r[0] for r in rows} == {"restaurants", "menu_items", "reviews"}
    assert slot == ("pgoutput", "bellyfed")
    assert keep == ("1GB",)


def test_replication_login_is_its_own_and_reads_only_the_captured_tables(
    provisioned: dict[str, Any], topology: Topology
) -> None:
    role = provisioned["role"]
    assert role != service_role_name(topology.system("bellyfed"), "restaurant-api")
    with psycopg.connect(dbname="postgres", **provisioned["admin"]) as conn:
        attrs = conn.execute("SELECT rolreplication, rolsuper, rolcreatedb FROM pg_roles "
                             "WHERE rolname = %s", (role,)).fetchone()  # fmt: skip
    assert attrs == (True, False, False)
    with _as_replicator(provisioned) as conn:
        conn.execute("SELECT count(*) FROM reviews").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO restaurants (name, slug, cuisine, city) "
                         "VALUES ('x', 'x', 'x', 'x')")  # fmt: skip
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _as_replicator(provisioned, "postgres").close()


def test_the_slot_captures_a_committed_row(provisioned: dict[str, Any]) -> None:
    with psycopg.connect(dbname="bellyfed", autocommit=True, **provisioned["admin"]) as conn:
        conn.execute("INSERT INTO restaurants (name, slug, cuisine, city) "
                     "VALUES ('Slot Test', 'slot-test', 'thai', 'Austin')")  # fmt: skip
    # logical decoding may see the commit a moment after it returns: poll, bounded
    deadline = time.monotonic() + 5
    with _as_replicator(provisioned) as conn:
        while True:
            [changes] = conn.execute(
                "SELECT count(*) FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, "
                "'proto_version', '1', 'publication_names', %s)",
                (SLOT, SLOT),
            ).fetchone()
            if changes >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert changes >= 3  # BEGIN, RELATION, INSERT, COMMIT


def test_drop_slots_removes_the_slot(provisioned: dict[str, Any]) -> None:
    p = provisioned
    assert cdc.drop_slots(p["systems"], p["ep"]) == [SLOT]
    assert cdc.drop_slots(p["systems"], p["ep"]) == []
    with psycopg.connect(dbname="bellyfed", **p["admin"]) as conn:
        assert conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s",
                            (SLOT,)).fetchone() is None  # fmt: skip
    cdc.provision_postgres(p["systems"], p["ep"], _quiet)  # provisioning brings it back
