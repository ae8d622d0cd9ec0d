"""One set of store clients per service process, created on first use.

Measured choices (bench/bench_services.py): a psycopg pool (from libpq's ``PG*``;
a connection per request would cost a TLS + auth round trip in AWS), one boto3
client per process (thread-safe; its endpoint and region come from ``AWS_*``), and
one httpx client for OpenSearch. Endpoints run in FastAPI's thread pool, so the
pool is sized to it.
"""

from __future__ import annotations

import threading
from typing import Any

from services.config import ServiceConfig

POOL_MAX = 16


class Clients:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._pg: Any = None
        self._dynamo: Any = None
        self._search: Any = None

    def pg(self) -> Any:
        """The connection pool of the service's own database (libpq's ``PG*``)."""
        with self._lock:
            if self._pg is None:
                from psycopg.conninfo import make_conninfo
                from psycopg_pool import ConnectionPool

                env = self.config.env
                libpq = {"host": "PGHOST", "port": "PGPORT", "dbname": "PGDATABASE",
                         "user": "PGUSER", "password": "PGPASSWORD", "sslmode": "PGSSLMODE"}
                conninfo = make_conninfo(**{k: env[v] for k, v in libpq.items() if env.get(v)})
                self._pg = ConnectionPool(conninfo, min_size=1, max_size=POOL_MAX, open=True,
                                          connection_class=self._pg_connection_class(),
                                          kwargs={"autocommit": True}, timeout=10)  # fmt: skip
            return self._pg

    def _pg_connection_class(self) -> Any:
        """psycopg's connection; in AWS (no ``PGPASSWORD``, ``AWS_REGION`` set) one that
        authenticates each new connection with a fresh RDS IAM token for ``PGUSER`` (a
        token lives 15 minutes, the pool's connections longer)."""
        import psycopg

        env = self.config.env
        if env.get("PGPASSWORD") or not self._region():
            return psycopg.Connection
        from dbsetup.iam import token_maker

        token = token_maker(env["PGHOST"], int(env.get("PGPORT") or 5432), self._region(),
                            self._session().client("rds"))  # fmt: skip
        login = env["PGUSER"]

        class IamAuthConnection(psycopg.Connection[Any]):
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
                return super().connect(conninfo, **{**kwargs, "password": token(login)})

        return IamAuthConnection

    def _region(self) -> str:
        env = self.config.env
        return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""

    def _session(self) -> Any:
        """A boto3 session from the service's environment mapping (in a task it is
        os.environ; unset keys fall back to the default chain: the task role in AWS)."""
        import boto3

        env = self.config.env
        return boto3.Session(aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                             aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
                             aws_session_token=env.get("AWS_SESSION_TOKEN"),
                             region_name=self._region() or None)  # fmt: skip

    def dynamo(self) -> Any:
        with self._lock:
            if self._dynamo is None:
                from botocore.config import Config

                env = self.config.env
                self._dynamo = self._session().client(
                    "dynamodb", endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
                    config=Config(max_pool_connections=POOL_MAX,
                                  retries={"mode": "standard", "max_attempts": 3}))  # fmt: skip
            return self._dynamo

    def search(self) -> Any:
        with self._lock:
            if self._search is None:
                from services.search_client import SearchClient

                self._search = SearchClient(self.config.env["OPENSEARCH_URL"])
            return self._search

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._search is not None:
            self._search.close()
