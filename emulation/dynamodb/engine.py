"""The engine's state and the helpers every operation shares: table lookup, key checks,
expression placeholders, stream records.

One engine serves one data directory. Operations run one at a time on the server's
event loop (SQLite has one writer anyway), each inside one storage transaction.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.errors import (
    DynamoError,
    constraint,
    invalid_params,
    missing,
    table_not_found,
    validation,
)
from emulation.dynamodb.expr_parser import Placeholders
from emulation.dynamodb.storage import Store, TableInfo, sequence_text

Loaded = tuple[dict[str, Any], int, str]

ACCOUNT = "000000000000"
TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
MAX_HASH_KEY = 2048
MAX_RANGE_KEY = 1024
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


class DataDirLockedError(RuntimeError):
    """Another engine already serves this data directory."""


class Engine:
    """One data directory, owned by one engine process (an exclusive ``flock``): a second
    engine on it would keep its own counters and table cache and drift from the first."""

    def __init__(self, data_dir: Path | str, region: str = "us-east-1") -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.data_dir / "engine.lock", "a+")  # noqa: SIM115
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "unknown"
            self._lock.close()
            raise DataDirLockedError(
                f"data dir {self.data_dir} is already served by another polystore DynamoDB "
                f"engine (pid {holder}); stop it or choose another --data-dir"
            ) from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(str(os.getpid()))
        self._lock.flush()
        self.store = Store(self.data_dir / "dynamodb.sqlite3")
        self.region = region

    def close(self) -> None:
        if self._lock.closed:
            return
        self.store.close()
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    # -- tables
    def table(self, name: Any, where: str = "tableName") -> TableInfo:
        check_table_name(name, where)
        t = self.store.tables.get(name)
        if t is None:
            raise DynamoError("ResourceNotFoundException", "Requested resource not found")
        return t

    def described_table(self, name: Any) -> TableInfo:
        check_table_name(name, "tableName")
        t = self.store.tables.get(name)
        if t is None:
            raise table_not_found(name)
        return t

    def table_arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"

    # -- writes
    def change(
        self,
        t: TableInfo,
        loc: tuple[int, bytes, bytes],
        old: Loaded | None,
        new: dict[str, Any] | None,
        identity: dict[str, str] | None = None,
        new_size: int | None = None,
    ) -> None:
        """Write one item change and its stream record, in the caller's transaction.

        ``old`` is what :meth:`load` returned (item, size, JSON text), so neither the old
        item's size nor its JSON is computed again.
        """
        old_item, old_size, old_text = old if old is not None else (None, 0, None)
        if new is not None and new_size is None:
            new_size = V.item_size(new)
        new_text = V.compact_json(new) if new is not None else None
        self.store.write(t, loc, old_item, new, old_size, new_size or 0, new_text)
        if t.stream_sid is None or (old_item is None and new is None):
            return
        if (
            old_text is not None
            and new_text is not None
            and (old_text == new_text or old_item == new)
        ):
            return  # DynamoDB writes no record for a write that changed nothing
        view = t.stream_view or "KEYS_ONLY"
        keys = t.key_of(new if new is not None else old_item)  # type: ignore[arg-type]
        keys_text = V.compact_json(keys)
        size = V.item_size(keys)
        event = "INSERT" if old_item is None else "REMOVE" if new is None else "MODIFY"
        seq = self.store.next_seq()
        now = time.time()
        # the record's JSON is assembled around the item texts already serialised
        parts = [
            '{"eventID":"', os.urandom(16).hex(), '","eventName":"', event,
            '","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"', self.region,
            '","dynamodb":{"ApproximateCreationDateTime":', str(int(now)), ',"Keys":', keys_text,
        ]  # fmt: skip
        if new_text is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            parts += [',"NewImage":', new_text]
            size += new_size or 0
        if old_text is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            parts += [',"OldImage":', old_text]
            size += old_size
        parts += [',"SequenceNumber":"', sequence_text(seq), '","SizeBytes":', str(size),
                  ',"StreamViewType":"', view, '"}']  # fmt: skip
        if identity is not None:
            parts += [',"userIdentity":', json.dumps(identity)]
        parts.append("}")
        self.store.append_record(seq, t.stream_sid, now, "".join(parts))

    def load(self, t: TableInfo, loc: tuple[int, bytes, bytes]) -> Loaded | None:
        """The stored item at ``loc`` with its size and JSON text, or None."""
        row = self.store.get_sized(t, loc)
        if row is None:
            return None
        return json.loads(row[0]), row[1], row[0]

    def load_many(
        self, plan: list[tuple[TableInfo, Any, tuple[int, bytes, bytes], Any, int]]
    ) -> dict[tuple[str, int, bytes, bytes], Loaded]:
        """:meth:`load` for a batch's keys, one statement per table, keyed
        ``(table name, *loc)``."""
        by_table: dict[str, tuple[TableInfo, list[tuple[int, bytes, bytes]]]] = {}
        for t, _key, loc, *_ in plan:
            by_table.setdefault(t.name, (t, []))[1].append(loc)
        out: dict[tuple[str, int, bytes, bytes], Loaded] = {}
        for name, (t, locs) in by_table.items():
            for loc, (text, size) in self.store.get_many(t, locs).items():
                out[(name, *loc)] = (json.loads(text), size, text)
        return out

    # -- keys
    def key_from_request(self, t: TableInfo, key: Any, where: str = "Key") -> dict[str, Any]:
        """A ``Key`` parameter: exactly the table's key attributes with their types."""
        if not isinstance(key, dict):
            raise missing(where.lower())
        checked = V.check_item(key, where)
        if set(checked) != set(t.key_names) or len(checked) != len(t.key_names):
            raise validation("The provided key element does not match the schema")
        check_key_values(t, checked)
        return checked

    def check_item_keys(self, t: TableInfo, item: dict[str, Any], size: int | None = None) -> int:
        """An item to write: its table key present and typed, index keys typed; its size."""
        for name, kind in ((t.hash, t.hash_type), (t.range, t.range_type)):
            if name is None:
                continue
            v = item.get(name)
            if v is None:
                raise invalid_params(f"Missing the key {name} in the item")
            if kind not in v:
                raise invalid_params(
                    f"Type mismatch for key {name} expected: {kind} actual: {V.type_of(v)}"
                )
        check_key_values(t, item)
        for ix in t.indexes.values():
            for name, kind in ((ix.hash, ix.hash_type), (ix.range, ix.range_type)):
                if name is None or name not in item:
                    continue
                v = item[name]
                if kind not in v:
                    raise invalid_params(
                        f"Type mismatch for Index Key {name} Expected: {kind} Actual: "
                        f"{V.type_of(v)} IndexName: {ix.name}"
                    )
                if kind in ("S", "B") and v[kind] == "":
                    raise validation(
                        "One or more parameter values are not valid. A value specified for a "
                        "secondary index key is not supported. The AttributeValue for a key "
                        f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'}"
                        f" value. IndexName: {ix.name}, IndexKey: {name}"
                    )
        if size is None:
            size = V.item_size(item)
        if size > V.MAX_ITEM_BYTES:
            raise validation("Item size has exceeded the maximum allowed size")
        return size


