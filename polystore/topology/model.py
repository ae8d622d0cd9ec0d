"""The topology model: frozen, typed specs validated once at load.

A *system* has services; a service owns stores (one owner per store); stores are of a
kind (postgres, dynamodb, search, topic); links say how data moves between stores and
services; access patterns say how each store is read; references are cross-service ID
references that must never be foreign keys. Everything downstream trusts these objects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, field_validator

if TYPE_CHECKING:
    from polystore.topology.schema_model import DatabaseSchema

ENVIRONMENTS = ("dev", "staging", "prod")
Environment = Literal["dev", "staging", "prod"]

# Names become Pulumi resource names, env-var suffixes and DNS-ish identifiers.
NAME_RE = r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$"
IDENT_RE = r"^[A-Za-z_][A-Za-z0-9_.-]*$"

Name = Annotated[str, Field(pattern=NAME_RE, max_length=40)]
T = TypeVar("T")
# YAML has lists, not tuples; accept a list for a tuple field while elements stay strict.
Seq = Annotated[tuple[T, ...], Strict(False)]
Ident = Annotated[str, Field(pattern=IDENT_RE, max_length=255)]


class Spec(BaseModel):
    """Base of every spec: immutable, unknown keys rejected, no silent type coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)


class Service(Spec):
    """A deployable unit: one ECS service in AWS, one set of credentials locally."""

    description: str = ""
    port: int = Field(8080, ge=1, le=65535)


# ---------------------------------------------------------------------------- DynamoDB

AttributeType = Literal["S", "N", "B"]
Projection = Literal["all", "keys-only", "include"]
StreamView = Literal["new-image", "old-image", "new-and-old-images", "keys-only"]
FieldType = Literal[
    "string", "decimal-string", "integer", "number", "timestamp", "boolean", "epoch-seconds",
    "map", "list", "string-set",
]  # fmt: skip
DataClass = Literal["money", "orders", "payments", "pii", "credentials", "events"]


class KeySchema(Spec):
    hash: Ident
    range: Ident | None = None


class GlobalIndex(Spec):
    hash: Ident
    range: Ident | None = None
    projection: Projection = "all"
    non_key_attributes: Seq[Ident] = ()


class LocalIndex(Spec):
    range: Ident
    projection: Projection = "all"
    non_key_attributes: Seq[Ident] = ()


class Capacity(Spec):
    """Provisioned throughput with autoscaling bounds."""

    read_min: int = Field(ge=1)
    read_max: int = Field(ge=1)
    write_min: int = Field(ge=1)
    write_max: int = Field(ge=1)
    target_utilization: int = Field(70, ge=20, le=90)


class ItemType(Spec):
    """One entity of a (single-table) design: how its keys are built and what it carries.

    ``key`` maps each key attribute to a template such as ``"TRANS#{username}#{asset_id}"``;
    the placeholders are fields of the item.
    """

    description: str = ""
    key: dict[Ident, str]
    fields: dict[Ident, FieldType] = {}


class DynamoStore(Spec):
    kind: Literal["dynamodb"]
    owner: Name
    table: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,200}$")]
    description: str = ""
    attributes: dict[Ident, AttributeType]
    key: KeySchema
    global_indexes: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")], GlobalIndex
    ] = {}
    local_indexes: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")], LocalIndex] = {}
    ttl: Ident | None = None
    stream: StreamView | None = None
    pitr: bool = True
    billing: Literal["on-demand", "provisioned"] = "on-demand"
    capacity: Capacity | None = None
    deletion_protection: bool = True
    holds: Seq[DataClass] = ()
    items: dict[Ident, ItemType] = {}

    def index_keys(self, index: str | None) -> tuple[str, str | None] | None:
        """(hash, range) of the table (``index`` None) or of a GSI/LSI; None if unknown."""
        if index is None:
            return self.key.hash, self.key.range
        if index in self.global_indexes:
            gsi = self.global_indexes[index]
            return gsi.hash, gsi.range
        if index in self.local_indexes:
            return self.key.hash, self.local_indexes[index].range
        return None


# ---------------------------------------------------------------------------- PostgreSQL

PostgresEngine = Literal["aurora-postgresql", "rds-postgresql"]


class PostgresOverride(Spec):
    engine: PostgresEngine | None = None
    read_replicas: int | None = Field(None, ge=0, le=15)


