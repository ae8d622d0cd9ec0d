"""Index settings: the request's ``settings`` normalised to OpenSearch's nested form."""

from __future__ import annotations

import copy
import re
from typing import Any

from emulation.search.errors import bad_request, unsupported

_KNOWN = frozenset(
    {
        "number_of_shards",
        "number_of_replicas",
        "refresh_interval",
        "analysis",
        "max_result_window",
        "max_ngram_diff",
        "auto_expand_replicas",
        "codec",
        "knn",
        "similarity",
        "mapping",
        "routing",
        "blocks",
        "uuid",
        "creation_date",
        "provided_name",
        "version",
        "hidden",
        "search",
        # Limits of features this engine refuses anyway, or shard layout with no effect
        # on one shard: accepted and kept.
        "number_of_routing_shards",
        "max_docvalue_fields_search",
        "max_script_fields",
        "max_rescore_window",
        "max_inner_result_window",
        "max_terms_count",
        "max_regex_length",
        "highlight",
        "max_slices_per_scroll",
        "max_shingle_diff",
        "max_refresh_listeners",
        "routing_partition_size",
        "gc_deletes",
        "translog",
        "merge",
        "write",
        "requests",
        "query",
    }
)
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$")


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"index.a.b": 1, "c": {...}}`` -> ``{"index": {"a": {"b": 1}, "c": {...}}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        if parts[0] != "index":
            parts = ["index", *parts]
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if isinstance(value, dict) and parts[-1] in node:
            node[parts[-1]].update(value)
        elif isinstance(value, dict) and parts == ["index"]:
            node.setdefault("index", {}).update(_nest(value)["index"])
        else:
            node[parts[-1]] = value
    return out


class IndexSettings:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        index = raw.get("index", {})
        self.analysis: dict[str, Any] = index.get("analysis", {}) or {}
        self.refresh_interval = parse_interval(index.get("refresh_interval", "1s"))
        self.max_result_window = int(index.get("max_result_window", 10000))
        self.max_regex_length = int(index.get("max_regex_length", 1000))
        self.max_docvalue_fields = int(index.get("max_docvalue_fields_search", 100))
        # How long a delete's tombstone (its version) is kept for versioned writes.
        self.gc_deletes = parse_time("index.gc_deletes", index.get("gc_deletes", "60s"))

    @classmethod
    def from_request(cls, settings: dict[str, Any]) -> IndexSettings:
        nested = _nest(copy.deepcopy(settings))
        index = nested.get("index", {})
        for key in index:
            if key not in _KNOWN:
                raise unsupported(f"index setting [index.{key}]")
        index.setdefault("number_of_shards", "1")
        index.setdefault("number_of_replicas", "1")
        for key in ("number_of_shards", "number_of_replicas"):
            index[key] = str(index[key])
        parse_interval(index.get("refresh_interval", "1s"))
        parse_time("index.gc_deletes", index.get("gc_deletes", "60s"))
        return cls(nested)


def parse_interval(value: Any) -> float | None:
    """Seconds between automatic refreshes; ``None`` when disabled (``-1``)."""
    text = str(value).strip()
    match = _DURATION.match(text)
    if not match:
        raise bad_request(
            f"failed to parse setting [index.refresh_interval] with value [{text}] as a time value"
        )
    number = float(match.group(1))
    if number < 0:
        return None
    unit = match.group(2) or ("ms" if text != "0" else "s")
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


_TIME = re.compile(r"^(-?\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d)$")
_TIME_UNITS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
               "d": 86400.0}  # fmt: skip


def parse_time(setting: str, value: Any) -> float:
    """A time setting in seconds (OpenSearch's units; ``-1`` is accepted as 0)."""
    text = str(value).strip()
    match = _TIME.match(text)
    if text == "-1":
        return 0.0
    if not match:
        raise bad_request(
            f"failed to parse setting [{setting}] with value [{text}] as a time value: "
            "unit is missing or unrecognized"
        )
    number = float(match.group(1)) * _TIME_UNITS[match.group(2)]
    if number < 0:
        raise bad_request(
            f"failed to parse value [{text}] for setting [{setting}], must be >= [-1]"
        )
    return number


