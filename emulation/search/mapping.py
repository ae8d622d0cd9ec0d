"""Index mappings: OpenSearch's ``mappings`` JSON parsed into typed field specs.

A :class:`Mapping` knows every indexed path (leaf fields and multi-fields such as
``name.keyword``), its OpenSearch type and analyzers, and the tantivy field that holds
it. It also applies dynamic mapping (``dynamic: true|false|strict``) to new documents.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from emulation.search.analysis import AnalysisRegistry, Analyzer
from emulation.search.errors import mapper_parsing, strict_dynamic, unsupported
from emulation.search.field_types import EXTRA_TYPES

INTEGER_TYPES = {"integer": 2**31, "long": 2**63, "short": 2**15, "byte": 2**7}
FLOAT_TYPES = frozenset({"float", "double", "half_float", "scaled_float"})
LEAF_TYPES = frozenset(
    {"text", "keyword", "boolean", "date", *INTEGER_TYPES, *FLOAT_TYPES, *EXTRA_TYPES}
)
# Mapping parameters that change nothing observable in this engine, accepted silently.
_HARMLESS_PARAMS = frozenset(
    {
        "type",
        "fields",
        "analyzer",
        "search_analyzer",
        "search_quote_analyzer",
        "normalizer",
        "ignore_above",
        "scaling_factor",
        "format",
        "index",
        "store",
        "doc_values",
        "norms",
        "boost",
        "coerce",
        "null_value",
        "similarity",
        "term_vector",
        "index_options",
        "ignore_malformed",
        "eager_global_ordinals",
        "fielddata",
        "position_increment_gap",
        "meta",  # field metadata: shown by GET _mapping, no effect on indexing
        "index_prefixes",  # a speed-up for prefix queries, same results without it
        "index_phrases",  # a speed-up for phrase queries, same results without it
        "ignore_z_value",
        "orientation",
    }
)
_DATE_DETECT = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class FieldSpec:
    """One indexed path and how it is analysed and stored in tantivy."""

    path: str
    type: str
    internal: str
    source_path: str  # the source key whose value feeds it (parent for multi-fields)
    index_analyzer: Analyzer | None = None
    search_analyzer: Analyzer | None = None
    ignore_above: int | None = None
    scaling_factor: float | None = None
    null_value: Any = None

    @property
    def is_text(self) -> bool:
        return self.type == "text"

    @property
    def is_numeric(self) -> bool:
        return self.type in INTEGER_TYPES or self.type in FLOAT_TYPES or self.type == "date"

    @property
    def raw_tokens(self) -> bool:
        """Index values whole (tantivy ``raw``) rather than space-joined tokens."""
        return self.type == "keyword" or (
            self.index_analyzer is not None and self.index_analyzer.single_token
        )


class Mapping:
    """The parsed ``mappings`` of one index, growing as dynamic fields appear."""

    def __init__(self, body: dict[str, Any] | None, registry: AnalysisRegistry) -> None:
        body = copy.deepcopy(body or {})
        unknown = set(body) - {
            "properties",
            "dynamic",
            "_source",
            "date_detection",
            "dynamic_templates",
            "_meta",
            "_routing",
        }
        if unknown:
            raise mapper_parsing(
                f"Root mapping definition has unsupported parameters: [{sorted(unknown)[0]}]"
            )
        if body.get("dynamic_templates"):
            raise unsupported("mappings.dynamic_templates")
        self.registry = registry
        self.body = body
        self.dynamic = str(body.get("dynamic", "true")).lower()
        self.date_detection = bool(body.get("date_detection", True))
        self.fields: dict[str, FieldSpec] = {}
        self.objects: dict[str, str] = {"": self.dynamic}  # object path -> its dynamic
        self.by_source: dict[str, list[FieldSpec]] = {}
        self.geo_points: set[str] = set()  # source paths whose objects/arrays are values
        self._walk(body.get("properties", {}) or {}, "", self.dynamic)

    # -- parsing ---------------------------------------------------------------------
    def _walk(self, props: dict[str, Any], prefix: str, dynamic: str) -> None:
        for name, conf in props.items():
            path = f"{prefix}{name}"
            if not isinstance(conf, dict):
                raise mapper_parsing(f"Expected map for property [fields] on field [{name}]")
            kind = conf.get("type", "object" if "properties" in conf else None)
            if kind in ("object", "nested"):
                if kind == "nested":
                    raise unsupported("field type [nested]")
                child_dynamic = str(conf.get("dynamic", dynamic)).lower()
                self.objects[path] = child_dynamic
                self._walk(conf.get("properties", {}) or {}, f"{path}.", child_dynamic)
                continue
            self._add_leaf(path, path, conf)
            for sub, sub_conf in (conf.get("fields", {}) or {}).items():
                self._add_leaf(f"{path}.{sub}", path, sub_conf)

    def _add_leaf(self, path: str, source_path: str, conf: dict[str, Any]) -> None:
        kind = conf.get("type")
        if kind is None:
            raise mapper_parsing(f"No type specified for field [{path}]")
        if kind not in LEAF_TYPES:
            raise mapper_parsing(f"No handler for type [{kind}] declared on field [{path}]")
        extra = set(conf) - _HARMLESS_PARAMS
        if extra:
            raise unsupported(f"mapping parameter [{sorted(extra)[0]}] on field [{path}]")
        if kind == "match_only_text":  # text without positions or scores in OpenSearch
            kind = "text"
        if kind == "geo_point":
            self.geo_points.add(source_path)
        index_an = search_an = None
        if kind == "text":
            index_an = self.registry.analyzer(conf.get("analyzer", "standard"))
            search_an = self.registry.analyzer(
                conf.get("search_analyzer", conf.get("analyzer", "standard"))
            )
        elif kind == "keyword" and "normalizer" in conf:
            index_an = search_an = self.registry.normalizer(conf["normalizer"])
        if kind == "scaled_float" and "scaling_factor" not in conf:
            raise mapper_parsing(f"Field [{path}] misses required parameter [scaling_factor]")
        spec = FieldSpec(
            path=path,
            type=kind,
            internal=f"f{len(self.fields)}",
            source_path=source_path,
            index_analyzer=index_an,
            search_analyzer=search_an,
            ignore_above=conf.get("ignore_above"),
            scaling_factor=float(conf["scaling_factor"]) if kind == "scaled_float" else None,
            null_value=conf.get("null_value"),
        )
        self.fields[path] = spec
        self.by_source.setdefault(source_path, []).append(spec)

    # -- dynamic mapping ---------------------------------------------------------------
    def new_properties(self, source: dict[str, Any]) -> dict[str, Any]:
        """Properties a document would add; raises for ``strict``; {} if none."""
        by_source = self.by_source
        # Fast path for the usual document: every key a mapped leaf holding a scalar.
        if all(
            k in by_source and type(v) is not dict and type(v) is not list
            for k, v in source.items()
        ):
            return {}
        added: dict[str, Any] = {}
        self._discover(source, "", added)
        return added

    def _discover(self, obj: dict[str, Any], prefix: str, added: dict[str, Any]) -> None:
        parent_dynamic = self.objects.get(prefix.rstrip("."), self.dynamic)
        for key, value in obj.items():
            path = f"{prefix}{key}"
            sample = _first_non_null(value)
            if sample is None:
                continue
            if path in self.fields:
                if isinstance(sample, dict) and path not in self.geo_points:
                    raise mapper_parsing(
                        f"failed to parse field [{path}] of type [{self.fields[path].type}]"
                        f". Preview of field's value: '{sample}'"
                    )
                continue
            if path in self.objects:
                if not isinstance(sample, dict):
                    raise mapper_parsing(
                        f"object mapping for [{path}] tried to parse field [{key}] as object,"
                        " but found a concrete value"
                    )
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        self._discover(item, f"{path}.", added)
                continue
            if parent_dynamic == "strict":
                raise strict_dynamic(key, prefix.rstrip(".") or "_doc")
            if parent_dynamic == "false":
                continue
            _set_path(added, path, self._guess(sample, value))

    def _guess(self, sample: Any, value: Any) -> dict[str, Any]:
        if isinstance(sample, bool):
            return {"type": "boolean"}
        if isinstance(sample, int):
            return {"type": "long"}
        if isinstance(sample, float):
            return {"type": "float"}
        if isinstance(sample, dict):
            props: dict[str, Any] = {}
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    for k, v in item.items():
                        s = _first_non_null(v)
                        if s is not None and k not in props:
                            props[k] = self._guess(s, v)
            return {"properties": props}
        text = str(sample)
        if self.date_detection and _DATE_DETECT.match(text):
            return {"type": "date"}
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

    def merged(self, properties: dict[str, Any]) -> dict[str, Any]:
        """The mappings body with ``properties`` merged in (for re-parsing)."""
        body = copy.deepcopy(self.body)
        _merge_props(body.setdefault("properties", {}), properties)
        return body

    def field(self, path: str) -> FieldSpec | None:
        return self.fields.get(path)


def _first_non_null(value: Any) -> Any:
    if isinstance(value, list):
        for item in value:
            found = _first_non_null(item)
            if found is not None:
                return found
        return None
    return value


def _set_path(tree: dict[str, Any], path: str, conf: dict[str, Any]) -> None:
    parts = path.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {"properties": {}}).setdefault("properties", {})
    node[parts[-1]] = conf


def _merge_props(into: dict[str, Any], new: dict[str, Any]) -> None:
    for name, conf in new.items():
        if name in into and "properties" in conf and "properties" in into[name]:
            _merge_props(into[name]["properties"], conf["properties"])
        elif name in into and "properties" in conf:
            into[name].setdefault("properties", {})
            _merge_props(into[name]["properties"], conf["properties"])
        else:
            into[name] = conf
