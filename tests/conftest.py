"""Suite-wide settings: parsed-migration cache in a temp dir, not the user's ~/.cache."""

from __future__ import annotations

import os
import tempfile

# Set at import so subprocesses the tests start inherit it too.
os.environ.setdefault("POLYSTORE_CACHE_DIR", tempfile.mkdtemp(prefix="polystore-cache-"))
