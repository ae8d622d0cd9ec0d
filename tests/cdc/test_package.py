"""The sink Lambda's package is self-contained: its modules import without the topology."""

from __future__ import annotations

import subprocess
import sys

from cdc.package import MODULES, ROOT, lambda_files


def test_lambda_modules_import_without_pydantic_or_polystore(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for rel, path in lambda_files().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(path.read_bytes())
    probe = (
        "import sys\n"
        "for blocked in ('pydantic', 'polystore', 'yaml', 'emulation', 'events'):\n"
        "    sys.modules[blocked] = None\n"
        "import cdc.handler\n"
        "assert callable(cdc.handler.handler)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_every_listed_module_exists() -> None:
    assert all((ROOT / m).is_file() for m in MODULES)
