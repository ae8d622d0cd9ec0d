"""PostgreSQL stores in the local stack: the in-database setup of ``dbsetup``, locally.

Everything that happens inside the server -- the owning service's login, its database
(owned by it, PUBLIC revoked), extensions, migrations through dbmate as that login, the
ledger refusing edited migrations, failures as ``path:line`` -- is ``dbsetup``, the code
the deployed stores' setup task runs too. Here: the passwords are the ones kept in
``state.json``, the server must run the major the stores declare, and ``dbsetup``'s
errors become the local stack's (same message; exit 2 for a migration).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dbsetup
from dbsetup.plan import store_setups
from emulation.engines.base import Endpoints, Progress
from emulation.engines.postgres.version import majors
from emulation.errors import MigrationRefused, MissingBinary, ProvisionError, StaleState
from emulation.state import State
from polystore.topology.model import System


def admin_server(ep: Endpoints) -> dbsetup.Server:
    """The local server's superuser, as ``dbsetup`` takes it."""
    return dbsetup.Server(host=ep.host, port=ep.port("postgres"), user=ep.admin_user,
                          password=ep.admin_password, sslmode="disable")  # fmt: skip


@contextmanager
def local_errors() -> Iterator[None]:
    """``dbsetup``'s errors as the local stack's, with the same message and hint."""
    try:
        yield
    except dbsetup.MigrationRefused as err:
        raise MigrationRefused(err.message, err.hint) from None
    except dbsetup.MissingTool as err:
        raise MissingBinary(err.message, err.hint) from None
    except dbsetup.SetupError as err:
        raise ProvisionError(err.message, err.hint) from None


def provision(systems: list[System], state: State, ep: Endpoints, progress: Progress) -> None:
    todo = [s for system in systems
            for s in store_setups(system, f"`polystore up {system.name}`")]  # fmt: skip
    if not todo:
        return
    admin = admin_server(ep)
    with admin.connect("postgres") as conn:
        check_server_major(systems, int(conn.execute("SHOW server_version_num").fetchone()[0]))
    with local_errors():
        dbsetup.setup_stores(admin, todo, state.password_for, progress)
    progress(f"postgres: {len(todo)} databases provisioned and migrated")


def check_server_major(systems: list[System], server_version_num: int) -> None:
    """Refuse to provision a server of another major than the stores declare."""
    running = server_version_num // 10000
    wrong = {m: stores for m, stores in majors(systems).items() if m != running}
    if wrong:
        listing = "; ".join(f"{', '.join(s)} declare{'s' if len(s) == 1 else ''} {m}"
                            for m, s in sorted(wrong.items()))  # fmt: skip
        raise StaleState(
            f"the local PostgreSQL server runs {running}: {listing}",
            "`polystore reset` (deletes the local data) and `polystore up`, so the server "
            "is created with the declared major",
        )