class PostgresStore(Spec):
    kind: Literal["postgres"]
    owner: Name
    database: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
    description: str = ""
    engine: PostgresEngine = "aurora-postgresql"
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+)?$")] = "16"
    extensions: Seq[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]] = ()
    logical_replication: bool = False
    read_replicas: int = Field(0, ge=0, le=15)
    migrations: str
    holds: Seq[DataClass] = ()
    environments: dict[Environment, PostgresOverride] = {}

    def engine_for(self, environment: str) -> PostgresEngine:
        override = self.environments.get(environment)  # type: ignore[call-overload]
        return override.engine if override and override.engine else self.engine

    def read_replicas_for(self, environment: str) -> int:
        override = self.environments.get(environment)  # type: ignore[call-overload]
        if override and override.read_replicas is not None:
            return override.read_replicas
        return self.read_replicas


# ---------------------------------------------------------------------------- search

SearchFieldType = Literal[
    "text", "keyword", "integer", "long", "float", "double", "boolean", "date", "scaled_float",
]  # fmt: skip


class SearchField(Spec):
    """One field of an index mapping, shaped exactly as OpenSearch shapes it."""

    type: SearchFieldType
    analyzer: str | None = None
    search_analyzer: str | None = None
    fields: dict[Ident, SearchField] = {}
    scaling_factor: float | None = None
    format: str | None = None
    ignore_above: int | None = None


class SearchMappings(Spec):
    dynamic: Literal["strict", "false", "true"] | bool = "strict"
    properties: dict[Ident, SearchField]


class SearchStore(Spec):
    kind: Literal["search"]
    owner: Name
    index: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    description: str = ""
    settings: dict[str, Any] = {}
    mappings: SearchMappings
    holds: Seq[DataClass] = ()

    def field_paths(self) -> dict[str, SearchField]:
        """Every field, multi-fields included, by dotted path (``name.keyword``)."""
        out: dict[str, SearchField] = {}

        def walk(prefix: str, fields: dict[str, SearchField]) -> None:
            for name, spec in fields.items():
                out[prefix + name] = spec
                walk(prefix + name + ".", spec.fields)

        walk("", self.mappings.properties)
        return out

    # Declared settings OpenSearch changes on a live index (``PUT _settings``): local
    # provisioning and the AWS search bootstrap keep an existing index's in step with these.
    DYNAMIC_SETTINGS: ClassVar[tuple[str, ...]] = ("refresh_interval", "max_result_window")

    def dynamic_settings(self) -> dict[str, Any]:
        """Each of ``DYNAMIC_SETTINGS`` as declared, ``None`` (OpenSearch's default) when
        not, whichever form the declaration uses (``{"index": {...}}``, ``index.x`` or bare)."""

        def flat(settings: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in settings.items():
                if key == "index" and isinstance(value, dict):
                    out.update(flat(value))
                else:
                    out[key.removeprefix("index.")] = value
            return out

        declared = flat(self.settings)
        return {k: declared.get(k) for k in self.DYNAMIC_SETTINGS}

    def body(self) -> dict[str, Any]:
        """The create-index request body (settings + mappings) OpenSearch expects."""
        return {
            "settings": self.settings,
            "mappings": self.mappings.model_dump(
                mode="json", exclude_defaults=False, exclude_none=True
            ),
        }


# ---------------------------------------------------------------------------- topics


class TopicStore(Spec):
    kind: Literal["topic"]
    owner: Name
    topic: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
    description: str = ""
    partitions: int = Field(3, ge=1, le=1000)
    retention_hours: int = Field(168, ge=1)
    # Kafka's cleanup.policy: "compact" keeps the last record per key (a changelog).
    cleanup_policy: Literal["delete", "compact", "compact,delete"] = "delete"
    platform: Literal["msk-serverless"] = "msk-serverless"
    holds: Seq[DataClass] = ()


Store = Annotated[
    DynamoStore | PostgresStore | SearchStore | TopicStore, Field(discriminator="kind")
]
StoreKind = Literal["dynamodb", "postgres", "search", "topic"]
STORE_KINDS: tuple[StoreKind, ...] = ("postgres", "dynamodb", "search", "topic")


# ---------------------------------------------------------------------------- links


DeriveOp = Literal["copy", "lowercase", "uppercase", "number", "year", "concat"]


class DerivedField(Spec):
    """A document field computed from item attributes (``op`` over ``from``, in order)."""

    source: Annotated[Seq[Ident], Field(alias="from", min_length=1)]
    op: DeriveOp = "copy"
    separator: str = " "  # concat only


class StreamTransform(Spec):
    """How a stream record's item becomes a search document.

    ``items`` selects item types of the source (matched by their key templates; for
    single-table designs), ``key_prefixes`` selects by key attribute prefix; both empty =
    every item. Attributes are copied under their own names unless renamed (``Id`` →
    ``id``) or dropped; ``derive`` adds computed fields. ``id`` is the document id, a
    template over key attributes (default: the hash key, ``hash|range`` with a sort key).
    """

    items: Seq[Ident] = ()
    key_prefixes: dict[Ident, str] = {}
    rename: dict[Ident, Ident] = {}
    drop: Seq[Ident] = ()
    derive: dict[Ident, DerivedField] = {}
    id: str | None = None


class StreamToSearchLink(Spec):
    """A DynamoDB stream indexed into a search index (Lambda in AWS, a poller locally)."""

    kind: Literal["stream-to-search"]
    source: Name
    target: Name
    description: str = ""
    fields: Seq[Ident] = ()  # document fields kept; empty = every field the transform makes
    transform: StreamTransform = StreamTransform()
    batch_size: int = Field(100, ge=1, le=10000)


class CdcTable(Spec):
    """How the rows of one captured table become items of the CDC target (the transform).

    ``item`` names an item type of the target store (its ``items``: key templates and
    fields). ``fields`` maps an item field to its source: a column name (``name``) or a
    template over columns (``"CITY#{city}"``). An item field not listed takes the column of
    the same name; the loader rejects a field with neither.
    """

    item: Ident
    fields: dict[Ident, str] = {}
    description: str = ""


class CdcLink(Spec):
    """PostgreSQL logical decoding → topic (Debezium) → DynamoDB read model (a sink).

    ``tables`` are the captured tables (the publication and the connector's include list)
    and, for each, the transform its change events go through into the target.
    """

    kind: Literal["cdc"]
    source: Name
    topic: Name
    target: Name
    tables: dict[Ident, CdcTable]
    description: str = ""
    connector: Literal["debezium-postgres"] = "debezium-postgres"


class EventLink(Spec):
    """A domain event one service publishes on its own topic and others consume."""

    kind: Literal["event"]
    event: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    producer: Name
    topic: Name
    consumers: Seq[Name]
    carries: Seq[Ident] = ()
    description: str = ""


class AnalyticsLink(Spec):
    """Analytics events a service emits for consumers outside the system."""

    kind: Literal["analytics"]
    producer: Name
    topic: Name
    events: Seq[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]]
    description: str = ""


