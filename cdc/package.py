"""What the CDC sink Lambda's zip holds: the modules the handler imports, nothing else.

The Lambda runtime has boto3; the handler needs neither pydantic nor the topology (its
transform arrives as ``CDC_SINK_SPEC``). A test imports these modules with pydantic and
polystore made unimportable, so this list cannot silently fall behind the imports.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLER = "cdc.handler.handler"
MODULES = ("cdc/__init__.py", "cdc/handler.py", "cdc/msk.py", "cdc/sink.py", "cdc/transform.py")


def lambda_files(root: Path = ROOT) -> dict[str, Path]:
    """Archive path → file, for the sink Lambda's package."""
    return {rel: root / rel for rel in MODULES}
