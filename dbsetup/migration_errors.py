"""A failed dbmate run as ``path:line`` of the migration file, not of its up section.

dbmate prints ``Applying: <file>`` before each migration and, on failure,
``Error: line: L, column: C, position: P: pq: <message>`` where L counts from the
``-- migrate:up`` line of the file (dbmate sends the up block from its directive on).
The file line is therefore ``directive line + L - 1``. Errors PostgreSQL raises while
executing (division by zero, a unique violation) carry no position; for those the
up block is replayed statement by statement in a transaction that is rolled back, to
find the statement that fails.

Each migration runs in its own transaction (dbmate's default), so a failed one leaves
nothing behind; one marked ``-- migrate:up transaction:false`` may have applied the
statements before the error, and the message says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_APPLYING = re.compile(r"^Applying: (.+?)\s*$", re.M)
_POSITIONED = re.compile(r"line: (\d+), column: (\d+), position: \d+: (?:pq: )?(.*)", re.S)
_NO_POSITION = re.compile(r"Error: (?:pq: )?(.*)", re.S)
_AT_POSITION = re.compile(r" at position \d+:\d+")
# dbmate's directive rule: ``-- migrate:up`` at the start of a line, options after it.
_UP = re.compile(r"^--\s*migrate:up(\s*$|\s+\S+.*$)", re.M)
_DOWN = re.compile(r"^--\s*migrate:down(\s*$|\s+\S+.*$)", re.M)


@dataclass(frozen=True)
class UpBlock:
    """The ``migrate:up`` block of a file: where it starts and how dbmate runs it."""

    first_line: int  # 1-based line of the directive
    start: int  # character offset of the directive
    sql: str  # from the directive up to ``migrate:down`` (what dbmate sends)
    transaction: bool


def up_block(path: Path) -> UpBlock | None:
    text = path.read_text()
    found = _UP.search(text)
    if found is None:
        return None
    down = _DOWN.search(text, found.end())
    sql = text[found.start() : down.start() if down else len(text)]
    options = found.group(1)
    return UpBlock(
        first_line=text.count("\n", 0, found.start()) + 1,
        start=found.start(),
        sql=sql,
        transaction="transaction:false" not in options.replace(" ", ""),
    )


def failed_file(stdout: str, migrations: Path) -> Path | None:
    """The migration dbmate was applying when it stopped (the last ``Applying:`` line)."""
    names = _APPLYING.findall(stdout)
    return migrations / names[-1] if names else None


def clean(message: str) -> str:
    """dbmate's error text without its prefix and the section-relative position."""
    return _AT_POSITION.sub("", message.strip().splitlines()[0] if message.strip() else "")


def locate(stderr: str, block: UpBlock, replay: Any = None) -> tuple[int | None, int, str]:
    """(file line or None, column, message) for dbmate's error ``stderr``.

    ``replay(sql_statements)`` -> index of the statement that fails, or None; it is
    asked only when the error has no position.
    """
    positioned = _POSITIONED.search(stderr)
    if positioned:
        line, column = int(positioned.group(1)), int(positioned.group(2))
        return block.first_line + line - 1, column, clean(positioned.group(3))
    plain = _NO_POSITION.search(stderr)
    message = clean(plain.group(1) if plain else stderr)
    if replay is not None:
        starts = statement_lines(block)
        if starts:
            failing = replay([sql for _, sql in starts])
            if failing is not None:
                return starts[failing][0], 1, message
    return None, 1, message


def statement_lines(block: UpBlock) -> list[tuple[int, str]]:
    """(file line, SQL) of each statement of the up block, by PostgreSQL's own parser."""
    import json

    from pglast import parser

    raw = block.sql.encode()  # the parser's locations are byte offsets
    try:
        stmts = json.loads(parser.parse_sql_json(block.sql)).get("stmts", [])
    except parser.ParseError:
        return []
    out = []
    for stmt in stmts:
        start = stmt.get("stmt_location", 0)
        length = stmt.get("stmt_len", 0) or len(raw) - start
        piece = raw[start : start + length].decode()
        first = block.sql.count("\n", 0, len(raw[:start].decode()))
        # a statement's text starts after the previous ``;``: skip blank and comment lines
        for text_line in piece.splitlines():
            if text_line.strip() and not text_line.strip().startswith("--"):
                break
            first += 1
        out.append((block.first_line + first, piece.strip()))
    return out


def describe(path: Path, line: int | None, column: int, message: str, block: UpBlock) -> str:
    """The ``path:line:`` report of a failed migration, with the offending line quoted."""
    where = f"{path}:{line}:{column}" if line else f"{path}:{block.first_line}"
    text = f"{where}: migration failed: {message}"
    if line:
        lines = path.read_text().splitlines()
        if 0 < line <= len(lines):
            text += f"\n    {line} | {lines[line - 1]}"
    if block.transaction:
        text += "\n  nothing of this migration was applied (it ran in one transaction)"
    else:
        text += (
            "\n  this migration runs outside a transaction (transaction:false): the statements"
            " before the failing one may have been applied"
        )
    return text