Link = Annotated[
    StreamToSearchLink | CdcLink | EventLink | AnalyticsLink, Field(discriminator="kind")
]


# ---------------------------------------------------------------------------- access


class AccessPattern(Spec):
    """One way a store is read, with the key or index that serves it.

    DynamoDB: ``operation`` get/query/batch-get, ``index`` (GSI/LSI name, or none for the
    table key), ``key_condition`` in DynamoDB's expression syntax.
    PostgreSQL: ``operation`` select, ``table``, ``index`` (an index or constraint name
    from the migrations, or ``primary key``), ``key_condition`` as SQL equalities/ranges.
    Search: ``operation`` search, ``text_fields``/``filter_fields``, ``fuzzy``/``partial``,
    and ``then`` naming the access pattern that fetches the full items.
    """

    store: Name
    operation: Literal["get", "query", "batch-get", "select", "search"]
    description: str = ""
    table: Ident | None = None
    index: str | None = None
    key_condition: str | None = None
    filter: str | None = None
    order: Literal["asc", "desc"] = "asc"
    order_by: Seq[Ident] = ()
    limit: int | None = Field(None, ge=1)
    joins: Seq[Ident] = ()
    text_fields: Seq[str] = ()
    filter_fields: Seq[str] = ()
    fuzzy: bool = False
    partial: bool = False
    then: str | None = None
    # How the owning service serves it over HTTP (default ``GET /queries/<name>``): a
    # path whose ``{param}`` segments are placeholders of the key condition; the other
    # placeholders are query parameters. Patterns may share a route when their
    # parameters differ (``GET /restaurants?city=`` vs ``?city=&cuisine=``).
    route: Annotated[str, Field(pattern=r"^GET /[A-Za-z0-9_{}/.-]*$")] | None = None
    # The analytics event the service publishes each time it serves the pattern.
    emits: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")] | None = None

    def placeholders(self) -> list[str]:
        """The ``:name`` parameters of the key condition and filter, in order, unique."""
        seen: dict[str, None] = {}
        for text in (self.key_condition or "", self.filter or ""):
            for name in re.findall(r":([A-Za-z_][A-Za-z0-9_]*)", text):
                seen.setdefault(name, None)
        return list(seen)

    def http_route(self, name: str) -> str:
        return self.route or f"GET /queries/{name}"

    def path_params(self, name: str) -> list[str]:
        return re.findall(r"{([A-Za-z_][A-Za-z0-9_]*)}", self.http_route(name))


