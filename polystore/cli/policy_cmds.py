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
from polystore.topology.model import ENVIRONMENTS, Topology


def _previews(stack: str | None, all_stacks: bool, source: str | None,
              topology: Topology) -> list[dict[str, Any]]:  # fmt: skip
    if source:
        try:
            data = json.loads(Path(source).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"cannot read preview {source}: {exc}; write one with "
                                     "`polystore preview --stack S --format json > FILE`",
                                     param_hint="--from") from exc
        return data if isinstance(data, list) else [data]
    try:
        # the infra area's offline (mocked) program run, cached by its inputs
        from infra.preview_cache import cached_preview
    except ImportError as exc:
        raise click.UsageError("the offline preview (infra.preview) is not available here; "
                               "pass --from FILE with a saved preview") from exc
    from policy.engine import split_stack

    out = []
    for name in list(ENVIRONMENTS) if all_stacks else [stack or "dev"]:
        # ``prod`` previews every system of Pulumi.prod.yaml; ``tcgstore-prod`` only one.
        system, env = split_stack(name, topology)
        overrides = {"polystore:systems": [system]} if system else None
        preview = cached_preview(env, topology, overrides)
        out.append({**preview, "stack": name} if system else preview)
    return out


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
    from infra.config import ConfigError as StackConfigError
    from policy.config import ConfigError
    from policy.engine import PreviewError, evaluate
    from policy.formats import RENDERERS

    if stack and all_stacks:
        raise click.UsageError("--stack and --all-stacks are exclusive")
    topology = load_or_exit(())
    try:
        previews = _previews(stack, all_stacks, source, topology)
        reports = [evaluate(p, topology, Path(config_file) if config_file else None)
                   for p in previews]
    except (PreviewError, ConfigError, StackConfigError, click.BadParameter) as exc:
        click.echo(f"polystore policy: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(RENDERERS[fmt](reports, level))
    if any(r.blocked for r in reports):
        sys.exit(EXIT_PROBLEMS)


commands = [policy]
