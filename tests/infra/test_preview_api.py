"""The preview API and its JSON contract; mutated topologies and configs change the plan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from infra.config import ConfigError
from infra.preview import UNKNOWN, run_preview
from polystore.naming import service_role_name, store_physical_name
from tests.infra.conftest import of_type, topology

CONTRACT_KEYS = {"urn", "type", "name", "parent", "custom", "inputs", "options"}


def _one(system: str, stack: str = "dev", **kw: Any) -> dict[str, Any]:
    overrides = {"polystore:systems": [system], **kw.pop("config_overrides", {})}
    return run_preview(stack, config_overrides=overrides, topology=kw.pop("topology",
                                                                          topology()))


def test_json_contract() -> None:
    r = _one("inventory")
    assert set(r) == {"stack", "project", "resources", "outputs"}
    assert r["project"] == "polystore" and r["stack"] == "dev"
    urns = {x["urn"] for x in r["resources"]}
    for x in r["resources"]:
        assert set(x) == CONTRACT_KEYS
        assert x["parent"] is None or x["parent"] in urns, x["name"]
    assert any(x["parent"] is None for x in r["resources"])
    json.dumps(r)  # serializable


def test_unknowns_are_marked() -> None:
    r = _one("inventory")
    outputs = r["outputs"]["systems"]["inventory"]
    assert UNKNOWN in json.dumps(r["resources"]) or UNKNOWN in json.dumps(outputs)


def test_outputs_give_each_service_what_its_runtime_needs(stack: str) -> None:
    from tests.infra.conftest import shipped_preview

    outputs = shipped_preview(stack)["outputs"]["systems"]
    for system in topology().systems.values():
        for svc in system.services:
            out = outputs[system.name]["services"][svc]
            own = system.stores_of(svc)
            assert set(out["tables"]) == set(system.dynamodb_stores()) & set(own)
            assert set(out["indexes"]) == set(system.search_stores()) & set(own)
            assert set(out["topics"]) == set(system.topic_stores()) & set(own)
            assert out["environment"]["AWS_REGION"]
            if any(s.kind == "postgres" for s in own.values()):
                assert {"PGHOST", "PGPORT", "PGDATABASE", "PGSSLMODE"} <= set(out["environment"])
                # its own login, IAM-authenticated (services.clients makes the tokens)
                assert out["environment"]["PGUSER"] == service_role_name(system, svc)
                assert out["secrets"] == {}
                assert out["database"]["secret_arn"].startswith("arn:aws:secretsmanager:")


def test_removing_a_store_from_the_topology_removes_its_table() -> None:
    base = topology().systems["tcgstore"]
    stores = {k: v for k, v in base.stores.items() if k != "sales"}
    access = {k: v for k, v in base.access_patterns.items() if v.store != "sales"}
    mutated = base.model_copy(update={"stores": stores, "access_patterns": access})
    topo = topology().model_copy(update={"systems": {**topology().systems,
                                                     "tcgstore": mutated}})
    names = {t["inputs"]["name"] for t in of_type(_one("tcgstore", topology=topo),
                                                 "aws:dynamodb/table:Table")}
    assert store_physical_name(base, "dev", "sales") not in names
    assert store_physical_name(base, "dev", "orders") in names


def test_moving_a_store_moves_its_grant() -> None:
    base = topology().systems["tcgstore"]
    moved = base.stores["sales"].model_copy(update={"owner": "payment"})
    mutated = base.model_copy(update={"stores": {**base.stores, "sales": moved}})
    topo = topology().model_copy(update={"systems": {**topology().systems,
                                                     "tcgstore": mutated}})
    r = _one("tcgstore", topology=topo)
    grants = {rp["inputs"]["role"]: rp["inputs"]["policy"]
              for rp in of_type(r, "aws:iam/rolePolicy:RolePolicy")}
    sales = f":table/{store_physical_name(base, 'dev', 'sales')}"
    assert sales in grants["tcgstore-dev-payment-task"]
    assert sales not in grants["tcgstore-dev-order-task"]


def test_config_overrides_pick_profile_and_systems() -> None:
    r = _one("bellyfed", config_overrides={"polystore:profile": "prod",
                                           "polystore:backupCopyRegion": "eu-central-1"})
    systems = set(r["outputs"]["systems"])
    assert systems == {"bellyfed"}
    cluster = of_type(r, "aws:rds/cluster:Cluster")[0]["inputs"]
    assert cluster["deletionProtection"] is True and cluster["backupRetentionPeriod"] == 30
    assert of_type(r, "aws:backup/plan:Plan")[0]["inputs"]["rules"][0]["copyActions"]


@pytest.mark.parametrize("overrides, message", [
    ({"aws:region": "mars"}, "aws:region"),
    ({"polystore:profile": "huge"}, "profile"),
    ({"polystore:profile": "prod", "polystore:backupCopyRegion": None}, "backupCopyRegion"),
    ({"polystore:images": ["x"]}, "images"),
])
def test_bad_config_names_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError if message != "profile" else ValueError, match=message):
        run_preview("dev", config_overrides=overrides, topology=topology())


def test_image_override_reaches_the_task_definition() -> None:
    image = "registry.example/tcg/catalog:1.2.3"
    r = _one("tcgstore", config_overrides={"polystore:images": {"tcgstore/catalog": image}})
    families = {t["inputs"]["family"]: json.loads(t["inputs"]["containerDefinitions"])[0]
                for t in of_type(r, "aws:ecs/taskDefinition:TaskDefinition")}
    assert families["tcgstore-dev-catalog"]["image"] == image
    assert families["tcgstore-dev-order"]["image"].endswith("/tcgstore/order:latest")


def test_cli_prints_json() -> None:
    from polystore.cli.preview_cmds import preview

    out = CliRunner().invoke(preview, ["--stack", "dev", "--system", "inventory",
                                       "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["stack"] == "dev" and data["resources"]
    bad = CliRunner().invoke(preview, ["--stack", "nope"])
    assert bad.exit_code == 2 and "Pulumi.nope.yaml" in bad.output


def test_two_previews_of_the_same_stack_are_byte_identical() -> None:
    import json

    from infra.preview import run_preview

    runs = [
        json.dumps(run_preview("prod", config_overrides={"systems": ["tcgstore", "bellyfed"]}))
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]
