"""Report renderers: grouped text for people, JSON for scripts, SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policy.engine import Report
from policy.model import Finding
from policy.topology_keys import display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}


def visible(report: Report, level: str) -> list[Finding]:
    """Findings at or above ``level`` (advisory shows all, mandatory only mandatory)."""
    return [f for f in report.findings if level == "advisory" or f.level == "mandatory"]


def text(reports: list[Report], level: str = "advisory") -> str:
    lines: list[str] = []
    for report in reports:
        findings = visible(report, level)
        lines.append(f"stack {report.stack} ({report.environment}): {len(report.rules)} rules, "
                     f"{len(report.failed('mandatory'))} mandatory and "
                     f"{len(report.failed('advisory'))} advisory violations, "
                     f"{sum(f.status == 'unknown' for f in report.findings)} unknown at preview")
        rules = {r.id: r for r in report.rules}
        for rid in sorted({f.rule_id for f in findings}):
            rule = rules[rid]
            group = [f for f in findings if f.rule_id == rid]
            lines.append(f"  [{report.levels[rid]}] {rid} {rule.name}: {rule.reason}")
            for f in group:
                tag = "UNKNOWN" if f.status == "unknown" else "FAIL"
                lines.append(f"    {tag} {f.resource_name or '(stack)'}: {f.message}")
                if f.topology:
                    lines.append(f"      declared at {f.topology}")
            lines.append(f"    fix: {rule.remediation}")
    return "\n".join(lines)


def as_json(reports: list[Report], level: str = "advisory") -> str:
    out = []
    for report in reports:
        out.append({
            "stack": report.stack, "environment": report.environment,
            "passed": not report.blocked,
            "findings": [f.__dict__ for f in visible(report, level)],
        })
    return json.dumps(out, indent=2)


def sarif(reports: list[Report], level: str = "advisory") -> str:
    rules = reports[0].rules if reports else []
    driver = {
        "name": "polystore-policy", "informationUri": "https://github.com/polystore",
        "rules": [{
            "id": r.id, "name": r.name,
            "shortDescription": {"text": r.reason},
            "fullDescription": {"text": (r.__doc__ or r.reason).strip()},
            "help": {"text": r.remediation},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(r.level, "note")},
            "properties": {"group": r.group, "resourceTypes": list(r.types)},
        } for r in rules],
    }
    index = {r.id: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for report in reports:
        for f in visible(report, level):
            results.append({
                "ruleId": f.rule_id, "ruleIndex": index.get(f.rule_id, 0),
                "level": "note" if f.status == "unknown" else _SARIF_LEVEL.get(f.level, "note"),
                "message": {"text": f"{f.resource_name or report.stack}: {f.message}"},
                "locations": [{**_physical(f), "logicalLocations": [{
                    "name": f.resource_name or report.stack,
                    "fullyQualifiedName": f.urn or f"stack:{report.stack}",
                    "kind": "resource"}]}],
                "properties": {"stack": report.stack, "status": f.status,
                               "resourceType": f.resource_type},
            })
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0",
                       "runs": [{"tool": {"driver": driver}, "results": results}]}, indent=2)


def _physical(f: Finding) -> dict[str, Any]:
    """The topology file and line a finding is fixed at, as a SARIF physical location."""
    if not (f.topology_file and f.topology_line):
        return {}
    return {"physicalLocation": {"artifactLocation": {"uri": display_path(Path(f.topology_file))},
                                 "region": {"startLine": f.topology_line}}}


RENDERERS = {"text": text, "json": as_json, "sarif": sarif}
