"""Cross-reference checks a schema cannot express, each reported at its ``file:line``.

Pydantic has already checked shapes and types; these check meaning: owners exist,
keys are declared, links connect the right kinds, every access pattern is served by a
key or index (not a scan), and no foreign key reaches another service's database.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from typing import Any

from polystore.topology import key_conditions as kc
from polystore.topology.errors import Problem
from polystore.topology.model import (
    AccessPattern,
    AnalyticsLink,
    CdcLink,
    DynamoStore,
    EventLink,
    PostgresStore,
    SearchStore,
    StreamToSearchLink,
    System,
    TopicStore,
)
from polystore.topology.schema_model import DatabaseSchema
from polystore.topology.yaml_source import LineMap

BUILTIN_ANALYZERS = {"standard", "simple", "whitespace", "keyword", "stop", "english"}
TEXT_TYPES = {"text"}
FILTER_TYPES = {"keyword", "integer", "long", "float", "double", "boolean", "date", "scaled_float"}


def check_system(system: System, lm: LineMap, schemas: dict[str, DatabaseSchema]) -> list[Problem]:
    problems: list[Problem] = []
    for loc, message in _all(system, schemas):
        problems.append(lm.problem(loc, message))
    return problems


def _all(
    system: System, schemas: dict[str, DatabaseSchema]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if system.source.stem != system.system:
        yield ("system",), f"system {system.system!r} must live in {system.system}.yaml"
    yield from _owners(system)
    for name, store in system.stores.items():
        if isinstance(store, DynamoStore):
            yield from _dynamo(name, store)
        elif isinstance(store, SearchStore):
            yield from _search(name, store)
    yield from _links(system, schemas)
    yield from _references(system, schemas)
    for name, ap in system.access_patterns.items():
        yield from _access(system, schemas, name, ap)


def _owners(system: System) -> Iterator[tuple[tuple[Any, ...], str]]:
    for name, store in system.stores.items():
        if store.owner not in system.services:
            yield (
                ("stores", name, "owner"),
                f"store {name!r} is owned by {store.owner!r}, which is not a service of "
                f"{system.system} (services: {', '.join(sorted(system.services))})",
            )
    for service in system.services:
        dbs = [n for n, s in system.stores.items() if s.owner == service and s.kind == "postgres"]
        for extra in dbs[1:]:
            yield (
                ("stores", extra, "owner"),
                f"service {service!r} already owns postgres store {dbs[0]!r}; a service owns "
                "at most one database (its PG* variables name one)",
            )
    for name in system.stores:
        if name in system.services:
            yield ("stores", name), f"store {name!r} has the same name as a service; rename one"


def _dynamo(name: str, t: DynamoStore) -> Iterator[tuple[tuple[Any, ...], str]]:
    base = ("stores", name)
    used: set[str] = set()

    def key(
        loc: tuple[Any, ...], attr: str | None, what: str
    ) -> Iterator[tuple[tuple[Any, ...], str]]:
        if attr is None:
            return
        used.add(attr)
        if attr not in t.attributes:
            yield loc, f"{what} {attr!r} is not in the attributes of table {t.table!r}"

    yield from key((*base, "key", "hash"), t.key.hash, "partition key")
    yield from key((*base, "key", "range"), t.key.range, "sort key")
    for g, gsi in t.global_indexes.items():
        yield from key((*base, "global_indexes", g, "hash"), gsi.hash, f"GSI {g} partition key")
        yield from key((*base, "global_indexes", g, "range"), gsi.range, f"GSI {g} sort key")
        if gsi.projection == "include" and not gsi.non_key_attributes:
            yield (
                (*base, "global_indexes", g),
                f"GSI {g} projects 'include' but lists no attributes",
            )
    if t.local_indexes and t.key.range is None:
        yield (*base, "local_indexes"), "local secondary indexes need a table with a sort key"
    for li, lsi in t.local_indexes.items():
        yield from key((*base, "local_indexes", li, "range"), lsi.range, f"LSI {li} sort key")
    if len(t.global_indexes) > 20:
        yield (*base, "global_indexes"), "DynamoDB allows at most 20 GSIs per table"
    if len(t.local_indexes) > 5:
        yield (*base, "local_indexes"), "DynamoDB allows at most 5 LSIs per table"
    typo = any(a not in t.attributes for a in used)
    for attr in t.attributes:
        # With an undeclared key attribute the unused one is most likely its typo'd twin:
        # report the root cause only.
        if attr not in used and not typo:
            yield (
                (*base, "attributes", attr),
                f"attribute {attr!r} is declared but no key or index uses it "
                "(DynamoDB rejects unused attribute definitions)",
            )
    if t.ttl and t.attributes.get(t.ttl) in ("S", "B"):
        yield (*base, "ttl"), f"TTL attribute {t.ttl!r} must hold a number (epoch seconds)"
    if t.billing == "provisioned" and t.capacity is None:
        yield (*base, "billing"), "provisioned billing needs 'capacity' (autoscaling bounds)"
    if t.billing == "on-demand" and t.capacity is not None:
        yield (*base, "capacity"), "'capacity' only applies to provisioned billing"
    key_attrs = {t.key.hash, t.key.range} - {None}
    for item_name, item in t.items.items():
        loc = (*base, "items", item_name)
        if set(item.key) != key_attrs:
            yield (
                (*loc, "key"),
                f"item {item_name!r} must give a template for exactly the key attributes "
                f"{sorted(a for a in key_attrs if a)}",
            )
        for attr, template in item.key.items():
            for ph in _placeholders(template):
                if ph not in item.fields:
                    yield (
                        (*loc, "key", attr),
                        f"placeholder {{{ph}}} is not a field of {item_name!r}",
                    )
        if t.ttl and t.ttl in item.fields and item.fields[t.ttl] != "epoch-seconds":
            yield (*loc, "fields", t.ttl), f"TTL field {t.ttl!r} must be epoch-seconds"


def _placeholders(template: str) -> list[str]:
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template)


def _search(name: str, s: SearchStore) -> Iterator[tuple[tuple[Any, ...], str]]:
    analysis = s.settings.get("analysis", {}) if isinstance(s.settings, dict) else {}
    defined = set(analysis.get("analyzer", {})) | BUILTIN_ANALYZERS
    for path, f in s.field_paths().items():
        for which in ("analyzer", "search_analyzer"):
            a = getattr(f, which)
            if a is not None and a not in defined:
                yield (
                    ("stores", name, "mappings", "properties", *path.split(".")),
                    f"field {path!r} uses {which} {a!r}, which settings.analysis does not define",
                )
            if a is not None and f.type != "text":
                yield (
                    ("stores", name, "mappings", "properties", *path.split(".")),
                    f"field {path!r}: analyzers apply only to text fields, not {f.type}",
                )


def edge_ngram_analyzers(s: SearchStore) -> set[str]:
    """Analyzers whose tokenizer or a filter is edge_ngram (they give prefix matches)."""
    analysis = s.settings.get("analysis", {})
    tokenizers = {
        n for n, t in analysis.get("tokenizer", {}).items() if t.get("type") == "edge_ngram"
    }
    filters = {n for n, f in analysis.get("filter", {}).items() if f.get("type") == "edge_ngram"}
    out = set()
    for n, a in analysis.get("analyzer", {}).items():
        if a.get("tokenizer") in tokenizers or set(a.get("filter", [])) & filters:
            out.add(n)
    return out


def _links(
    system: System, schemas: dict[str, DatabaseSchema]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    fed: set[str] = set()

    def store(loc: tuple[Any, ...], name: str, kind: type, what: str) -> Any:
        spec = system.stores.get(name)
        if spec is None:
            return f"{what} {name!r} is not a store of {system.system}"
        if not isinstance(spec, kind):
            return f"{what} {name!r} is a {spec.kind} store; it must be {kind.__name__}"
        return spec

    for lname, link in system.links.items():
        base = ("links", lname)
        if isinstance(link, StreamToSearchLink):
            src = store((*base, "source"), link.source, DynamoStore, "source")
            if isinstance(src, str):
                yield (*base, "source"), src
            elif src.stream is None:
                yield (
                    (*base, "source"),
                    f"link {lname!r} reads the stream of {link.source!r}, which has no stream "
                    "(set stream: new-and-old-images)",
                )
            elif src.stream in ("keys-only", "old-image"):
                yield (
                    (*base, "source"),
                    f"link {lname!r} needs new images, but {link.source!r} streams {src.stream}",
                )
            dst = store((*base, "target"), link.target, SearchStore, "target")
            if isinstance(dst, str):
                yield (*base, "target"), dst
            else:
                fed.add(link.target)
                mapped = set(dst.mappings.properties)
                for f in link.fields:
                    if f not in mapped:
                        yield (
                            (*base, "fields"),
                            f"field {f!r} is not in the mappings of {link.target!r}",
                        )
        elif isinstance(link, CdcLink):
            src = store((*base, "source"), link.source, PostgresStore, "source")
            if isinstance(src, str):
                yield (*base, "source"), src
            else:
                if not src.logical_replication:
                    yield (
                        (*base, "source"),
                        f"CDC link {lname!r} reads the WAL of {link.source!r}, which does not "
                        "enable logical_replication",
                    )
                schema = schemas.get(link.source)
                for i, table in enumerate(link.tables):
                    if schema is not None and table not in schema.tables:
                        yield (
                            (*base, "tables", i),
                            f"table {table!r} is not in the migrations of {link.source!r}",
                        )
            topic = store((*base, "topic"), link.topic, TopicStore, "topic")
            if isinstance(topic, str):
                yield (*base, "topic"), topic
            elif not isinstance(src, str) and topic.owner != src.owner:
                yield (
                    (*base, "topic"),
                    f"CDC topic {link.topic!r} must be owned by {src.owner!r}, the source's owner",
                )
            dst = store((*base, "target"), link.target, DynamoStore, "target")
            if isinstance(dst, str):
                yield (*base, "target"), dst
        elif isinstance(link, EventLink | AnalyticsLink):
            if link.producer not in system.services:
                yield (*base, "producer"), f"producer {link.producer!r} is not a service"
            topic = store((*base, "topic"), link.topic, TopicStore, "topic")
            if isinstance(topic, str):
                yield (*base, "topic"), topic
            elif topic.owner != link.producer:
                yield (
                    (*base, "topic"),
                    f"{link.producer!r} publishes on {link.topic!r}, which {topic.owner!r} owns; "
                    "a service publishes only on its own topics",
                )
            if isinstance(link, EventLink):
                for i, c in enumerate(link.consumers):
                    if c not in system.services:
                        yield (*base, "consumers", i), f"consumer {c!r} is not a service"
                    elif c == link.producer:
                        yield (*base, "consumers", i), f"{c!r} cannot consume its own event"
    for name in system.search_stores():
        if name not in fed:
            yield (
                ("stores", name),
                f"search store {name!r} has no source: add a stream-to-search link from a "
                "dynamodb store",
            )


def foreign_key_problems(system: System, schemas: dict[str, DatabaseSchema]) -> list[Problem]:
    """Foreign keys to tables outside their own database: cross-service, never allowed."""
    owners: dict[str, list[str]] = {}
    for store, schema in schemas.items():
        for t in schema.tables:
            owners.setdefault(t, []).append(store)
    out: list[Problem] = []
    for store, schema in schemas.items():
        for fk in schema.foreign_keys:
            if fk.ref_table in schema.tables:
                continue
            elsewhere = [s for s in owners.get(fk.ref_table, []) if s != store]
            if elsewhere:
                other = system.stores[elsewhere[0]]
                why = (
                    f"foreign key {fk.table}({', '.join(fk.columns)}) references "
                    f"{fk.ref_table}, a table of {elsewhere[0]!r} owned by service "
                    f"{other.owner!r}: reference other services by ID, never by foreign key"
                )
            else:
                why = (
                    f"foreign key {fk.table}({', '.join(fk.columns)}) references "
                    f"{fk.ref_table}, which no migration of {store!r} creates"
                )
            out.append(Problem(fk.location.path, fk.location.line, why))
    return out


def _references(
    system: System, schemas: dict[str, DatabaseSchema]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    for i, ref in enumerate(system.references):
        ends = []
        for which, text in (("from", ref.source), ("to", ref.target)):
            store, table, column = ref.split(text)
            spec = system.stores.get(store)
            loc = ("references", i, which)
            if not isinstance(spec, PostgresStore):
                yield (
                    loc,
                    f"reference {text!r}: {store!r} is not a postgres store of {system.system}",
                )
                continue
            schema = schemas.get(store)
            if schema is not None:
                if table not in schema.tables:
                    yield loc, f"reference {text!r}: no table {table!r} in {store!r}"
                    continue
                if column not in schema.tables[table].columns:
                    yield loc, f"reference {text!r}: no column {column!r} in {store}.{table}"
            ends.append(spec.owner)
        if len(ends) == 2 and ends[0] == ends[1]:
            yield (
                ("references", i),
                f"reference {ref.source} -> {ref.target} stays inside service {ends[0]!r}: "
                "use a foreign key there, references are for crossing services",
            )


def _access(
    system: System, schemas: dict[str, DatabaseSchema], name: str, ap: AccessPattern
) -> Iterator[tuple[tuple[Any, ...], str]]:
    base = ("access_patterns", name)
    spec = system.stores.get(ap.store)
    if spec is None:
        yield (*base, "store"), f"access pattern {name!r} reads {ap.store!r}, which is not a store"
        return
    if ap.then is not None and ap.then not in system.access_patterns:
        yield (*base, "then"), f"'then' names {ap.then!r}, which is not an access pattern"
    yield from _served_over_http(system, name, ap, spec.owner, base)
    if isinstance(spec, DynamoStore):
        yield from _access_dynamo(name, ap, spec, base)
    elif isinstance(spec, PostgresStore):
        yield from _access_postgres(name, ap, schemas.get(ap.store), base)
    elif isinstance(spec, SearchStore):
        yield from _access_search(name, ap, spec, base)
    else:
        yield (*base, "store"), f"topics are not read by access patterns (store {ap.store!r})"


def _served_over_http(
    system: System, name: str, ap: AccessPattern, owner: str, base: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """The route's path parameters exist; two patterns never claim the same request."""
    params = set(ap.placeholders())
    if ap.operation == "search":
        params |= {"q"}
    for p in ap.path_params(name):
        if p not in params:
            yield (*base, "route"), f"route parameter {{{p}}} is not a :{p} of the key condition"
    for other_name, other in system.access_patterns.items():
        if other_name >= name or other.http_route(other_name) != ap.http_route(name):
            continue
        other_store = system.stores.get(other.store)
        if other_store is None or other_store.owner != owner:
            continue  # another service: its own HTTP server
        if set(other.placeholders()) == set(ap.placeholders()):
            yield (*base, "route"), (f"route {ap.http_route(name)!r} with parameters "
                                     f"{sorted(params)} is also {other_name!r}: a request "
                                     "could not tell them apart")  # fmt: skip
    if ap.emits is not None:
        produced = {e for link in system.links.values() if isinstance(link, AnalyticsLink)
                    and link.producer == owner for e in link.events}  # fmt: skip
        if ap.emits not in produced:
            yield (*base, "emits"), (f"{ap.emits} is not an analytics event {owner!r} "
                                     "produces (declare it in an analytics link)")  # fmt: skip


