"""The replication login's password in AWS: made by the setup task, kept in Secrets Manager.

infra creates the secret empty (so no password ever sits in Pulumi state); the first
setup run generates a password and stores it (``PutSecretValue``), later runs read it
back, so the login's password stays what the Kafka Connect worker is given (it reads
the secret at task start).
"""

from __future__ import annotations

import secrets
from typing import Any


def replication_password(client: Any, secret_id: str) -> tuple[str, bool]:
    """(password, whether it was generated now) of the secret ``secret_id``."""
    try:
        value = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except client.exceptions.ResourceNotFoundException:
        value = None  # no version yet: the secret was created empty
    if value:
        return str(value), False
    password = secrets.token_urlsafe(32)
    client.put_secret_value(SecretId=secret_id, SecretString=password)
    return password, True
