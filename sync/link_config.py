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
    )
