"""Rows as PostgreSQL COPY text: the canonical bytes of a plan's rows.

``Plan.digest()`` hashes this text (with the items and documents) so that two runs, or
two machines, can compare what they would write with one line of ``--dry-run`` output.
The loader itself sends rows with psycopg's C dumpers (``write_row``), which measured
faster than formatting the text in Python.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from seed.pg_model import ColumnSpec, TableSpec

_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(v: Any) -> str:
    return str(v).translate(_ESC)


def _ts(v: dt.datetime) -> str:
    return v.isoformat()


def _json(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":")).translate(_ESC)


def _bool(v: bool) -> str:
    return "t" if v else "f"


def _bytes(v: bytes) -> str:
    return "\\\\x" + v.hex()


def _array(v: list[Any]) -> str:
    inner = ",".join('"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"' for x in v)
    return ("{" + inner + "}").translate(_ESC)


def formatter(col: ColumnSpec) -> Callable[[Any], str]:
    if col.array:
        return _array
    if col.base in ("jsonb", "json"):
        return _json
    if col.base == "boolean":
        return _bool
    if col.base == "bytea":
        return _bytes
    if col.base in ("timestamptz", "timestamp"):
        return _ts
    if col.base in ("uuid", "integer", "smallint", "bigint", "numeric", "date", "time"):
        return str
    return _text


def encode(
    spec: TableSpec,
    rows: Iterable[dict[str, Any]],
    columns: list[str] | None = None,
    chunk_rows: int = 5000,
) -> Iterator[bytes]:
    """COPY text of ``rows`` (the table's columns, in ``columns`` order), in chunks."""
    cols = columns or list(spec.columns)
    fmts = [(c, formatter(spec.columns[c])) for c in cols]
    buf: list[str] = []
    for row in rows:
        buf.append("\t".join("\\N" if (v := row.get(c)) is None else f(v) for c, f in fmts))
        if len(buf) >= chunk_rows:
            yield ("\n".join(buf) + "\n").encode()
            buf = []
    if buf:
        yield ("\n".join(buf) + "\n").encode()
