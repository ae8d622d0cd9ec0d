"""Where PostgreSQL's unprivileged user can work when polystore runs as root.

PostgreSQL refuses to run as root, so as root the server runs as a system user of its
own. That user must reach the binaries and own the data dir; a checkout under a 0700
directory (``mktemp -d``, ``/root``) is out of its reach. polystore does not loosen the
user's directories: when the state dir is not reachable, the cluster lives in a
polystore-owned directory, ``/var/lib/polystore/<id>/data`` (``<id>`` hashes the state
dir's data path), and the state dir holds a symlink to it, so ``reset`` removes both.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import stat
import time
from pathlib import Path

from emulation.engines.postgres.binaries import make_dirs

SYSTEM_DATA = Path("/var/lib/polystore")


def can_traverse(path: Path, user: str) -> bool:
    """Whether ``user`` can search every directory from / down to ``path`` (mode bits)."""
    entry = pwd.getpwnam(user)
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {entry.pw_gid}
    probe = path
    while not probe.exists():  # a dir yet to be created: its existing ancestors decide
        probe = probe.parent
    for directory in [probe, *probe.parents]:
        st = directory.stat()
        if st.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def own(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def place_data(data: Path, user: str) -> Path:
    """The real directory the cluster ``data`` lives in, created and owned by ``user``.

    ``data`` itself when ``user`` can reach it; else a directory under
    ``/var/lib/polystore`` with ``data`` a symlink to it. A leftover real directory
    (its state dir was deleted by hand) is cleared: this runs only before ``initdb``.
    """
    if data.is_symlink():
        data.unlink()
    if can_traverse(data.parent, user):
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        own(data, user)
        return data
    home = SYSTEM_DATA / hashlib.sha256(str(data.absolute()).encode()).hexdigest()[:16]
    real = home / "data"
    if real.exists():
        shutil.rmtree(real)
    make_dirs(home)  # 0755 whatever the umask
    (home / "STATE_DATA").write_text(f"{data.absolute()}\n")  # whose data this is
    real.mkdir(mode=0o700)
    own(real, user)
    data.parent.mkdir(parents=True, exist_ok=True)
    data.symlink_to(real, target_is_directory=True)
    return real


def remove_data(data: Path) -> None:
    """Delete the cluster behind ``data`` (a symlink to a relocated dir, or the dir)."""
    if data.is_symlink():
        real = data.resolve()
        data.unlink()
        if real.is_relative_to(SYSTEM_DATA):
            _remove_tree(real.parent)
    elif data.exists():
        _remove_tree(data)


def _remove_tree(path: Path, timeout: float = 5.0) -> None:
    """rmtree, again while files keep appearing: a server killed after a timed-out fast
    shutdown leaves children that may still write a WAL segment for a moment."""
    deadline = time.monotonic() + timeout
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists() or time.monotonic() >= deadline:
            return
        time.sleep(0.1)