def check_key_values(t: TableInfo, key: dict[str, Any]) -> None:
    for name, kind, limit in ((t.hash, t.hash_type, MAX_HASH_KEY),
                              (t.range, t.range_type, MAX_RANGE_KEY)):  # fmt: skip
        if name is None:
            continue
        v = key[name]
        if kind not in v:
            raise validation("The provided key element does not match the schema")
        if kind in ("S", "B") and v[kind] == "":
            raise validation(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                f"value. Key: {name}"
            )
        size = V.value_size(v)
        if size > limit:
            if limit == MAX_HASH_KEY:
                raise invalid_params(
                    "Size of hashkey has exceeded the maximum size limit of2048 bytes"
                )
            raise invalid_params(
                "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
            )


def check_table_name(name: Any, where: str = "tableName") -> None:
    if name is None:
        raise missing(where)
    if not isinstance(name, str):
        raise DynamoError("SerializationException", f"{where} must be a string")
    if len(name) < 3:
        raise constraint(name, where, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise constraint(name, where, "Member must have length less than or equal to 255")
    if not TABLE_NAME.fullmatch(name):
        raise constraint(
            name, where, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


def placeholders(req: dict[str, Any], has_expression: bool) -> Placeholders:
    """ExpressionAttributeNames/Values of a request, checked as DynamoDB checks them."""
    names = req.get("ExpressionAttributeNames")
    vals = req.get("ExpressionAttributeValues")
    if names is not None:
        if not has_expression:
            raise validation(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if not names:
            raise validation("ExpressionAttributeNames must not be empty")
        for k, v in names.items():
            if not k.startswith("#") or len(k) < 2:
                raise validation(f'ExpressionAttributeNames contains invalid key: Syntax error; '
                                 f'key: "{k}"')  # fmt: skip
            if not isinstance(v, str) or not v:
                raise validation(
                    "ExpressionAttributeNames contains invalid value: Empty attribute name; "
                    f"key: {k}"
                )
    checked: dict[str, Any] = {}
    if vals is not None:
        if not has_expression:
            raise validation(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        if not vals:
            raise validation("ExpressionAttributeValues must not be empty")
        for k, v in vals.items():
            if not k.startswith(":") or len(k) < 2:
                raise validation(f'ExpressionAttributeValues contains invalid key: Syntax error; '
                                 f'key: "{k}"')  # fmt: skip
            checked[k] = V.check_value(v)
    return Placeholders(dict(names or {}), checked)


def check_all_used(ph: Placeholders) -> None:
    unused_names = sorted(set(ph.names) - ph.used_names)
    if unused_names:
        raise validation(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
            + ", ".join(unused_names) + "}"
        )  # fmt: skip
    unused_values = sorted(set(ph.values) - ph.used_values)
    if unused_values:
        raise validation(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
            + ", ".join(unused_values) + "}"
        )  # fmt: skip