class Reference(Spec):
    """A cross-service ID reference ``store.table.column`` → ``store.table.column``."""

    source: Annotated[str, Field(alias="from", pattern=r"^[a-z0-9_-]+\.[a-z0-9_]+\.[a-z0-9_]+$")]
    target: Annotated[str, Field(alias="to", pattern=r"^[a-z0-9_-]+\.[a-z0-9_]+\.[a-z0-9_]+$")]
    via: str = "id"  # how the value travels: an event name, or "id" (plain ID string)

    @staticmethod
    def split(ref: str) -> tuple[str, str, str]:
        store, table, column = ref.split(".")
        return store, table, column


# ---------------------------------------------------------------------------- system


class System(Spec):
    """One company's data tier, read from ``stacks/<system>.yaml``."""

    system: Name
    description: str = ""
    services: dict[Name, Service]
    stores: dict[Name, Store]
    links: dict[Name, Link] = {}
    access_patterns: dict[Name, AccessPattern] = {}
    references: Seq[Reference] = ()

    # Filled by the loader, not by YAML: where the file is and the parsed migrations.
    _source: Path = PrivateAttr(default=Path("<memory>"))
    _schemas: dict[str, DatabaseSchema] = PrivateAttr(default_factory=dict)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("services")
    @classmethod
    def _at_least_one_service(cls, v: dict[str, Service]) -> dict[str, Service]:
        if not v:
            raise ValueError("a system needs at least one service")
        return v

    # -- accessors every face uses ---------------------------------------------------
    @property
    def name(self) -> str:
        return self.system

    @property
    def source(self) -> Path:
        return self._source

    def line_of(self, *loc: str | int) -> int:
        return self._lines.get(tuple(loc), 1)

    def declares(self, *loc: str | int) -> bool:
        """Is the key at ``loc`` written in the file (not left to its default)?"""
        return tuple(loc) in self._lines

    def schema(self, store: str) -> DatabaseSchema:
        """The schema the migrations of postgres store ``store`` define."""
        return self._schemas[store]

    def migrations_dir(self, store: str) -> Path:
        spec = self.stores[store]
        assert isinstance(spec, PostgresStore), f"{store} is not a postgres store"
        return (self._source.parent / spec.migrations).resolve()

    def stores_of(self, service: str) -> dict[str, Store]:
        return {n: s for n, s in self.stores.items() if s.owner == service}

    def stores_by_kind(self, kind: StoreKind) -> dict[str, Any]:
        return {n: s for n, s in self.stores.items() if s.kind == kind}

    def postgres_stores(self) -> dict[str, PostgresStore]:
        return self.stores_by_kind("postgres")

    def dynamodb_stores(self) -> dict[str, DynamoStore]:
        return self.stores_by_kind("dynamodb")

    def search_stores(self) -> dict[str, SearchStore]:
        return self.stores_by_kind("search")

    def topic_stores(self) -> dict[str, TopicStore]:
        return self.stores_by_kind("topic")

    def links_of_kind(self, kind: str) -> dict[str, Any]:
        return {n: link for n, link in self.links.items() if link.kind == kind}

    def cdc_links(self) -> dict[str, CdcLink]:
        return self.links_of_kind("cdc")

    def stream_links(self) -> dict[str, StreamToSearchLink]:
        return self.links_of_kind("stream-to-search")

    def consumed_topics(self, service: str) -> list[str]:
        """Topic stores a service reads as an event consumer (it owns none of them)."""
        out = [
            link.topic
            for link in self.links.values()
            if isinstance(link, EventLink) and service in link.consumers
        ]
        return sorted(set(out))

    def cdc_sources(self) -> set[str]:
        return {link.source for link in self.cdc_links().values()}

    def streamed_tables(self) -> set[str]:
        """DynamoDB stores whose stream a consumer reads."""
        return {link.source for link in self.stream_links().values()}


class Topology(BaseModel):
    """Every system in ``stacks/``, by name."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    systems: dict[str, System]
    root: Path

    def system(self, name: str) -> System:
        try:
            return self.systems[name]
        except KeyError:
            known = ", ".join(sorted(self.systems)) or "none"
            raise KeyError(f"no system {name!r} in {self.root} (known: {known})") from None

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[System]:
        if not names:
            return [self.systems[n] for n in sorted(self.systems)]
        return [self.system(n) for n in names]


def slug(text: str) -> str:
    """An identifier safe in env-var names: ``cards-index`` → ``CARDS_INDEX``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
