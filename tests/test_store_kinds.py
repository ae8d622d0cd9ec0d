"""Every store kind the model knows is served by every face, or the gap is documented.

DESIGN.md's per-kind table (infra component, an engine per runtime) stays whole: adding a
kind to the model without an engine fails here, and so does closing a gap without
removing it from KNOWN_LOCAL_GAPS and docs/emulation.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from emulation.engines import ENGINE_NAMES, get
from emulation.runtimes.containers import specs
from emulation.state import State, StateDir
from polystore.topology.model import STORE_KINDS

ROOT = Path(__file__).resolve().parents[1]
KNOWN_LOCAL_GAPS: set[str] = set()  # every kind has a local engine (docs/emulation.md)


def test_every_kind_has_a_local_engine_or_a_documented_gap() -> None:
    served = {kind for name in ENGINE_NAMES for kind in get(name).kinds}
    assert set(STORE_KINDS) - served == KNOWN_LOCAL_GAPS
    section = re.search(
        r"## Not emulated yet\n(.*?)\n## ", (ROOT / "docs/emulation.md").read_text(), re.S
    )
    assert section is not None
    for kind in KNOWN_LOCAL_GAPS:
        assert f"{kind.capitalize()}s" in section.group(1)


def test_the_docker_runtime_has_a_container_for_every_engine(tmp_path: Path) -> None:
    state = State()
    state.ports = dict.fromkeys(ENGINE_NAMES, 1)  # specs need ports; any will do
    assert set(specs(StateDir(tmp_path), state)) == set(ENGINE_NAMES)


def test_every_kind_is_deployed_by_infra() -> None:
    from infra.preview import run_preview
    from polystore import load_topology

    topology = load_topology()
    preview = run_preview("dev", topology=topology, config_overrides={"systems": ["tcgstore"]})
    types = {r["type"] for r in preview["resources"]}
    by_kind = {
        "postgres": "aws:rds/instance:Instance",  # tcgstore's inventory is rds-postgresql
        "dynamodb": "aws:dynamodb/table:Table",
        "search": "aws:opensearch/domain:Domain",
        "topic": "aws:msk/serverlessCluster:ServerlessCluster",
    }
    assert set(by_kind) == set(STORE_KINDS)
    assert {k for k, t in by_kind.items() if t not in types} == set()
