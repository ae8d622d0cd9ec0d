"""Unknown values, per-stack config, output formats, the CLI and the CrossGuard pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from policy import config as policy_config
from policy.engine import PreviewError, evaluate, split_stack
from policy.formats import as_json, sarif, text
from policy.model import UNKNOWN
from polystore.cli.policy_cmds import policy
from tests.policy.mutations import first, inputs


def test_unknown_value_is_reported_not_passed(topology, preview) -> None:
    p = preview("tcgstore")
    inputs(p, "aws:rds/instance:Instance")["storageEncrypted"] = UNKNOWN
    report = evaluate(p, topology)
    unknown = [f for f in report.findings if f.status == "unknown"]
    assert [f.rule_id for f in unknown] == ["PS-RDS-01"]
    assert "storageEncrypted" in unknown[0].message and not report.blocked


def test_unknown_in_stack_rule_says_so(topology, preview) -> None:
    p = preview("tcgstore")
    inputs(p, "aws:backup/selection:Selection")["resources"] = UNKNOWN
    ids = {f.rule_id for f in evaluate(p, topology).findings if f.status == "unknown"}
    assert {"PS-RDS-15", "PS-DDB-07"} <= ids


def test_config_levels_and_thresholds(topology, preview, tmp_path: Path) -> None:
    p = preview("tcgstore")
    inputs(p, "aws:rds/instance:Instance")["backupRetentionPeriod"] = 20
    assert evaluate(p, topology).findings == []
    cfg = tmp_path / "c.yaml"
    cfg.write_text("PS-RDS-03:\n  enforcementLevel: advisory\n  minimumDays:\n    prod: 30\n")
    report = evaluate(p, topology, cfg)
    assert [(f.rule_id, f.level) for f in report.failed()] == [("PS-RDS-03", "advisory")]
    assert not report.blocked
    cfg.write_text("PS-RDS-03: disabled\n")
    inputs(p, "aws:rds/instance:Instance")["backupRetentionPeriod"] = 1
    assert evaluate(p, topology, cfg).findings == []


@pytest.mark.parametrize("text_, where", [("PS-NOPE: advisory\n", "unknown rule"),
                                          ("PS-RDS-03: {bogus: 1}\n", "unknown setting"),
                                          ("PS-RDS-03: sometimes\n", "enforcementLevel")])
def test_bad_config_names_the_problem(tmp_path: Path, text_: str, where: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text_)
    with pytest.raises(policy_config.ConfigError, match=where):
        policy_config.load(cfg, __import__("policy.rules", fromlist=["all_rules"]).all_rules())


def test_shipped_config_files_load() -> None:
    from policy.rules import all_rules
    for path in sorted(policy_config.CONFIG_DIR.glob("*.yaml")):
        assert isinstance(policy_config.load(path, all_rules()), dict)


def test_stack_names(topology) -> None:
    assert split_stack("prod", topology) == (None, "prod")
    assert split_stack("order-processor-dev", topology) == ("order-processor", "dev")
    with pytest.raises(PreviewError, match="expected ENV or SYSTEM-ENV"):
        split_stack("qa", topology)


def _broken(preview):  # type: ignore[no-untyped-def]
    p = preview("tcgstore")
    first(p, "aws:dynamodb/table:Table")["inputs"]["pointInTimeRecovery"] = {"enabled": False}
    return p


def test_formats(topology, preview) -> None:
    report = evaluate(_broken(preview), topology)
    out = text([report])
    assert "PS-DDB-01 dynamodb-pitr" in out and "FAIL tcgstore-cards" in out
    data = json.loads(as_json([report]))
    assert data[0]["passed"] is False and data[0]["findings"][0]["rule_id"] == "PS-DDB-01"
    s = json.loads(sarif([report]))
    assert s["version"] == "2.1.0" and s["$schema"].endswith("sarif-2.1.0.json")
    run = s["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
    assert {r["ruleId"] for r in run["results"]} == {"PS-DDB-01"}


def test_cli_from_file(topology, preview, tmp_path: Path) -> None:
    ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
    ok.write_text(json.dumps(preview("tcgstore")))
    bad.write_text(json.dumps(_broken(preview)))
    runner = CliRunner()
    res = runner.invoke(policy, ["--from", str(ok)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(policy, ["--from", str(bad), "--level", "mandatory"])
    assert res.exit_code == 1 and "PS-DDB-01" in res.output and "tcgstore-cards" in res.output
    res = runner.invoke(policy, ["--from", str(bad), "--format", "sarif"])
    assert json.loads(res.output)["version"] == "2.1.0"
    (tmp_path / "junk.json").write_text("{not json")
    res = runner.invoke(policy, ["--from", str(tmp_path / "junk.json")])
    assert res.exit_code == 2 and "cannot read preview" in res.output
    (tmp_path / "shape.json").write_text(json.dumps({"stack": "prod"}))
    res = runner.invoke(policy, ["--from", str(tmp_path / "shape.json")])
    assert res.exit_code == 2 and "resources" in res.output


def test_crossguard_pack_loads_and_runs(topology, preview) -> None:
    import runpy

    from pulumi_policy import (
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
        StackValidationPolicy,
    )

    from policy.crossguard import policies

    ns = runpy.run_path(str(Path("policy/__main__.py")), run_name="not_main")
    assert callable(ns["policies"])  # importing __main__ does not start the server
    pack = {p.name: p for p in policies()}
    assert len(pack) == 62
    assert isinstance(pack["PS-DDB-01"], ResourceValidationPolicy)
    assert isinstance(pack["PS-TOPO-01"], StackValidationPolicy)

    table = first(_broken(preview), "aws:dynamodb/table:Table")
    seen: list[str] = []
    args = ResourceValidationArgs(table["type"], table["inputs"], table["urn"], table["name"],
                                  PolicyResourceOptions(False, [], False, [], None, None, None),
                                  None, {}, {})
    pack["PS-DDB-01"].validate(args, lambda msg, urn: seen.append(msg))
    assert seen == ["pointInTimeRecovery.enabled is not true"]

    p = preview("tcgstore")
    p["resources"].remove(first(p, "aws:dynamodb/table:Table"))
    opts = PolicyResourceOptions(False, [], False, [], None, None, None)
    res = [PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], opts, None, None, [], {})
           for r in p["resources"]]
    seen.clear()
    pack["PS-TOPO-03"].validate(StackValidationArgs(res, {}), lambda m, u: seen.append(m))
    assert any("has no resource" in m for m in seen)
