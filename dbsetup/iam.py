"""RDS IAM authentication: a login's password is a signed token made on the client.

A token is a SigV4 presigned URL made locally from the caller's AWS credentials (the
task role in ECS: ``rds-db:connect`` on ``dbuser:<resource id>/<login>``); it is valid
for 15 minutes, for opening a connection only, so one is made per new connection.
Used by ``python -m dbsetup`` (migrating as a service's login) and by the services'
connection pool (``services.clients``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def token_maker(host: str, port: int, region: str, client: Any = None) -> Callable[[str], str]:
    """login -> a fresh IAM auth token for ``host:port``."""
    if client is None:
        import boto3

        client = boto3.client("rds", region_name=region)

    def token(login: str) -> str:
        value: str = client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=login, Region=region
        )
        return value

    return token
