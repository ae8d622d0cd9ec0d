"""Index aliases: the alias table, the ``_aliases`` actions (applied atomically) and the
write index of an alias.

The table maps an alias to the indices it points at and each pointer's options
(``{"alias": {"index": {"is_write_index": true}}}``). ``POST /_aliases`` applies its
actions to a copy and swaps it in only when every action succeeded, so a reindex can move
an alias from the old index to the new one with no moment where it points at neither (or
at a half-applied state).

Order of the actions, as OpenSearch's ``MetadataIndexAliasesService`` applies them:
every ``remove_index`` first (so an index can be replaced by an alias of its own name in
one request: the legacy upgrade of a stack created before aliases), then ``add`` and
``remove`` in request order against the table that results. Index expressions in actions
name indices only (OpenSearch resolves them with ``ignoreAliases``): an alias there is an
error. Routing aliases are kept (``index_routing`` applies to single-document requests
through the alias; ``search_routing`` only on single-shard indices, where it changes
nothing). A filtered alias's filter applies to searches through it (:func:`filter_of`).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from emulation.search.errors import SearchError, index_not_found, unsupported

AliasTable = dict[str, dict[str, dict[str, Any]]]
# Options of an alias pointer this engine keeps (``routing`` sets both routings).
_KEPT_OPTIONS = frozenset(
    {"is_write_index", "is_hidden", "index_routing", "search_routing", "filter"}
)
_ROUTING = frozenset({"routing", "index_routing", "search_routing"})
_FLAGS = frozenset({"is_write_index", "is_hidden"})
_TARGETS = frozenset({"index", "indices", "alias", "aliases"})
# The fields each action's parser declares (OpenSearch ``IndicesAliasesRequest``).
_ACTION_FIELDS = {
    "add": _TARGETS | _KEPT_OPTIONS | _ROUTING,
    "remove": _TARGETS | {"must_exist"},
    "remove_index": frozenset({"index", "indices", "must_exist"}),
}
_JAVA_TYPE = {"add": "ADD", "remove": "REMOVE", "remove_index": "REMOVE_INDEX"}


def load(path: Path) -> AliasTable:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    # Engines before alias options stored ``alias -> [index, ...]``.
    return {a: ({key: {} for key in t} if isinstance(t, list) else t) for a, t in raw.items()}


def save(path: Path, table: AliasTable) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table))
    tmp.replace(path)


def options(alias: str, conf: Any) -> dict[str, Any]:
    """The kept options of one alias pointer (create-index ``aliases`` or an action):
    ``routing`` becomes ``index_routing`` and ``search_routing`` unless those are given,
    numbers become strings (OpenSearch's ``20_routing.yml``)."""
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise SearchError(
            400, "parse_exception", f"[aliases] failed to parse alias [{alias}]: expected an object"
        )
    unknown = sorted(set(conf) - _KEPT_OPTIONS - _ROUTING)
    if unknown:
        raise SearchError(
            400, "illegal_argument_exception", f"unknown field [{unknown[0]}] for alias [{alias}]"
        )
    out: dict[str, Any] = {}
    for key in _FLAGS & set(conf):
        if conf[key] is not None and not isinstance(conf[key], bool):
            raise SearchError(
                400, "illegal_argument_exception", f"[{key}] of alias [{alias}] must be a boolean"
            )
        if conf[key] is not None:
            out[key] = conf[key]
    for key in ("index_routing", "search_routing"):
        value = conf.get(key, conf.get("routing"))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SearchError(
                400, "illegal_argument_exception", f"[{key}] of alias [{alias}] must be a string"
            )
        out[key] = str(value)
    if conf.get("filter"):
        if not isinstance(conf["filter"], dict):
            raise SearchError(
                400, "illegal_argument_exception", f"failed to parse filter for alias [{alias}]"
            )
        out["filter"] = conf["filter"]
    if "," in out.get("index_routing", ""):
        raise SearchError(
            400,
            "illegal_argument_exception",
            f"alias [{alias}] has several index routing values associated with it",
        )
    return out


def index_routing(table: AliasTable, name: str, index: str, routing: str | None) -> str | None:
    """The routing of a single-document request through ``name`` to ``index``: an alias's
    ``index_routing`` when it has one (a different routing in the request is refused)."""
    fixed = table.get(name, {}).get(index, {}).get("index_routing")
    if fixed is None:
        return routing
    if routing is not None and routing != fixed:
        raise SearchError(
            400,
            "illegal_argument_exception",
            f"Alias [{name}] has index routing associated with it [{fixed}], and was provided "
            f"with routing value [{routing}], rejecting operation",
        )
    return str(fixed)


_INVALID_CHARS = frozenset('\\/*?"<>| ,#:')


def validate_alias_name(alias: str, indices: Iterable[str]) -> None:
    """OpenSearch's ``validateIndexOrAliasName``, then no index of the same name."""

    def invalid(why: str) -> SearchError:
        return SearchError(
            400, "invalid_alias_name_exception", f"Invalid alias name [{alias}]: {why}"
        )

    if not alias:
        raise SearchError(400, "illegal_argument_exception", "alias name is required")
    if alias != alias.lower():
        raise invalid("must be lowercase")
    if alias.startswith(("_", "-", "+")):
        raise invalid("must not start with '_', '-', or '+'")
    if any(c in _INVALID_CHARS for c in alias):
        raise invalid('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]')
    if alias in indices:
        # InvalidAliasNameException(index, name, description) joins with ", ", not ": ".
        raise SearchError(
            400,
            "invalid_alias_name_exception",
            f"Invalid alias name [{alias}], an index or data stream exists with "
            "the same name as the alias",
            index=alias,
        )


def add(table: AliasTable, indices: Iterable[str], index: str, alias: str, opts: dict) -> None:
    validate_alias_name(alias, indices)
    table.setdefault(alias, {})[index] = dict(opts)


def check_write_indices(table: AliasTable) -> None:
    """At most one write index per alias, checked on the final state of a request (a
    request may move the flag: ``is_write_index: false`` on one, ``true`` on another)."""
    for alias, targets in table.items():
        flagged = [i for i, o in targets.items() if o.get("is_write_index")]
        if len(flagged) > 1:
            raise SearchError(
                500,
                "illegal_state_exception",
                f"alias [{alias}] has more than one write index [{','.join(sorted(flagged))}]",
            )


def aliases_missing(names: list[str]) -> SearchError:
    joined = ",".join(names)
    return SearchError(
        404,
        "aliases_not_found_exception",
        f"aliases [{joined}] missing",
        **{"resource.type": "aliases", "resource.id": joined},
    )


def remove(
    table: AliasTable, indices: list[str], exprs: list[str], must_exist: bool | None
) -> None:
    """Remove the aliases ``exprs`` (wildcards allowed) from ``indices``.

    OpenSearch 3 semantics: with ``must_exist: true`` every named alias must be on the
    indices; with it unset the action must remove at least one; ``false`` removes what
    exists and says nothing.
    """
    removed: list[tuple[str, str]] = []
    missing: list[str] = []
    for expr in exprs:
        hits = [
            (a, i) for a in table if fnmatch.fnmatchcase(a, expr) for i in indices if i in table[a]
        ]
        if not hits:
            missing.append(expr)
        removed += hits
    if (must_exist is True and missing) or (must_exist is None and not removed):
        raise aliases_missing(missing)
    for alias, index in removed:
        if alias in table:
            table[alias].pop(index, None)
            if not table[alias]:
                del table[alias]


def _field_error(kind: str, field: str, reason: str) -> SearchError:
    """An action field the action's parser refuses (ObjectParser wraps the cause)."""
    return SearchError(
        400,
        "x_content_parse_exception",
        f"[{kind}] failed to parse field [{field}]",
        caused_by={"type": "illegal_argument_exception", "reason": reason},
    )


def _names(kind: str, conf: dict[str, Any], one: str, many: str) -> list[str] | None:
    if one in conf and many in conf:
        raise _field_error(kind, many, f"Only one of [{one}] and [{many}] is supported")
    if one in conf:
        value = conf[one]
        if not isinstance(value, str) or not value:
            raise _field_error(kind, one, f"[{one}] can't be empty string")
        return [value]
    if many in conf:
        value = conf[many]
        values = value if isinstance(value, list) else [value]
        if not values:
            raise _field_error(kind, many, f"[{many}] can't be empty")
        if any(not isinstance(v, str) or not v for v in values):
            raise _field_error(kind, many, f"[{many}] can't contain empty string")
        return [str(v) for v in values]
    return None


def resolve_indices(expr: str, indices: Iterable[str], table: AliasTable) -> list[str]:
    """Concrete indices of an action's index expression (aliases are not resolved)."""
    names = sorted(indices)
    out: list[str] = []
    for part in [p.strip() for p in expr.split(",") if p.strip()]:
        if part in ("_all", "*"):
            out += names
        elif "*" in part:
            matched = [n for n in names if fnmatch.fnmatchcase(n, part)]
            if not matched:
                raise index_not_found(part)
            out += matched
        elif part in names:
            out.append(part)
        elif part in table:
            raise SearchError(
                400,
                "illegal_argument_exception",
                f"The provided expression [{part}] matches an alias, specify the corresponding "
                "concrete indices instead.",
            )
        else:
            raise index_not_found(part)
    return list(dict.fromkeys(out))


def _parse(action: Any) -> tuple[str, dict[str, Any], list[str], list[str] | None]:
    """(kind, conf, index expressions, alias names) of one action, validated."""
    if not isinstance(action, dict) or len(action) != 1:
        raise SearchError(
            400,
            "illegal_argument_exception",
            "Too many operations declared on operation entry"
            if isinstance(action, dict) and action
            else "[alias_action] no action declared",
        )
    kind, conf = next(iter(action.items()))
    if kind not in _ACTION_FIELDS:
        raise SearchError(
            400, "x_content_parse_exception", f"[alias_action] unknown field [{kind}]"
        )
    if not isinstance(conf, dict):
        raise SearchError(400, "x_content_parse_exception", f"[{kind}] expected an object")
    known = set().union(*_ACTION_FIELDS.values())
    for key in conf:
        if key not in known:
            raise SearchError(400, "x_content_parse_exception", f"[{kind}] unknown field [{key}]")
        if key not in _ACTION_FIELDS[kind]:
            raise _field_error(kind, key, f"[{key}] is unsupported for [{_JAVA_TYPE[kind]}]")
    if conf.get("must_exist") is not None and not isinstance(conf["must_exist"], bool):
        raise _field_error(kind, "must_exist", "[must_exist] must be a boolean")
    exprs = _names(kind, conf, "index", "indices")
    if exprs is None:
        raise SearchError(
            400, "illegal_argument_exception", "One of [index] or [indices] is required"
        )
    aliases = _names(kind, conf, "alias", "aliases")
    if kind != "remove_index" and aliases is None:
        raise SearchError(
            400, "illegal_argument_exception", "One of [alias] or [aliases] is required"
        )
    return kind, conf, exprs, aliases


def apply_actions(
    table: AliasTable,
    indices: Iterable[str],
    actions: Any,
    shards: Callable[[str], int] = lambda _: 1,
    check_filter: Callable[[str, str, dict], None] = lambda *_: None,
) -> tuple[AliasTable, list[str]]:
    """The alias table after ``actions`` and the indices ``remove_index`` deletes.

    Works on a copy: the caller swaps it in (and drops the indices) only if no action
    raised.
    """
    if actions is None or (isinstance(actions, list) and not actions):
        raise SearchError(400, "illegal_argument_exception", "No action specified")
    if not isinstance(actions, list):
        raise SearchError(400, "x_content_parse_exception", "[aliases] [actions] must be an array")
    parsed = [_parse(a) for a in actions]
    live = set(indices)
    new: AliasTable = {a: {i: dict(o) for i, o in t.items()} for a, t in table.items()}
    # Pass 1: remove_index, before any other action (resolved against the indices as
    # they are before the request).
    dropped: list[str] = []
    for kind, _conf, exprs, _aliases in parsed:
        if kind == "remove_index":
            for expr in exprs:
                dropped += [n for n in resolve_indices(expr, live, new) if n not in dropped]
    live -= set(dropped)
    for alias in list(new):
        for name in dropped:
            new[alias].pop(name, None)
        if not new[alias]:
            del new[alias]
    # Pass 2: add and remove in request order, against the table that pass 1 left.
    for kind, conf, exprs, alias_names in parsed:
        if kind == "remove_index":
            continue
        assert alias_names is not None
        targets = [n for expr in exprs for n in resolve_indices(expr, live, new)]
        if kind == "add":
            for alias in alias_names:
                pointer = {k: v for k, v in conf.items() if k in _KEPT_OPTIONS | _ROUTING}
                opts = options(alias, pointer)
                for name in targets:
                    if "filter" in opts:
                        check_filter(name, alias, opts["filter"])
                    if "search_routing" in opts and shards(name) > 1:
                        raise unsupported(
                            f"search routing of alias [{alias}] on index [{name}] with several "
                            "shards"
                        )
                    add(new, live, name, alias, opts)
        else:
            remove(new, targets, alias_names, conf.get("must_exist"))
    check_write_indices(new)
    return new, dropped


def write_index(table: AliasTable, alias: str) -> str:
    """The one index writes through ``alias`` go to (OpenSearch's rule)."""
    targets = table[alias]
    flagged = [i for i, o in targets.items() if o.get("is_write_index")]
    if flagged:
        return flagged[0]
    if len(targets) == 1:
        only, opts = next(iter(targets.items()))
        if opts.get("is_write_index") is not False:
            return only
    raise SearchError(
        400,
        "illegal_argument_exception",
        f"no write index is defined for alias [{alias}]. The write index may be explicitly "
        "disabled using is_write_index=false or the alias points to multiple indices "
        "without one being designated as a write index",
    )


def of_index(table: AliasTable, index: str) -> dict[str, dict[str, Any]]:
    """``{alias: options}`` for one index, as GET ``_alias`` shows them."""
    return {a: dict(t[index]) for a, t in sorted(table.items()) if index in t}


def filter_of(table: AliasTable, parts: list[str], index: str) -> list[dict] | None:
    """The alias filters a search of the expression ``parts`` applies to ``index``
    (OpenSearch's ``filteringAliases``): none when the index is named directly, reached by
    ``_all`` or a wildcard over indices, or through an alias without a filter; else the
    filters of the aliases it is reached through (any of them matches)."""
    found: list[dict] = []
    for part in parts:
        if part in ("_all", "*") or part == index:
            return None
        if "*" in part and fnmatch.fnmatchcase(index, part):
            return None
        names = [part] if part in table else []
        if "*" in part:
            names = [a for a in table if fnmatch.fnmatchcase(a, part)]
        for alias in names:
            if index in table[alias]:
                flt = table[alias][index].get("filter")
                if not flt:
                    return None
                found.append(flt)
    return found or None
