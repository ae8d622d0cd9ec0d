"""Search access patterns: match the declared fields, then fetch the full items.

Seed 000's flow: the index answers with ids (``_source: false``), and the pattern's
``then`` (a batch-get on the source table) returns the items themselves, so search
results are never staler than the table for anything but membership.
"""

from __future__ import annotations

from typing import Any

from polystore.topology.model import DynamoStore, SearchStore
from services.errors import BadParameter
from services.patterns import Context, Page
from services.patterns.dynamodb import batch_get, to_attr

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def query_body(ap: Any, store: SearchStore, text: str, filters: dict[str, str], size: int,
               offset: int) -> dict[str, Any]:  # fmt: skip
    should: list[dict[str, Any]] = [{"multi_match": {
        "query": text, "fields": list(ap.text_fields),
        **({"fuzziness": "AUTO"} if ap.fuzzy else {})}}]  # fmt: skip
    if ap.partial:
        fields = store.field_paths()
        for f in ap.text_fields:
            base = f.split("^")[0]
            for sub in fields:
                if sub.startswith(base + ".") and fields[sub].analyzer:
                    should.append({"match": {sub: {"query": text}}})
    body: dict[str, Any] = {
        "size": size, "from": offset, "_source": False,
        "query": {"bool": {"should": should, "minimum_should_match": 1,
                           "filter": [{"term": {f: v}} for f, v in sorted(filters.items())]}},
    }  # fmt: skip
    return body


def run(ctx: Context, name: str, params: dict[str, str], cursor: str | None,
        limit: int | None) -> Page:  # fmt: skip
    from services import cursor as cursors

    system = ctx.config.system
    ap = system.access_patterns[name]
    store = system.stores[ap.store]
    assert isinstance(store, SearchStore)
    text = params.get("q", "").strip()
    if not text:
        raise BadParameter("q: the text to search for is required", "q")
    filters = {f: params[f] for f in ap.filter_fields if params.get(f)}
    size = min(limit or ap.limit or DEFAULT_LIMIT, MAX_LIMIT)
    offset = int(cursors.decode(name, cursor) or 0)
    res = ctx.clients.search().search(ctx.config.physical(ap.store),
                                      query_body(ap, store, text, filters, size, offset))
    ids = [h["_id"] for h in res["hits"]["hits"]]
    total = res["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else total
    nxt = cursors.encode(name, offset + size) if offset + size < total and ids else None
    if ap.then is None:
        return Page([{"id": i} for i in ids], nxt, {"total": total})
    then = system.access_patterns[ap.then]
    source = system.stores[then.store]
    assert isinstance(source, DynamoStore)
    keys = [{source.key.hash: to_attr(source.attributes[source.key.hash], "id", i)}
            for i in ids]  # fmt: skip
    items = batch_get(ctx, then.store, keys) if keys else []
    return Page(items, nxt, {"total": total})
