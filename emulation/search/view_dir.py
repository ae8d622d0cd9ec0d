"""Where the searchable view (the tantivy index files) of a data dir lives.

SQLite is the engine's durable record; tantivy is a view rebuilt from it (see
``IndexStore._catch_up``). A tantivy commit fsyncs ~17 files, 30-100 ms on a disk, and the
single-threaded engine answers nothing meanwhile, so the view lives on a memory-backed
filesystem (``/dev/shm``) when one is usable: a refresh then costs no disk sync. A kill -9
keeps the view (tmpfs outlives the process); a reboot or a removed view costs a rebuild
from SQLite on the next start.

Layout: ``<root>/<hash of the data dir>/<index uuid>/tantivy-<generation>``, with
``<root>`` = ``$POLYSTORE_SEARCH_VIEW_DIR`` (or ``--view-dir``), else
``/dev/shm/polystore-search-<uid>``; the value ``data`` keeps each view inside its index's
data dir (the layout before views moved, and the fallback when no tmpfs is usable).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

VIEW_DIR_ENV = "POLYSTORE_SEARCH_VIEW_DIR"
IN_DATA_DIR = "data"
_SHM = Path("/dev/shm")
# A tmpfs with less free space than this (or than twice the data dir) is not used: a view
# that fills its filesystem fails its commits.
_MIN_FREE = 256 * 1024 * 1024
_OWNER = "data_dir.txt"  # in each data dir's view root: the data dir it belongs to


class ViewDirError(RuntimeError):
    """An explicitly chosen view directory cannot be used."""


def _data_size(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.rglob("*.sqlite*") if p.is_file())


def _wanted(override: str | None) -> str | None:
    return override if override is not None else os.environ.get(VIEW_DIR_ENV) or None


def root_path(data_dir: Path, override: str | None = None) -> Path | None:
    """Where this data dir's views go if the root is usable (None: in the data dir)."""
    wanted = _wanted(override)
    if wanted == IN_DATA_DIR:
        return None
    base = Path(wanted) if wanted else _SHM / f"polystore-search-{os.getuid()}"
    return base / hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]


def choose_root(data_dir: Path, override: str | None = None) -> Path | None:
    """The directory holding this data dir's views, or None to keep them in the data dir."""
    wanted = _wanted(override)
    root = root_path(data_dir, override)
    if root is None:
        return None
    base = root.parent
    if not wanted:
        if not _SHM.is_dir() or not os.access(_SHM, os.W_OK):
            return None
        free = shutil.disk_usage(_SHM).free
        if free < max(_MIN_FREE, 2 * _data_size(data_dir)):
            return None
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        _collect_orphans(base)
        root.mkdir(exist_ok=True)
        (root / _OWNER).write_text(str(data_dir.resolve()))
    except OSError as err:
        if wanted:  # an explicit choice that does not work is an error, not a fallback
            raise ViewDirError(f"cannot keep search views in {base} ({VIEW_DIR_ENV} or "
                               f"--view-dir): {err}") from None  # fmt: skip
        return None
    return root


def _collect_orphans(base: Path) -> None:
    """Remove the views of data dirs that no longer exist (a test's temporary dir, a
    project deleted without ``polystore reset``): tmpfs holds memory until removed."""
    for root in base.iterdir():
        owner = root / _OWNER
        try:
            data_dir = Path(owner.read_text())
        except OSError:
            continue  # not ours, or being created
        if not data_dir.exists():
            shutil.rmtree(root, ignore_errors=True)


def remove_views(data_dir: Path, override: str | None = None) -> None:
    """Delete every view of ``data_dir`` (``polystore reset`` wipes the data dir too)."""
    root = root_path(data_dir, override)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def read_stamp(view_dir: Path, uuid: str, generation: int) -> int | None:
    """The last sequence number committed to the view of ``uuid``'s ``generation``."""
    try:
        stamp = json.loads((view_dir / "view.json").read_text())
        if stamp["uuid"] != uuid or stamp["generation"] != generation:
            return None
        return int(stamp["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamp(view_dir: Path, uuid: str, generation: int, seq: int) -> None:
    """Record how far the committed view goes, after its commit: a crash in between
    leaves an older stamp, and the replay from it is idempotent. No fsync: a view whose
    stamp is lost is rebuilt."""
    tmp = view_dir / "view.json.tmp"
    tmp.write_text(json.dumps({"uuid": uuid, "generation": generation, "seq": seq}))
    tmp.replace(view_dir / "view.json")