# What ``PUT _settings`` may change on an open index: OpenSearch's dynamic index settings
# (docs: "Index settings", dynamic). The other known settings are static (changeable only
# on a closed index, which this engine does not have) or final.
_DYNAMIC = frozenset(
    {
        "number_of_replicas",
        "auto_expand_replicas",
        "refresh_interval",
        "max_result_window",
        "max_inner_result_window",
        "max_rescore_window",
        "max_docvalue_fields_search",
        "max_script_fields",
        "max_ngram_diff",
        "max_shingle_diff",
        "max_refresh_listeners",
        "max_terms_count",
        "max_regex_length",
        "max_slices_per_scroll",
        "highlight",
        "gc_deletes",
        "translog",
        "merge",
        "blocks",
        "search",
        "routing",
        "write",
        "requests",
        "query",
        "mapping",
        "hidden",
    }
)
_FINAL = frozenset(
    {"number_of_shards", "number_of_routing_shards", "uuid", "creation_date", "provided_name"}
    | {"version"}
)
_INT_SETTINGS = ("max_result_window", "max_regex_length", "max_docvalue_fields_search")


def updated(current: dict[str, Any], body: Any, preserve_existing: bool, index: str,
            uuid: str) -> dict[str, Any]:  # fmt: skip
    """The settings after ``PUT /<index>/_settings`` with ``body`` (OpenSearch's forms:
    flat, nested under ``index``, dotted, or wrapped in ``settings``); ``null`` resets a
    setting to its default. Raises, changing nothing, when any setting cannot be updated."""
    if not isinstance(body, dict):
        raise bad_request("request body is required", "action_request_validation_exception")
    if set(body) == {"settings"} and isinstance(body["settings"], dict):
        body = body["settings"]
    changes = _nest(copy.deepcopy(body)).get("index", {})
    if not changes:
        raise bad_request(
            "Validation Failed: 1: no settings to update;", "action_request_validation_exception"
        )
    for key in changes:
        if key not in _KNOWN:
            raise unsupported(f"index setting [index.{key}]")
    final = sorted(k for k in changes if k in _FINAL)
    if final:
        raise bad_request(f"final index setting [index.{final[0]}], not updateable")
    static = sorted(f"index.{k}" for k in changes if k not in _DYNAMIC)
    if static:
        raise bad_request(
            f"Can't update non dynamic settings [[{', '.join(static)}]] for open indices "
            f"[[{index}/{uuid}]]"
        )
    merged = copy.deepcopy(current)
    _merge(merged.setdefault("index", {}), changes, preserve_existing)
    index_settings = merged["index"]
    parse_interval(index_settings.get("refresh_interval", "1s"))
    for key in _INT_SETTINGS:
        if key in index_settings:
            try:
                int(index_settings[key])
            except (TypeError, ValueError):
                raise bad_request(
                    f"Failed to parse value [{index_settings[key]}] for setting [index.{key}]"
                ) from None
    IndexSettings(merged)  # the rest parses too (gc_deletes, ...), or 400 and nothing changed
    return merged


def _merge(into: dict[str, Any], changes: dict[str, Any], preserve_existing: bool) -> None:
    for key, value in changes.items():
        if isinstance(value, dict):
            node = into.get(key)
            if not isinstance(node, dict):
                if node is not None and preserve_existing:
                    continue
                node = into[key] = {}
            _merge(node, value, preserve_existing)
            if not node:
                del into[key]
        elif value is None:
            if not preserve_existing:
                into.pop(key, None)  # back to the default
        elif key not in into or not preserve_existing:
            # OpenSearch keeps settings as strings (GET _settings shows "1", "true").
            into[key] = str(value).lower() if isinstance(value, bool) else str(value)
