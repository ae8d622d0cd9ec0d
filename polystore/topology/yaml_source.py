"""Read YAML while remembering the line every value came from.

PyYAML's safe loader forgets positions and silently keeps the last of two duplicate
keys. Both matter here: every error must name ``file:line``, and a duplicate service or
store name is an error, not an overwrite. So we compose the node graph ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from polystore.topology.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class LineMap:
    """Maps a path inside the document (keys and list indexes) to a 1-based line."""

    path: Path
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, loc: PathKey) -> int:
        """The line of the document path that matches ``loc`` furthest.

        Pydantic's ``loc`` is the document path with extra parts mixed in: the tag of a
        discriminated union (``stores.events.topic.partitions``: ``topic`` is the store's
        kind) or a validator's name. An extra part may also be a real key — a topic store
        has a ``topic:`` key — so skipping only unknown parts would stop at ``topic:`` and
        blame the parent's line. Any part may be skipped; the path that matches the
        latest part of ``loc`` wins (the longest on a tie), i.e. the offending value.
        """
        best: tuple[int, int] = (-1, 0)
        found: PathKey = ()

        def walk(i: int, cur: PathKey, last: int) -> None:
            nonlocal best, found
            if i == len(loc):
                if (last, len(cur)) > best:
                    best, found = (last, len(cur)), cur
                return
            candidate = (*cur, loc[i])
            if candidate in self.lines:
                walk(i + 1, candidate, i)
            walk(i + 1, cur, last)

        walk(0, (), -1)
        return self.lines.get(found, 1)

    def problem(self, loc: PathKey, message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), message)


_constructor = yaml.constructor.SafeConstructor()
# libyaml's composer is ~10x faster than PyYAML's and keeps the same node marks; every
# CLI command loads the topology, so this is most of a warm `polystore up`.
_COMPOSE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _to_python(node: yaml.Node, loc: PathKey, lm: LineMap, problems: list[Problem]) -> Any:
    lm.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(
                        lm.path, key_node.start_mark.line + 1, "merge keys (<<) are not supported"
                    )
                )
                continue
            key = _constructor.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int):
                problems.append(Problem(lm.path, line, f"mapping key {key!r} must be a string"))
                continue
            if key in seen:
                problems.append(
                    Problem(
                        lm.path, line, f"duplicate key {key!r} (first defined at line {seen[key]})"
                    )
                )
                continue
            seen[key] = line
            child = (*loc, key)
            lm.lines[child] = line
            out[key] = _to_python(value_node, child, lm, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*loc, i), lm, problems) for i, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True)


def read_yaml(path: Path) -> tuple[Any, LineMap, list[Problem]]:
    """Parse ``path``; return the data, where each value is, and the problems found."""
    lm = LineMap(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, lm, [Problem(path, 1, f"cannot read file: {exc}")]
    try:
        node = yaml.compose(text, Loader=_COMPOSE_LOADER)
    except yaml.MarkedYAMLError as exc:
        # Where a construct was left open (a bracket, a quote), the parser notices only
        # lines later; the line that opened it is where the user has to look.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or str(exc)
        if exc.context and exc.problem_mark and exc.context_mark:
            what += f" ({exc.context} at line {line}, noticed at line {exc.problem_mark.line + 1})"

        return None, lm, [Problem(path, line, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, lm, [Problem(path, 1, f"YAML syntax error: {exc}")]
    if node is None:
        return None, lm, [Problem(path, 1, "file is empty")]
    problems: list[Problem] = []
    try:
        data = _to_python(node, (), lm, problems)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        return None, lm, [Problem(path, mark.line + 1 if mark else 1, f"YAML error: {exc.problem}")]
    return data, lm, problems
