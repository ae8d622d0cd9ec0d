"""Where the project is, found the way git finds ``.git``.

Every command run from a subdirectory (``stacks/``, ``stacks/migrations/tcgstore``,
``docs/``) must see the same topology and the same local stack as one run from the top:
otherwise ``status`` finds no stack there and ``up`` starts a second one on new ports.
The project root is the nearest directory, at or above the working directory, that holds
a ``stacks/`` directory. Both defaults derive from it — the topology
(``<root>/stacks``, unless ``$POLYSTORE_STACKS``) and the state dir
(``<root>/.polystore``, unless ``--state-dir`` / ``$POLYSTORE_STATE_DIR``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MARKER", "project_root"]

# The directory whose presence makes a directory the project root.
MARKER = "stacks"


def project_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: cwd) holding ``stacks/``."""
    here = (start or Path.cwd()).absolute()
    for directory in (here, *here.parents):
        if (directory / MARKER).is_dir():
            return directory
    return None
