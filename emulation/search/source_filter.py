"""``_source`` filtering (``true``/``false``, a pattern list, ``includes``/``excludes``)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from emulation.search.errors import parsing


@dataclass(frozen=True)
class SourceFilter:
    enabled: bool = True
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: Any) -> SourceFilter:
        if spec is None or spec is True:
            return cls()
        if spec is False:
            return cls(enabled=False)
        if isinstance(spec, str):
            if spec.lower() in ("true", "false"):
                return cls(enabled=spec.lower() == "true")
            return cls(includes=tuple(p for p in spec.split(",") if p))
        if isinstance(spec, list):
            return cls(includes=tuple(str(p) for p in spec))
        if isinstance(spec, dict):
            inc = spec.get("includes", spec.get("include", []))
            exc = spec.get("excludes", spec.get("exclude", []))
            inc = [inc] if isinstance(inc, str) else inc
            exc = [exc] if isinstance(exc, str) else exc
            return cls(includes=tuple(inc), excludes=tuple(exc))
        raise parsing("[_source] unknown value type")

    @classmethod
    def from_params(cls, params: dict[str, str], body_spec: Any = None) -> SourceFilter:
        base = cls.parse(params.get("_source", body_spec))
        inc = params.get("_source_includes", params.get("_source_include"))
        exc = params.get("_source_excludes", params.get("_source_exclude"))
        if inc or exc:
            return cls(
                includes=tuple(inc.split(",")) if inc else base.includes,
                excludes=tuple(exc.split(",")) if exc else base.excludes,
            )
        return base

    @property
    def is_identity(self) -> bool:
        return self.enabled and not self.includes and not self.excludes

    def apply(self, source: dict[str, Any]) -> dict[str, Any]:
        if self.is_identity:
            return source
        return _filter(source, "", self.includes, self.excludes)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in patterns)


def _filter(
    obj: dict[str, Any], prefix: str, inc: tuple[str, ...], exc: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        path = f"{prefix}{key}"
        if exc and _matches(path, exc):
            continue
        if not inc or _matches(path, inc):
            nested = isinstance(value, dict) and exc
            out[key] = _filter(value, f"{path}.", (), exc) if nested else value
        elif isinstance(value, dict):
            child = _filter(value, f"{path}.", inc, exc)
            if child:
                out[key] = child
    return out
