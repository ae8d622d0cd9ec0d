"""``polystore seed`` without engines: help, dry-run plan, option errors, prod refusal."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from polystore.cli.main import cli


def test_help_names_every_option() -> None:
    out = CliRunner().invoke(cli, ["seed", "--help"])
    assert out.exit_code == 0
    for option in ("--scale", "--seed", "--target", "--stack", "--outputs", "--allow-prod",
                   "--reset", "--dry-run", "--verify", "--now"):  # fmt: skip
        assert option in out.output


def test_dry_run_prints_the_plan_and_needs_no_stack(tmp_path: Path) -> None:
    args = ["seed", "--dry-run", "--state-dir", str(tmp_path / "none"), "order-processor"]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    for what in ("balance_transaction", "asset_transaction", "order.events"):
        assert what in out.output
    scaled = CliRunner().invoke(cli, [*args[:2], "--scale", "2", *args[2:]])
    assert scaled.output != out.output  # counts grow with the scale
    assert (
        "fed by link cards-to-search"
        in CliRunner().invoke(cli, ["seed", "--dry-run", "tcgstore"]).output
    )


def test_now_moves_times_off_the_fixed_epoch() -> None:
    from datetime import UTC, datetime

    from polystore import load_topology
    from seed.plan import build_plan

    system = load_topology().system("inventory")
    fixed = build_plan(system)
    now = datetime(2031, 6, 1, tzinfo=UTC)
    moved = build_plan(system, now=now)
    assert max(e["occurred_at"] for e in fixed.items["event-store"]) < "2026-01-01T00:00:01Z"
    assert max(e["occurred_at"] for e in moved.items["event-store"]) > "2030"


def test_a_missing_stack_and_bad_options_are_clear(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["seed", "--state-dir", str(tmp_path / "none"), "inventory"])
    assert out.exit_code == 1 and "run `polystore up` first" in out.output
    out = CliRunner().invoke(cli, ["seed", "--stack", "dev", "inventory"])
    assert out.exit_code == 2 and "--outputs" in out.output
    out = CliRunner().invoke(cli, ["seed", "--dry-run", "nosuchsystem"])
    assert out.exit_code == 2 and "nosuchsystem" in out.output
    outputs = tmp_path / "prod.json"
    outputs.write_text(json.dumps({"environment": "prod", "systems": {}}))
    out = CliRunner().invoke(cli, ["seed", "--stack", "prod", "--outputs", str(outputs)])
    assert out.exit_code == 2 and "--allow-prod" in out.output
    outputs.write_text("{not json")
    out = CliRunner().invoke(cli, ["seed", "--stack", "dev", "--outputs", str(outputs)])
    assert out.exit_code == 2 and "cannot read stack outputs" in out.output
