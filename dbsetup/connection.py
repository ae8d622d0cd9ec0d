"""Plain connection parameters of a PostgreSQL server, and how a login's password is had.

``Server`` is the administrator's connection (local: the cluster's superuser; AWS: the
RDS-managed master user from its secret). A login's password comes from a
``PasswordFor`` callable: locally the password kept in ``state.json``, in AWS a fresh
RDS IAM auth token (``dbsetup.iam``) -- asked for right before each connection, since a
token lives 15 minutes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dbsetup.errors import BadInput

PasswordFor = Callable[[str], str]  # login -> password (or IAM token) to connect with


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str | None = None  # None: libpq's own lookup (PGPASSWORD, ~/.pgpass)
    sslmode: str = "disable"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Server:
        """The administrator from libpq's variables (what ECS injects from the secret)."""
        env = os.environ if env is None else env
        missing = [v for v in ("PGHOST", "PGUSER") if not env.get(v)]
        if missing:
            raise BadInput(f"missing environment variables {', '.join(missing)} "
                           "(the administrator's connection, libpq's PG* variables)",
                           "set PGHOST, PGPORT, PGUSER, PGPASSWORD (in AWS the task "
                           "injects them from the store's master secret)")  # fmt: skip
        try:
            port = int(env.get("PGPORT") or 5432)
        except ValueError:
            raise BadInput(f"PGPORT={env['PGPORT']!r} is not a port number") from None
        return cls(host=env["PGHOST"], port=port, user=env["PGUSER"],
                   password=env.get("PGPASSWORD") or None,
                   sslmode=env.get("PGSSLMODE") or "prefer")  # fmt: skip

    def params(self, dbname: str, *, user: str | None = None,
               password: str | None = None) -> dict[str, Any]:  # fmt: skip
        """psycopg keyword arguments: as the administrator, or as ``user``/``password``."""
        out: dict[str, Any] = {"host": self.host, "port": self.port, "dbname": dbname,
                               "user": user or self.user, "sslmode": self.sslmode}  # fmt: skip
        pw = password if user else self.password
        if pw is not None:
            out["password"] = pw
        return out

    def connect(self, dbname: str, *, user: str | None = None,
                password: str | None = None) -> Any:  # fmt: skip
        """An autocommit connection (psycopg) to ``dbname``."""
        import psycopg

        return psycopg.connect(autocommit=True, **self.params(dbname, user=user, password=password))

    def url(self, dbname: str, user: str, password: str) -> str:
        """dbmate's URL for ``user`` (its driver takes the libpq sslmode values)."""
        return (f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:"
                f"{self.port}/{quote(dbname, safe='')}?sslmode={self.sslmode}")  # fmt: skip
