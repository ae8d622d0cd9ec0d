"""A content-addressed cache of parsed migrations.

Parsing SQL with pglast costs most of a topology load (every CLI command loads it).
The cache key is the hash of every migration file's name and bytes, the pglast version
and this package's schema-reader source, so a cached entry can never describe other
SQL or an older parser; any read or write problem just falls back to parsing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import pickle
import tempfile
from pathlib import Path

from polystore.topology.errors import Problem
from polystore.topology.schema_model import DatabaseSchema, migration_files

_HERE = Path(__file__).parent


@functools.cache  # the same for every directory of one load; it cannot change in-process
def _reader_identity() -> bytes:
    """The parser's source and the installed pglast build, without importing pglast
    (a cache hit must not pay for it)."""
    ident = (_HERE / "sql_schema.py").read_bytes() + (_HERE / "schema_model.py").read_bytes()
    spec = importlib.util.find_spec("pglast")
    if spec and spec.origin:
        for ext in sorted(Path(spec.origin).parent.glob("parser*")):
            st = ext.stat()
            ident += f"{ext.name}:{st.st_size}:{st.st_mtime_ns}".encode()
    return ident


def parse_migrations(directory: Path) -> tuple[DatabaseSchema, list[Problem]]:
    from polystore.topology.sql_schema import parse_migrations as parse

    return parse(directory)


def cache_dir() -> Path:
    """``$POLYSTORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/polystore``, else ``~/.cache/polystore``."""
    env = os.environ.get("POLYSTORE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polystore" / "schemas"


def _key(directory: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    h.update(_reader_identity())
    h.update(str(directory.resolve()).encode())  # locations in the result name the files
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def parse_migrations_cached(directory: Path) -> tuple[DatabaseSchema, list[Problem]]:
    if os.environ.get("POLYSTORE_NO_CACHE"):
        return parse_migrations(directory)
    try:
        key = _key(directory, migration_files(directory))
        entry = cache_dir() / f"{key}.pickle"
        if entry.is_file():
            with entry.open("rb") as fh:
                cached: tuple[DatabaseSchema, list[Problem]] = pickle.load(fh)
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return parse_migrations(directory)
    result = parse_migrations(directory)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a concurrent reader never sees half an entry
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only home is fine: we just parse every time
    return result
