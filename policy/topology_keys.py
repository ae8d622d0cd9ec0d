"""Where in ``stacks/<system>.yaml`` a finding is fixed: the one rule → topology-key map.

The program derives a store's resources from its declaration, so a finding about a
declared store is usually fixed in the topology, not in Pulumi code: ``pitr: false`` in
``stacks/order-processor.yaml`` is why ``pointInTimeRecovery.enabled`` is false. A finding
therefore names, besides the rule's Pulumi property hint, the topology key and its
``path:line`` — the key's own line where it is declared, the store's line where the key
is left to its default — and the value that satisfies the rule.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from policy.attribution import store_of
from policy.model import Resource, StackContext


@dataclass(frozen=True)
class TopologyKey:
    """A key of a store's declaration and what to write there to satisfy a rule."""

    key: str
    fix: str


# (rule id, store kind) → the store key that rule's finding is about. Rules not listed
# are about what the program builds around the declaration (encryption, networks, IAM,
# logs), which the topology does not express: their hint stays the Pulumi property.
RULE_KEYS: dict[tuple[str, str], TopologyKey] = {
    ("PS-DDB-01", "dynamodb"): TopologyKey("pitr", "pitr: true"),
    ("PS-TOPO-04", "dynamodb"): TopologyKey("pitr", "pitr: true"),
    ("PS-DDB-03", "dynamodb"): TopologyKey("deletion_protection", "deletion_protection: true"),
    ("PS-DDB-04", "dynamodb"): TopologyKey(
        "capacity", "capacity: {read_min, read_max, write_min, write_max} or billing: on-demand"
    ),
    ("PS-DDB-05", "dynamodb"): TopologyKey("stream", "stream: new-and-old-images"),
    ("PS-DDB-06", "dynamodb"): TopologyKey("ttl", "ttl: <the expiry attribute>"),
    ("PS-TOPO-05", "dynamodb"): TopologyKey("global_indexes", "global_indexes: the index named"),
    ("PS-RDS-04", "postgres"): TopologyKey(
        "read_replicas", "read_replicas: 1 (a reader in another AZ)"
    ),
}


@dataclass(frozen=True)
class TopologyPlace:
    """``path:line: fix`` of a finding in the topology."""

    path: Path
    line: int
    fix: str
    declared: bool  # the key is written in the file (else: its default applies)

    def __str__(self) -> str:
        where = f"{display_path(self.path)}:{self.line}: {self.fix}"
        return where if self.declared else f"{where} (not declared: the default applies)"


def topology_place(rule_id: str, r: Resource | None, ctx: StackContext) -> TopologyPlace | None:
    """Where the finding of ``rule_id`` about resource ``r`` is fixed in the topology."""
    if r is None:
        return None
    found = store_of(r, ctx)
    if found is None:
        return None
    system, store = found
    spec = RULE_KEYS.get((rule_id, system.stores[store].kind))
    if spec is None or system.source == Path("<memory>"):
        return None
    declared = system.declares("stores", store, spec.key)
    line = system.line_of("stores", store, *([spec.key] if declared else []))
    return TopologyPlace(system.source, line, spec.fix, declared)


def display_path(path: Path) -> str:
    """``stacks/x.yaml`` relative to the working directory when below it (clickable in a
    terminal), else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel
