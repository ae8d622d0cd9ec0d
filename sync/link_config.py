"""Build a link's run-time configuration (``LinkConfig``) from the topology model.

The topology is the only source: infra calls this when it packages the Lambda zip, the
local poller when it starts. Nothing here is restated by hand.
"""

from __future__ import annotations

import re

from polystore.naming import store_env_var
from polystore.topology.model import DynamoStore, SearchStore, StreamToSearchLink, System
from sync.stream_to_search.config import Derived, LinkConfig

_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def template_regex(template: str) -> str:
    """``TRANS#{user}#{asset}`` → a full-match regex for key values built from it."""
    parts = _PLACEHOLDER.split(template)
    return ".+?".join(re.escape(p) for p in parts)


def stream_link(system: System, link_name: str) -> StreamToSearchLink:
    link = system.links.get(link_name)
    if not isinstance(link, StreamToSearchLink):
        known = ", ".join(sorted(system.stream_links())) or "none"
        raise KeyError(f"{system.name} has no stream-to-search link {link_name!r} (links: {known})")
    return link


def link_config(system: System, link_name: str) -> LinkConfig:
    link = stream_link(system, link_name)
    src = system.stores[link.source]
    dst = system.stores[link.target]
    assert isinstance(src, DynamoStore) and isinstance(dst, SearchStore)
    t = link.transform
    patterns = tuple(
        {attr: template_regex(tpl) for attr, tpl in src.items[name].key.items()} for name in t.items
    )
    index_env = store_env_var(link.target, dst)
    assert index_env is not None
    return LinkConfig(
        system=system.name,
        link=link_name,
        index_env=index_env,
        hash_key=src.key.hash,
        range_key=src.key.range,
        id_template=t.id,
        item_patterns=patterns,
        key_prefixes=dict(t.key_prefixes),
        rename=dict(t.rename),
        drop=tuple(t.drop),
        derive={k: Derived(tuple(d.source), d.op, d.separator) for k, d in t.derive.items()},
        keep_fields=tuple(link.fields),
        mapped_fields=tuple(sorted(dst.mappings.properties)),
        strict=dst.mappings.dynamic in ("strict", "false", False),
        table_env=store_env_var(link.source, src) or "",
        tombstone_seconds=gc_deletes_seconds(dst.settings),
    )


_TIME = re.compile(r"^(\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d)$")
_UNIT = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DEFAULT_GC_DELETES = 60.0  # OpenSearch's default index.gc_deletes


def gc_deletes_seconds(settings: dict) -> float:
    """The index's ``gc_deletes`` (flat ``index.gc_deletes`` or nested) in seconds."""
    index = settings.get("index", {}) if isinstance(settings.get("index"), dict) else {}
    raw = settings.get("index.gc_deletes", settings.get("gc_deletes", index.get("gc_deletes")))
    if raw is None:
        return DEFAULT_GC_DELETES
    m = _TIME.match(str(raw).strip())
    if not m:
        raise ValueError(f"index.gc_deletes: {raw!r} is not a time value like 60s")
    return float(m.group(1)) * _UNIT[m.group(2)]
