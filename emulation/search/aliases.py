"""Index aliases: the alias table, the ``_aliases`` actions (applied atomically) and the
write index of an alias.

The table maps an alias to the indices it points at and each pointer's options
(``{"alias": {"index": {"is_write_index": true}}}``). ``POST /_aliases`` applies its
actions to a copy and swaps it in only when every action succeeded, so a reindex can move
an alias from the old index to the new one with no moment where it points at neither (or
at a half-applied state). Filtered and routing aliases are refused by name.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulation.search.errors import SearchError, bad_request, unsupported

AliasTable = dict[str, dict[str, dict[str, Any]]]
# Options of an alias pointer this engine keeps; the others change routing or filtering.
_KEPT_OPTIONS = frozenset({"is_write_index", "is_hidden"})
_REFUSED_OPTIONS = frozenset({"filter", "routing", "index_routing", "search_routing"})
_POINTER_KEYS = _KEPT_OPTIONS | _REFUSED_OPTIONS
_ACTION_KEYS = frozenset(
    {"index", "indices", "alias", "aliases", "must_exist", *_KEPT_OPTIONS, *_REFUSED_OPTIONS}
)


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
    """The kept options of one alias pointer (create-index ``aliases`` or an action)."""
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise bad_request(f"[aliases] failed to parse alias [{alias}]: expected an object")
    refused = sorted(set(conf) & _REFUSED_OPTIONS)
    if refused:
        raise unsupported(f"alias option [{refused[0]}] (alias [{alias}])")
    unknown = sorted(set(conf) - _KEPT_OPTIONS - _REFUSED_OPTIONS)
    if unknown:
        raise SearchError(
            400, "illegal_argument_exception", f"unknown field [{unknown[0]}] for alias [{alias}]"
        )
    return {k: conf[k] for k in conf if k in _KEPT_OPTIONS and conf[k] is not None}


def validate_alias_name(alias: str, indices: dict[str, Any]) -> None:
    if alias in indices:
        raise SearchError(
            400,
            "invalid_alias_name_exception",
            f"Invalid alias name [{alias}]: an index or data stream exists with "
            "the same name as the alias",
        )
    if not alias or alias.startswith(("_", "-", "+")) or alias != alias.lower():
        raise SearchError(
            400,
            "invalid_alias_name_exception",
            f"Invalid alias name [{alias}], must be lowercase and must not start with "
            "'_', '-', or '+'",
        )


def add(table: AliasTable, indices: dict[str, Any], index: str, alias: str, opts: dict) -> None:
    validate_alias_name(alias, indices)
    targets = table.setdefault(alias, {})
    if opts.get("is_write_index"):
        for other in targets.values():  # one write index per alias
            other.pop("is_write_index", None)
    targets[index] = dict(opts)


def remove(table: AliasTable, index: str, alias_expr: str, must_exist: bool | None) -> None:
    names = [a for a in table if fnmatch.fnmatchcase(a, alias_expr) and index in table[a]]
    if not names and must_exist is not False:
        raise SearchError(
            404,
            "aliases_not_found_exception",
            f"aliases [{alias_expr}] missing",
            **{"resource.type": "aliases", "resource.id": alias_expr},
        )
    for name in names:
        del table[name][index]
        if not table[name]:
            del table[name]


def _list(conf: dict[str, Any], one: str, many: str) -> list[str]:
    value = conf.get(many, conf.get(one))
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def apply_actions(
    table: AliasTable,
    indices: dict[str, Any],
    actions: Any,
    resolve: Callable[[str], list[str]],
) -> tuple[AliasTable, list[str]]:
    """The alias table after ``actions`` and the indices ``remove_index`` deletes.

    Works on a copy: the caller swaps it in only if no action raised.
    """
    if not isinstance(actions, list) or not actions:
        raise SearchError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: no alias actions specified;",
        )
    new: AliasTable = {a: {i: dict(o) for i, o in t.items()} for a, t in table.items()}
    dropped: list[str] = []
    for action in actions:
        if not isinstance(action, dict) or len(action) != 1:
            raise SearchError(
                400, "parsing_exception", "[aliases] an action must hold exactly one action type"
            )
        kind, conf = next(iter(action.items()))
        if kind not in ("add", "remove", "remove_index"):
            raise SearchError(
                400, "illegal_argument_exception", f"[aliases] unknown action [{kind}]"
            )
        if not isinstance(conf, dict):
            raise SearchError(400, "parsing_exception", f"[{kind}] action must be an object")
        unknown = sorted(set(conf) - _ACTION_KEYS)
        if unknown:
            raise SearchError(
                400, "illegal_argument_exception", f"[{kind}] unknown field [{unknown[0]}]"
            )
        exprs = _list(conf, "index", "indices")
        if not exprs:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: One of [index] or [indices] is required;",
            )
        targets = [name for expr in exprs for name in resolve(expr)]
        if kind == "remove_index":
            for name in targets:
                if name in dropped:
                    continue
                dropped.append(name)
                for alias in list(new):
                    new[alias].pop(name, None)
                    if not new[alias]:
                        del new[alias]
            continue
        alias_names = _list(conf, "alias", "aliases")
        if not alias_names:
            raise SearchError(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: One of [alias] or [aliases] is required;",
            )
        for name in targets:
            for alias in alias_names:
                if kind == "add":
                    pointer = {k: v for k, v in conf.items() if k in _POINTER_KEYS}
                    add(new, indices, name, alias, options(alias, pointer))
                else:
                    remove(new, name, alias, conf.get("must_exist"))
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
