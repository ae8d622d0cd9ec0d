"""What runs inside a PostgreSQL server for the topology, locally and in AWS alike.

One library for the local stack's provisioning (``emulation.engines.postgres``,
``emulation.cdc_link``) and the one-off setup task of a deployed store
(``python -m dbsetup``, run by ECS): the owning service's login and its database
(``store``), extensions and migrations through dbmate as that login (``migrate``, with
the ledger that refuses edited migrations, ``migration_ledger``, and failures as
``path:line``, ``migration_errors``), and a CDC link's replication login, publication
and slot (``replication``). It works on plain connection parameters (``Server``) and a
callable giving a login's password: the local state's, or an RDS IAM token (``iam``).

What differs on RDS is read from the server at run time (``Capabilities``), never
configured, so the same code runs on both.
"""

from __future__ import annotations

from dbsetup.connection import PasswordFor, Server
from dbsetup.errors import BadInput, MigrationRefused, MissingTool, SetupError
from dbsetup.replication import ReplicationSetup, drop_slot, setup_replication
from dbsetup.store import Capabilities, StoreSetup, capabilities, setup_stores

__all__ = [
    "BadInput",
    "Capabilities",
    "MigrationRefused",
    "MissingTool",
    "PasswordFor",
    "ReplicationSetup",
    "Server",
    "SetupError",
    "StoreSetup",
    "capabilities",
    "drop_slot",
    "setup_replication",
    "setup_stores",
]
