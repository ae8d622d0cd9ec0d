"""Lambda zips built from the repository, byte-for-byte reproducible.

Same inputs → same zip → same hash, so a deploy that changed nothing uploads nothing and
a reviewer can rebuild what runs: entries in sorted order, every timestamp 1980-01-01
(the zip epoch), permissions 0644, no directory entries, no ``__pycache__``. A link
Lambda's zip is its handler package plus a ``link.json`` generated from the topology (the
topology stays the source; the Lambda cannot load it). The CDC sink can reuse
:func:`deterministic_zip` / :func:`package_files` / :func:`write_zip` as they are.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--

STREAM_TO_SEARCH_PACKAGE = "sync/stream_to_search"
STREAM_TO_SEARCH_HANDLER = "sync.stream_to_search.handler.handler"
STREAM_TO_SEARCH_CONFIG = "sync/stream_to_search/link.json"


def deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``{archive path: content}`` that depends on nothing but its input."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # unix, so the mode above is honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


def package_files(package_dir: str, root: Path = REPO) -> dict[str, bytes]:
    """Every ``.py`` of a package directory and of its parents' ``__init__.py`` files."""
    out: dict[str, bytes] = {}
    pkg = root / package_dir
    for path in sorted(pkg.rglob("*.py")):
        if "__pycache__" not in path.parts:
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    parent = pkg.parent
    while parent != root:
        init = parent / "__init__.py"
        if init.exists():
            out[init.relative_to(root).as_posix()] = init.read_bytes()
        parent = parent.parent
    return out


def build_dir() -> Path:
    """``$POLYSTORE_CACHE_DIR/lambda``, else ``$XDG_CACHE_HOME/polystore/lambda``."""
    env = os.environ.get("POLYSTORE_CACHE_DIR")
    base = Path(env) if env else Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "polystore"  # fmt: skip
    return base / "lambda"


def write_zip(data: bytes, name: str) -> Path:
    """Write ``data`` once under a content-addressed name; return its path."""
    digest = hashlib.sha256(data).hexdigest()[:20]
    path = build_dir() / f"{name}-{digest}.zip"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def stream_to_search_files(link_config_json: str) -> dict[str, bytes]:
    files = package_files(STREAM_TO_SEARCH_PACKAGE)
    files[STREAM_TO_SEARCH_CONFIG] = link_config_json.encode()
    return files


def stream_to_search_zip(link_config_json: str) -> Path:
    """The stream-to-search Lambda's zip for one link (its config made by sync.link_config)."""
    return write_zip(deterministic_zip(stream_to_search_files(link_config_json)),
                     "stream-to-search")  # fmt: skip
