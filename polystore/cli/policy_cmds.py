"""``polystore policy``: the policy pack's rules over a preview, offline.

Exit 0 when no mandatory rule fails, 1 when one does, 2 on bad input (unreadable preview,
unknown stack, bad config).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from polystore.cli.common import EXIT_BAD_INPUT, EXIT_PROBLEMS, load_or_exit
from polystore.topology.model import ENVIRONMENTS


def _previews(stack: str | None, all_stacks: bool, source: str | None) -> list[dict[str, Any]]:
    if source:
        try:
            data = json.loads(Path(source).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"cannot read preview {source}: {exc}; write one with "
                                     "`polystore preview --stack S --format json > FILE`",
                                     param_hint="--from") from exc
        return data if isinstance(data, list) else [data]
    try:
        from infra.preview import run_preview  # the infra area's offline (mocked) program run
    except ImportError as exc:
        raise click.UsageError("the offline preview (infra.preview) is not available here; "
                               "pass --from FILE with a saved preview") from exc
    stacks = list(ENVIRONMENTS) if all_stacks else [stack or "dev"]
    return [run_preview(s) for s in stacks]


@click.command("policy")
@click.option("--stack", help="Stack to preview and check (e.g. prod or tcgstore-prod).")
@click.option("--all-stacks", is_flag=True, help="Check every shipped stack.")
@click.option("--from", "source", type=click.Path(dir_okay=False),
              help="A preview saved by `polystore preview --format json` (one or a list).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text")
@click.option("--level", type=click.Choice(["advisory", "mandatory"]), default="advisory",
              help="Show advisory and mandatory findings, or mandatory only.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="Per-stack config (default policy/config/<stack|env>.yaml).")
def policy(stack: str | None, all_stacks: bool, source: str | None, fmt: str, level: str,
           config_file: str | None) -> None:
    """Check stacks against the data-tier policy pack; exit 1 if a mandatory rule fails."""
    from policy.config import ConfigError
    from policy.engine import PreviewError, evaluate
    from policy.formats import RENDERERS

    if stack and all_stacks:
        raise click.UsageError("--stack and --all-stacks are exclusive")
    topology = load_or_exit(())
    try:
        previews = _previews(stack, all_stacks, source)
        reports = [evaluate(p, topology, Path(config_file) if config_file else None)
                   for p in previews]
    except (PreviewError, ConfigError, click.BadParameter) as exc:
        click.echo(f"polystore policy: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(RENDERERS[fmt](reports, level))
    if any(r.blocked for r in reports):
        sys.exit(EXIT_PROBLEMS)


commands = [policy]
