"""The PostgreSQL engine: one server holds every system's databases.

Faces: ``server`` (binaries, initdb, the server command), ``provision`` (databases,
one login per owning service, extensions, migrations), ``parity`` (databases, roles
and their reach, tables, indexes); the plug-in below binds them with the probe, the
container and what a service's environment carries (libpq's ``PG*``).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulation.engines.base import Endpoints, Engine, Launch, Progress

if TYPE_CHECKING:
    from emulation.runtimes.containers import ContainerSpec
    from emulation.state import State, StateDir
    from polystore.topology.model import Store, System


class PostgresEngine(Engine):
    name = "postgres"
    kinds = ("postgres",)
    scheme = "postgresql"
    stop_signal = signal.SIGINT  # PostgreSQL's "fast" shutdown

    def probe(self, ep: Endpoints) -> None:
        """Log in as the administrator and run ``SELECT 1``."""
        import psycopg

        with psycopg.connect(host=ep.host, port=ep.port(self.name), user=ep.admin_user,
                             password=ep.admin_password, dbname="postgres", connect_timeout=2,
                             sslmode="disable") as conn:  # fmt: skip
            row = conn.execute("SELECT 1").fetchone()
            if row != (1,):
                raise RuntimeError(f"SELECT 1 returned {row!r}")

    def configure(self, systems: list[System], state: State) -> None:
        """The declared major (one per state dir) picks the binaries and the image."""
        from emulation.engines.postgres import version

        version.record(state, systems)

    def launch(self, ep: Endpoints, data: Path, progress: Progress) -> Launch:
        from emulation.engines.postgres import server

        user = server.run_as()
        major = server.wanted_major(ep.state)
        bins = server.bin_dir(major, progress, user)  # fetched once per major, then cached
        server.check_cluster(data / "data", major)
        for line in self.recover(data):
            progress(line)
        if not (data / "data" / "PG_VERSION").exists():
            progress(f"postgres: creating the cluster (initdb, PostgreSQL {major})")
            server.initdb(data / "data", ep.admin_password, user, bins)
        return Launch(server.server_command(data / "data", ep.port(self.name), bins), user=user)

    def recover(self, data: Path) -> list[str]:
        """A killed server's backends and stale lock file (``server.end_orphans``)."""
        from emulation.engines.postgres import server

        lock = data / "data" / "postmaster.pid"
        if not lock.exists():
            return []
        ended = server.end_orphans(data / "data")
        if lock.exists():
            return []  # a live server owns it (or it cannot be told): left alone
        return [f"postgres: cleared a killed server's lock file and {len(ended)} backends"]

    def wipe(self, data: Path) -> None:
        """As root the cluster may live outside ``data`` (a 0700 checkout): remove it too."""
        from emulation.engines.postgres import server

        server.remove_data(data / "data")
        super().wipe(data)

    def container(self, state_dir: StateDir, state: State) -> ContainerSpec:
        from emulation.engines.postgres.version import DEFAULT_MAJOR
        from emulation.errors import EmulationError
        from emulation.runtimes.containers import IMAGES, HealthCheck, spec

        major = state.versions.get(self.name, DEFAULT_MAJOR)
        if major not in IMAGES[self.name]:
            raise EmulationError(f"no postgres image is pinned for PostgreSQL {major}",
                                 "declare a supported `version:` (14 to 18)")  # fmt: skip
        # From 18 the image keeps its cluster in /var/lib/postgresql/<major>/docker and
        # wants the volume one level up.
        volume = "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"
        return spec(state_dir, state, self.name, container_port=5432, volume_path=volume,
                    image=IMAGES[self.name][major],
                    environment={"POSTGRES_PASSWORD": state.admin_password,
                                 "POSTGRES_USER": "postgres"},
                    command=["postgres", "-c", "wal_level=logical", "-c",
                             "synchronous_commit=on", "-c", "max_connections=200"],
                    healthcheck=HealthCheck(["CMD-SHELL",
                                             "pg_isready -U postgres -h 127.0.0.1"]))  # fmt: skip

    def provision(self, systems: list[System], ep: Endpoints, progress: Progress) -> None:
        from emulation.engines.postgres import provision

        provision.provision(systems, ep.state, ep, progress)

    def parity(self, systems: list[System], ep: Endpoints) -> list[str]:
        from emulation.engines.postgres import parity

        return parity.check(systems, ep)

    def service_env(self, system: System, service: str, ep: Endpoints) -> dict[str, str]:
        from polystore.naming import service_role_name

        own = [s for s in system.stores_of(service).values() if s.kind == "postgres"]
        if not own:
            return {}
        role = service_role_name(system, service)
        return {"PGHOST": ep.host, "PGPORT": str(ep.port(self.name)),
                "PGDATABASE": own[0].database,  # type: ignore[union-attr]
                "PGUSER": role, "PGPASSWORD": ep.state.passwords.get(role, ""),
                "PGSSLMODE": "disable"}  # fmt: skip

    def store_status(self, system: System, name: str, store: Store, ep: Endpoints
                     ) -> dict[str, Any]:  # fmt: skip
        from polystore.naming import service_role_name

        role = service_role_name(system, store.owner)
        port = ep.port(self.name)
        database = store.database  # type: ignore[union-attr]
        return {"database": database, "host": ep.host, "port": port, "user": role,
                "url": f"postgresql://{role}@{ep.host}:{port}/{database}"}  # fmt: skip


ENGINE = PostgresEngine()
