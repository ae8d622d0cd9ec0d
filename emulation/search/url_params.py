"""URL parameters: which each API accepts, and what happens to the others.

OpenSearch answers 400 ``illegal_argument_exception`` "request [path] contains
unrecognized parameter: [x]" for a parameter its API does not know; so does this engine.
A parameter OpenSearch knows but this engine does not honour is refused by name as
unsupported, unless ignoring it cannot change the answer (a timeout, a shard preference
on a one-shard index, ``wait_for_active_shards`` on a one-node cluster); those are
simply accepted.
"""

from __future__ import annotations

from emulation.search.errors import SearchError, unsupported

# Accepted everywhere by OpenSearch's REST layer.
_GLOBAL = frozenset(
    {"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"}
)
_SEARCH = frozenset(
    {
        "allow_no_indices",
        "allow_partial_search_results",
        "analyzer",
        "analyze_wildcard",
        "batched_reduce_size",
        "ccs_minimize_roundtrips",
        "default_operator",
        "df",
        "docvalue_fields",
        "expand_wildcards",
        "explain",
        "from",
        "ignore_throttled",
        "ignore_unavailable",
        "lenient",
        "max_concurrent_shard_requests",
        "pre_filter_shard_size",
        "preference",
        "q",
        "request_cache",
        "rest_total_hits_as_int",
        "routing",
        "scroll",
        "search_type",
        "seq_no_primary_term",
        "size",
        "sort",
        "_source",
        "_source_excludes",
        "_source_includes",
        "stats",
        "stored_fields",
        "suggest_field",
        "suggest_mode",
        "suggest_size",
        "suggest_text",
        "terminate_after",
        "timeout",
        "track_scores",
        "track_total_hits",
        "typed_keys",
        "version",
        "cancel_after_time_interval",
        "search_pipeline",
        "phase_took",
        "include_named_queries_score",
    }
)
_INDICES = frozenset({"ignore_unavailable", "allow_no_indices", "expand_wildcards"})
_MASTER = frozenset({"master_timeout", "cluster_manager_timeout", "timeout"})
_SOURCE = frozenset({"_source", "_source_excludes", "_source_includes"})
_WRITE = frozenset({"wait_for_active_shards", "refresh", "routing", "timeout"})
_BY_QUERY = (_SEARCH - {"scroll", "rest_total_hits_as_int", "typed_keys"}) | {
    "conflicts",
    "max_docs",
    "refresh",
    "scroll",
    "scroll_size",
    "search_timeout",
    "slices",
    "requests_per_second",
    "wait_for_active_shards",
    "wait_for_completion",
}
ACCEPTED: dict[str, frozenset[str]] = {
    "info": frozenset(),
    "cluster.health": frozenset(
        {
            "expand_wildcards",
            "level",
            "local",
            "wait_for_active_shards",
            "wait_for_nodes",
            "wait_for_events",
            "wait_for_no_relocating_shards",
            "wait_for_no_initializing_shards",
            "wait_for_status",
            "awareness_attribute",
        }
        | _MASTER
    ),
    "search": _SEARCH,
    "count": frozenset(
        {"min_score", "preference", "routing", "q", "analyzer", "analyze_wildcard"}
        | {"default_operator", "df", "lenient", "terminate_after", "ignore_throttled"}
        | _INDICES
    ),
    "msearch": frozenset(
        {"search_type", "max_concurrent_searches", "typed_keys", "pre_filter_shard_size"}
        | {"max_concurrent_shard_requests", "rest_total_hits_as_int", "ccs_minimize_roundtrips"}
    ),
    "scroll": frozenset({"scroll", "scroll_id", "rest_total_hits_as_int"}),
    "clear_scroll": frozenset(),
    "pit": frozenset({"keep_alive", "preference", "routing", "allow_partial_pit_creation"})
    | _INDICES,
    "index": _WRITE
    | {"op_type", "version", "version_type", "if_seq_no", "if_primary_term", "pipeline"}
    | {"require_alias"},
    "get": _SOURCE
    | {"stored_fields", "preference", "realtime", "refresh", "routing", "version", "version_type"},
    "delete": _WRITE | {"if_seq_no", "if_primary_term", "version", "version_type"},
    "update": _WRITE
    | _SOURCE
    | {"lang", "retry_on_conflict", "if_seq_no", "if_primary_term", "require_alias"},
    "bulk": _WRITE | _SOURCE | {"type", "pipeline", "require_alias", "batch_size"},
    "mget": _SOURCE | {"stored_fields", "preference", "realtime", "refresh", "routing"},
    "delete_by_query": _BY_QUERY,
    "update_by_query": _BY_QUERY | {"version_type", "pipeline"},
    "indices.create": _MASTER | {"wait_for_active_shards", "include_type_name"},
    "indices.delete": _MASTER | _INDICES,
    "indices.get": _INDICES
    | {"local", "flat_settings", "include_defaults", "master_timeout", "cluster_manager_timeout"},
    "indices.get_mapping": _INDICES | {"local", "master_timeout", "cluster_manager_timeout"},
    "indices.put_mapping": _MASTER | _INDICES | {"write_index_only"},
    "indices.get_settings": _INDICES
    | {"local", "flat_settings", "include_defaults", "master_timeout", "cluster_manager_timeout"},
    "indices.put_settings": _MASTER | _INDICES | {"preserve_existing", "flat_settings"},
    "indices.refresh": _INDICES,
    "indices.aliases": _MASTER,
    "indices.get_alias": _INDICES | {"local"},
}
# Known to OpenSearch for these APIs, not implemented here: refused by name.
_NOT_HONOURED = frozenset(
    {
        "analyzer",
        "analyze_wildcard",
        "default_operator",
        "df",
        "lenient",
        "stats",
        "suggest_field",
        "suggest_mode",
        "suggest_size",
        "suggest_text",
        "terminate_after",
        "pipeline",
        "search_pipeline",
        "cancel_after_time_interval",
        "phase_took",
        "include_named_queries_score",
        "lang",
        "type",
        "batch_size",
        "allow_partial_pit_creation",
        "q",
        "filter_path",
        "source",
        "source_content_type",
    }
)


def check(api: str | None, path: str, params: dict[str, str]) -> None:
    """Refuse unrecognised parameters (as OpenSearch) and unsupported known ones."""
    if api is None or not params:
        return
    accepted = ACCEPTED.get(api, frozenset())
    unknown = sorted(p for p in params if p not in accepted and p not in _GLOBAL)
    if unknown:
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise SearchError(
            400,
            "illegal_argument_exception",
            f"request [{path}] contains unrecognized {noun}: "
            + ", ".join(f"[{p}]" for p in unknown),
        )
    for name in sorted(params):
        if name in _NOT_HONOURED:
            raise unsupported(f"URL parameter [{name}] of [{api}]")