def _key_terms(
    name: str, ap: AccessPattern, base: tuple[Any, ...]
) -> Generator[tuple[tuple[Any, ...], str], None, list[kc.Term] | None]:
    """Yield why the key condition is missing or malformed; return its terms if it parses."""
    if not ap.key_condition and ap.operation == "select" and ap.limit:
        return []  # a paged listing in primary-key order: a bounded index read, not a scan
    if not ap.key_condition:
        yield (
            (*base, "key_condition"),
            f"access pattern {name!r} has no key_condition: it would be a scan",
        )
        return None
    try:
        return kc.parse(ap.key_condition)
    except kc.ConditionSyntaxError as exc:
        yield (*base, "key_condition"), str(exc)
        return None


def _access_dynamo(
    name: str, ap: AccessPattern, t: DynamoStore, base: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if ap.operation not in ("get", "query", "batch-get"):
        yield (
            (*base, "operation"),
            f"a dynamodb store is read with get, query or batch-get, not {ap.operation}",
        )
        return
    keys = t.index_keys(ap.index)
    if keys is None:
        yield (*base, "index"), f"table {t.table!r} has no index {ap.index!r}"
        return
    if any(k is not None and k not in t.attributes for k in keys):
        return  # the undeclared key attribute is reported on the store itself
    if ap.index is not None and ap.operation != "query":
        yield (
            (*base, "operation"),
            f"an index ({ap.index}) can only be queried, not read with {ap.operation}",
        )
    terms = yield from _key_terms(name, ap, base)
    if terms is None:
        return
    where = f"index {ap.index}" if ap.index else f"the key of {t.table}"
    why = kc.dynamodb_served(terms, *keys)
    if why:
        yield (
            (*base, "key_condition"),
            f"{where} does not serve {ap.key_condition!r}: {why} (it would be a scan)",
        )
    elif ap.operation in ("get", "batch-get"):
        fixed = {term.attribute for term in terms if term.op == "="}
        if keys[1] is not None and keys[1] not in fixed:
            yield (
                (*base, "key_condition"),
                f"a {ap.operation} needs '=' on both {keys[0]!r} and {keys[1]!r}",
            )


def _access_postgres(
    name: str, ap: AccessPattern, schema: DatabaseSchema | None, base: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if ap.operation != "select":
        yield (*base, "operation"), f"a postgres store is read with select, not {ap.operation}"
        return
    if ap.table is None:
        yield (*base, "table"), f"access pattern {name!r} must name its table"
        return
    if schema is None:
        return  # the store's migrations failed to load; that error is already reported
    table = schema.tables.get(ap.table)
    if table is None:
        yield (*base, "table"), f"no table {ap.table!r} in the migrations of {ap.store!r}"
        return
    for i, j in enumerate(ap.joins):
        if j not in schema.tables:
            yield (
                (*base, "joins", i),
                f"joined table {j!r} is not in {ap.store!r}; no cross-service joins",
            )
    terms = yield from _key_terms(name, ap, base)
    if terms is None:
        return
    for term in terms:
        if term.attribute not in table.columns:
            yield (
                (*base, "key_condition"),
                f"column {term.attribute!r} is not in table {ap.table!r}",
            )
            return
    if ap.index in (None, "primary key"):
        cols, where, label = table.primary_key, None, f"the primary key of {ap.table}"
        if not cols:
            yield (*base, "index"), f"table {ap.table!r} has no primary key"
            return
    else:
        idx = schema.indexes.get(ap.index)
        if idx is None:
            yield (*base, "index"), f"no index {ap.index!r} in the migrations of {ap.store!r}"
            return
        if idx.table != ap.table:
            yield (*base, "index"), f"index {ap.index!r} is on {idx.table!r}, not {ap.table!r}"
            return
        cols, where, label = idx.columns, idx.where, f"index {ap.index}"
    why = kc.columns_served(terms, cols, where)
    if why:
        yield (
            (*base, "key_condition"),
            f"{label} does not serve {ap.key_condition!r}: {why} (it would be a scan)",
        )


def _access_search(
    name: str, ap: AccessPattern, s: SearchStore, base: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if ap.operation != "search":
        yield (*base, "operation"), f"a search store is read with search, not {ap.operation}"
        return
    fields = s.field_paths()
    if not ap.text_fields:
        yield (*base, "text_fields"), "a search access pattern names the text fields it matches"
    for i, f in enumerate(ap.text_fields):
        spec = fields.get(f.split("^")[0])
        if spec is None or spec.type not in TEXT_TYPES:
            yield (*base, "text_fields", i), f"{f!r} is not a text field of index {s.index!r}"
    for i, f in enumerate(ap.filter_fields):
        spec = fields.get(f)
        if spec is None or spec.type not in FILTER_TYPES:
            yield (
                (*base, "filter_fields", i),
                f"{f!r} is not a keyword/numeric field of index {s.index!r}",
            )
    if ap.partial:
        ngram = edge_ngram_analyzers(s)
        # Only the fields the query names count: a prefix sub-field it never queries
        # gives no partial matches.
        ok = any(
            fields[f.split("^")[0]].analyzer in ngram
            for f in ap.text_fields
            if f.split("^")[0] in fields
        )
        if not ok:
            yield (
                (*base, "partial"),
                "partial matching needs an edge_ngram analyzer on one of the text fields",
            )
