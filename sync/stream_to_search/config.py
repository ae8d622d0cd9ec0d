"""The link's run-time configuration: what the handler knows about its link, as JSON.

The topology is the source (``sync.link_config.link_config`` builds this from the model);
the handler cannot import the topology loader in the Lambda, so infra writes this JSON
into the zip (``link.json`` next to this module) and the local poller writes it into its
state dir and names it in ``$POLYSTORE_LINK_CONFIG``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "POLYSTORE_LINK_CONFIG"
BUNDLED = Path(__file__).with_name("link.json")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Derived:
    """A computed document field: ``op`` over the attributes ``source``."""

    source: tuple[str, ...]
    op: str = "copy"
    separator: str = " "


@dataclass(frozen=True)
class LinkConfig:
    system: str
    link: str
    index_env: str  # the variable holding the index (alias) name: OPENSEARCH_INDEX_*
    hash_key: str
    range_key: str | None = None
    id_template: str | None = None
    # Each pattern maps every key attribute to a full-match regex (from an item template).
    item_patterns: tuple[dict[str, str], ...] = ()
    key_prefixes: dict[str, str] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    derive: dict[str, Derived] = field(default_factory=dict)
    keep_fields: tuple[str, ...] = ()  # empty: every produced field
    mapped_fields: tuple[str, ...] = ()  # with a strict mapping, fields outside are dropped
    strict: bool = True
    # The variable holding the source table's name (DYNAMODB_TABLE_*): the handler reads
    # the table when a late record may undo a delete (see handler.verify_created).
    table_env: str = ""
    # How long the index keeps delete tombstones (the store's ``index.gc_deletes``,
    # OpenSearch's default 60 s); records older than half of it are checked.
    tombstone_seconds: float = 60.0

    def to_json(self) -> str:
        body = asdict(self)
        body["version"] = FORMAT_VERSION
        return json.dumps(body, sort_keys=True, indent=1)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LinkConfig:
        body = dict(body)
        if body.pop("version", None) != FORMAT_VERSION:
            raise ValueError(f"link config is not format version {FORMAT_VERSION}")
        body["derive"] = {
            k: Derived(tuple(v["source"]), v["op"], v["separator"])
            for k, v in body["derive"].items()
        }
        body["item_patterns"] = tuple(body["item_patterns"])
        for name in ("drop", "keep_fields", "mapped_fields"):
            body[name] = tuple(body[name])
        return cls(**body)


def load(path: Path | None = None) -> LinkConfig:
    """The configuration at ``path``, ``$POLYSTORE_LINK_CONFIG``, or the bundled one."""
    where = path or Path(os.environ.get(CONFIG_ENV) or BUNDLED)
    try:
        return LinkConfig.from_dict(json.loads(where.read_text()))
    except FileNotFoundError:
        raise RuntimeError(
            f"no link configuration at {where}: set ${CONFIG_ENV} or bundle link.json "
            "(infra.lambda_package does)"
        ) from None
