"""Debezium change event → read-model item operation, by the transform a CDC link declares.

Pure and dependency-free (the AWS Lambda ships it without pydantic or the topology): the
transform arrives as a :class:`SinkSpec`, plain JSON built from the topology by
``cdc.plan.sink_spec`` — the same function for the Lambda's environment and the local
consumer.

Events are Debezium's PostgreSQL envelope with JSON schemas off (``cdc.connector``):
``{"before", "after", "source": {"table", "lsn", "snapshot", ...}, "op"}``. Values arrive
as the connector encodes them: uuid/text as strings, ``numeric`` as a string
(``decimal.handling.mode=string``), ``timestamptz`` as an ISO-8601 string, ``date`` as
days since the epoch, ``timestamp`` as epoch microseconds, arrays as lists, ``jsonb`` as
a JSON string. Item fields are converted to their declared type here.

Ordering. Every operation carries a *version*, a string that sorts as the changes were
committed for one row: snapshot reads (``op: r``) rank below every streamed change
(``"0"`` + LSN vs ``"1"`` + LSN), so a change streamed after the snapshot always wins,
even when its transaction wrote the row before the snapshot point; streamed changes of
one row sort by their WAL position (``source.lsn``: a later transaction can modify a
row only after the earlier one committed, and changes within a transaction are in WAL
order). The sink writes an item only if its stored version is lower.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SNAPSHOT_RANK, STREAM_RANK = "0", "1"


class TransformError(ValueError):
    """A change event the declared transform cannot turn into an item (a poison record)."""


@dataclass(frozen=True)
class FieldSpec:
    """One item field: its declared type and its source (a column, or a template)."""

    type: str
    source: str  # "column" or "X#{column}"

    def columns(self) -> list[str]:
        return [self.source] if _IDENT.match(self.source) else _PLACEHOLDER.findall(self.source)


@dataclass(frozen=True)
class TableSpec:
    item: str
    key: dict[str, str]  # key attribute -> template over item fields
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class SinkSpec:
    """Everything the sink handler needs, as JSON: where to write and how."""

    link: str
    table_env: str  # the variable naming the physical read-model table
    hash_key: str
    tables: dict[str, TableSpec]
    version_attribute: str = "_version"
    deleted_prefix: str = "_deleted#"  # partition-key prefix of delete markers

    def to_json(self) -> str:
        return json.dumps(
            {
                "link": self.link,
                "table_env": self.table_env,
                "hash_key": self.hash_key,
                "version_attribute": self.version_attribute,
                "deleted_prefix": self.deleted_prefix,
                "tables": {
                    t: {
                        "item": s.item,
                        "key": s.key,
                        "fields": {f: [v.type, v.source] for f, v in s.fields.items()},
                    }
                    for t, s in self.tables.items()
                },
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SinkSpec:
        raw = json.loads(text)
        return cls(
            link=raw["link"],
            table_env=raw["table_env"],
            hash_key=raw["hash_key"],
            version_attribute=raw["version_attribute"],
            deleted_prefix=raw["deleted_prefix"],
            tables={
                t: TableSpec(
                    item=s["item"],
                    key=dict(s["key"]),
                    fields={f: FieldSpec(v[0], v[1]) for f, v in s["fields"].items()},
                )
                for t, s in raw["tables"].items()
            },
        )


@dataclass(frozen=True)
class ItemOp:
    """Put ``item`` (or delete the item at ``key``) if the stored version is older."""

    kind: Literal["put", "delete"]
    key: dict[str, str]
    version: str
    item: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.key.items()))


def version_of(event: dict[str, Any]) -> str:
    """The order key of a change (see the module docstring); fixed width, so it sorts."""
    source = event.get("source") or {}
    lsn = source.get("lsn")
    if not isinstance(lsn, int) or lsn < 0:
        raise TransformError(f"change event without a source.lsn: {source!r}")
    rank = SNAPSHOT_RANK if event.get("op") == "r" else STREAM_RANK
    return f"{rank}{lsn:016x}"


def operations(spec: SinkSpec, event: dict[str, Any] | None) -> list[ItemOp]:
    """What one Debezium event does to the read model (nothing for tombstones/heartbeats)."""
    if event is None or "op" not in event:
        return []  # a Kafka tombstone (the delete came before it) or a heartbeat
    op = event["op"]
    if op == "t":
        return []  # TRUNCATE: not captured (the connector skips it; see docs/cdc.md)
    source = event.get("source") or {}
    table = source.get("table")
    tspec = spec.tables.get(table) if isinstance(table, str) else None
    if tspec is None or not isinstance(table, str):
        raise TransformError(f"change of table {table!r}, which link {spec.link} does not map")
    version = version_of(event)
    before, after = event.get("before"), event.get("after")
    if op in ("c", "r", "u"):
        if not isinstance(after, dict):
            raise TransformError(f"{op!r} event of {table} without 'after'")
        item = build_item(tspec, after, table)
        key = {k: item[k] for k in tspec.key}
        out = []
        if op == "u" and isinstance(before, dict):
            old = _key_or_none(tspec, before)
            if old is not None and old != key:
                out.append(ItemOp("delete", old, version))  # the row's item moved
        out.append(ItemOp("put", key, version, item))
        return out
    if op == "d":
        if not isinstance(before, dict):
            raise TransformError(f"delete event of {table} without 'before'")
        old = _key_or_none(tspec, before)
        if old is None:
            raise TransformError(
                f"delete event of {table} lacks the columns of its item key "
                f"(is the table's REPLICA IDENTITY FULL?): {sorted(before)}"
            )
        return [ItemOp("delete", old, version)]
    raise TransformError(f"unknown Debezium op {op!r}")


def build_item(tspec: TableSpec, row: dict[str, Any], table: str) -> dict[str, Any]:
    """The item a row becomes: declared fields converted to their types, then the key."""
    item: dict[str, Any] = {}
    for name, f in tspec.fields.items():
        if _IDENT.match(f.source):
            raw = row.get(f.source)
        else:
            raw = _fill(f.source, {c: _text(row.get(c)) for c in f.columns()}, table)
        value = convert(raw, f.type, f"{table}.{name}")
        if value is not None:
            item[name] = value
    for attr, template in tspec.key.items():
        item[attr] = _fill(template, {k: _text(item.get(k)) for k in _placeholders(template)},
                           table)  # fmt: skip
    return item


def _key_or_none(tspec: TableSpec, row: dict[str, Any]) -> dict[str, str] | None:
    try:
        item = build_item(tspec, row, "(old row)")
    except TransformError:
        return None
    return {k: item[k] for k in tspec.key}


def _placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def _fill(template: str, values: dict[str, str | None], table: str) -> str:
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise TransformError(f"{table}: no value for {', '.join(missing)} in {template!r}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] or "", template)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def convert(value: Any, type_: str, where: str) -> Any:
    """A Debezium JSON value as the declared item field type (None: leave it out)."""
    if value is None:
        return None
    try:
        if type_ in ("string", "decimal-string"):
            return _text(value)
        if type_ == "integer":
            if isinstance(value, bool):
                raise ValueError("a boolean is not an integer")
            return int(Decimal(str(value)))
        if type_ == "number":
            return Decimal(str(value))
        if type_ == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError("not a boolean")
        if type_ == "timestamp":
            # Fixed width in UTC, so timestamps in sort keys sort as times do.
            return _timestamp(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if type_ == "epoch-seconds":
            return int(_timestamp(value).timestamp())
        if type_ == "map":
            return json.loads(value) if isinstance(value, str) else dict(value)
        if type_ == "list":
            return json.loads(value) if isinstance(value, str) else list(value)
        if type_ == "string-set":
            items = {_text(v) for v in value} - {None}
            return items or None  # DynamoDB has no empty sets
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise TransformError(f"{where}: {value!r} is not a valid {type_} ({exc})") from exc
    raise TransformError(f"{where}: unknown field type {type_!r}")


def _timestamp(value: Any) -> datetime:
    """ISO-8601 (timestamptz: ZonedTimestamp) or epoch microseconds (timestamp); a
    datetime too (rows read straight from PostgreSQL, to compare with the read model)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + timedelta(microseconds=value)
    raise ValueError("expected an ISO-8601 string or epoch microseconds")
