"""A CDC link's PostgreSQL side: replication login, publication, logical slot.

Per link: a replication login (never a service's login) with ``SELECT`` on the captured
tables only and ``CONNECT`` on that one database; a publication for the captured tables;
a logical replication slot (``pgoutput``) so the WAL is kept from setup on, even before
the connector first starts. Slot and publication share one name
(``polystore.naming.replication_slot_name``; the connector config names the same).

The login may replicate: the ``REPLICATION`` attribute on stock PostgreSQL; on RDS, which
forbids that attribute to its master user's roles, ``GRANT rds_replication`` (chosen when
the role exists). Idempotent: a second run changes nothing; a changed table list is
applied to the publication and the grants. Runs after the migrations (the tables must
exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbsetup.connection import Server
from dbsetup.store import capabilities


@dataclass(frozen=True)
class ReplicationSetup:
    label: str  # ``system.link``, for messages
    database: str
    tables: tuple[str, ...]
    login: str  # ``polystore.naming.replication_role_name``
    slot: str  # also the publication's name


def setup_replication(admin: Server, link: ReplicationSetup, password: str,
                      progress: Callable[[str], None] | None = None, *,
                      admin_database: str = "postgres") -> None:  # fmt: skip
    """The link's login (its password set to ``password``), grants, publication, slot."""
    from psycopg import sql

    role, db = sql.Identifier(link.login), sql.Identifier(link.database)
    with admin.connect(admin_database) as conn:
        caps = capabilities(conn)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                              (link.login,)).fetchone()  # fmt: skip
        attribute = "" if caps.replication_role else " REPLICATION"
        conn.execute(sql.SQL("{} ROLE {} LOGIN{} PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), role, sql.SQL(attribute),
            sql.Literal(password)))  # fmt: skip
        if caps.replication_role:
            conn.execute(sql.SQL("GRANT rds_replication TO {}").format(role))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, role))
    with admin.connect(link.database) as conn:
        tables = sql.SQL(", ").join(sql.Identifier("public", t) for t in link.tables)
        with conn.transaction():
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
            # exactly the captured tables: revoke first, so a table dropped from the link
            # loses its grant
            conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}")
                         .format(role))  # fmt: skip
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(tables, role))
            has_pub = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s",
                                   (link.slot,)).fetchone()  # fmt: skip
            verb = "ALTER PUBLICATION {} SET TABLE {}" if has_pub else (
                "CREATE PUBLICATION {} FOR TABLE {}")  # fmt: skip
            conn.execute(sql.SQL(verb).format(sql.Identifier(link.slot), tables))
        has_slot = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s",
                                (link.slot,)).fetchone()  # fmt: skip
        if not has_slot:
            # outside a transaction that wrote: slot creation waits for running ones
            conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')",
                         (link.slot,))  # fmt: skip
            if progress:
                progress(f"{link.label}: replication slot {link.slot} created")


def drop_slot(admin: Server, link: ReplicationSetup) -> bool:
    """Drop the link's slot (ending the connector's walsender first); whether one was."""
    with admin.connect(link.database) as conn:
        row = conn.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                           (link.slot,)).fetchone()  # fmt: skip
        if row is None:
            return False
        if row[0] is not None:
            conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        conn.execute("SELECT pg_drop_replication_slot(%s)", (link.slot,))
        return True
