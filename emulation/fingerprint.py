"""A fingerprint of what a system's provisioning depends on.

When a system's declaration and migrations are unchanged since it was provisioned and
no engine had to be (re)started, ``up`` skips provisioning, so a second ``up`` costs
only the health checks.
"""

from __future__ import annotations

import hashlib

from polystore.topology.model import System

# Bump when provisioning itself changes, so existing stacks are provisioned again.
PROVISION_VERSION = "1"


def of_system(system: System, runtime: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PROVISION_VERSION}\0{runtime}\0".encode())
    digest.update(system.model_dump_json().encode())
    for store in sorted(system.postgres_stores()):
        directory = system.migrations_dir(store)
        for path in sorted(directory.glob("*.sql")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
