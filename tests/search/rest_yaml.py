"""A runner for OpenSearch's REST API YAML tests (the format of
``rest-api-spec/src/main/resources/rest-api-spec/test``), used by the conformance test.

A test file holds YAML documents: an optional ``setup`` and ``teardown`` (lists of steps)
and one document per test ``{name: [steps]}``. Steps: ``do`` (an API call by name, with
``catch``, ``headers``, ``warnings``, ``allowed_warnings``), ``match`` (with ``/regex/``
and ``$stash``), ``length``, ``is_true``, ``is_false``, ``gt``/``gte``/``lt``/``lte``,
``contains``, ``set`` and ``skip`` (by version range and by runner feature). API names
become HTTP requests through the cut-down API specs that come with the tests.

Between tests every index and alias is removed, as OpenSearch's own runner does.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

# The OpenSearch version the engine reports; ``skip.version`` ranges compare against it.
ENGINE_VERSION = (2, 17, 0)
# Runner features this runner implements; a test needing another one is skipped.
FEATURES = frozenset(
    {
        "headers",
        "warnings",
        "allowed_warnings",
        "contains",
        "default_shards",
        "stash_in_path",
        "stash_in_key",
        "arbitrary_key",
    }
)
CATCH_STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "missing": 404,
    "request_timeout": 408,
    "conflict": 409,
    "unavailable": 503,
}


class Skipped(Exception):
    """The test asks to be skipped here (a version range or a runner feature)."""


class Failed(AssertionError):
    """A step's expectation did not hold."""


def _version_key(text: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.strip().split(".")[:3])
    # Elasticsearch 5-7 versions in old tests predate every OpenSearch version.
    return (0, *parts) if 5 <= parts[0] <= 7 else (1, *parts)


def version_skipped(spec: str) -> bool:
    """Whether ``ENGINE_VERSION`` falls in one of the ranges of a ``skip.version``."""
    if spec.strip() == "all":
        return True
    mine = (1, *ENGINE_VERSION)
    for one in spec.split(","):
        low, _, high = one.partition("-")
        lo = _version_key(low) if low.strip() else (0, 0, 0, 0)
        hi = _version_key(high) if high.strip() else (9, 99, 99, 99)
        if lo <= mine <= hi:
            return True
    return False


@dataclass
class YamlTest:
    file: str
    name: str
    steps: list[dict[str, Any]]
    setup: list[dict[str, Any]]
    teardown: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``2019-10-21 00:30:04.828740`` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_tests(root: Path) -> list[YamlTest]:
    tests: list[YamlTest] = []
    for path in sorted((root / "test").glob("*/*.yml")):
        rel = str(path.relative_to(root / "test"))
        setup: list[dict[str, Any]] = []
        teardown: list[dict[str, Any]] = []
        bodies: list[tuple[str, list[dict[str, Any]]]] = []
        for doc in yaml.load_all(path.read_text(), Loader=_Loader):
            if not doc:
                continue
            for name, steps in doc.items():
                if name == "setup":
                    setup = steps or []
                elif name == "teardown":
                    teardown = steps or []
                else:
                    bodies.append((name, steps or []))
        tests.extend(YamlTest(rel, n, s, setup, teardown) for n, s in bodies)
    return tests


def load_specs(root: Path) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    for path in sorted((root / "api").glob("*.json")):
        specs.update(json.loads(path.read_text()))
    return specs


@dataclass
class Response:
    status: int
    body: Any
    headers: httpx.Headers


@dataclass
class Runner:
    client: httpx.Client
    specs: dict[str, Any]
    stash: dict[str, Any] = field(default_factory=dict)
    last: Response | None = None

    # -- a whole test --------------------------------------------------------------------
    def run(self, test: YamlTest) -> None:
        """Run one test; raises :class:`Skipped` or :class:`Failed` (or an error)."""
        self.stash = {}
        self.last = None
        for step in test.setup + test.steps:
            if "skip" in step:
                self.skip(step["skip"])
        try:
            for step in test.setup:
                self.step(step)
            for step in test.steps:
                self.step(step)
        finally:
            for step in test.teardown:
                with contextlib.suppress(Failed, httpx.HTTPError):
                    self.step(step)
            self.wipe()

    def wipe(self) -> None:
        self.client.delete("/_all", params={"ignore_unavailable": "true"})

    def skip(self, spec: dict[str, Any]) -> None:
        if "version" in spec and version_skipped(str(spec["version"])):
            raise Skipped(f"version {spec['version']}: {spec.get('reason', '')}")
        features = spec.get("features", [])
        features = [features] if isinstance(features, str) else features
        missing = [f for f in features if f not in FEATURES]
        if missing:
            raise Skipped(f"runner feature {missing} not implemented")

    # -- steps -----------------------------------------------------------------------------
    def step(self, step: dict[str, Any]) -> None:
        ((kind, arg),) = step.items()
        if kind == "skip":
            return
        if kind == "do":
            self.do(arg)
            return
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            raise Failed(f"unknown step [{kind}]")
        handler(arg)

    def do(self, arg: dict[str, Any]) -> None:
        arg = dict(arg)
        catch = arg.pop("catch", None)
        headers = arg.pop("headers", {}) or {}
        expected_warnings = arg.pop("warnings", []) or []
        arg.pop("allowed_warnings", None)
        arg.pop("node_selector", None)
        ((api, params),) = arg.items()
        params = self.resolve(dict(params or {}))
        ignore = params.pop("ignore", [])  # a client-side option: statuses not to raise for
        ignored = {int(i) for i in (ignore if isinstance(ignore, list) else [ignore])}
        response = self.call(api, params, {k: str(v) for k, v in headers.items()})
        self.last = response
        exists_api = api == "exists" or ".exists" in api or api.startswith("exists")
        if catch is None:
            if response.status >= 400 and response.status not in ignored:
                if exists_api and response.status == 404:
                    return
                raise Failed(f"{api} answered {response.status}: {_short(response.body)}")
        else:
            self._check_catch(catch, response)
        got = response.headers.get_list("warning")
        for warning in expected_warnings:
            if not any(warning in w for w in got):
                raise Failed(f"expected warning [{warning}], got {got}")

    def _check_catch(self, catch: str, response: Response) -> None:
        text = json.dumps(response.body) if not isinstance(response.body, str) else response.body
        if catch in CATCH_STATUS:
            if response.status != CATCH_STATUS[catch]:
                raise Failed(f"expected {catch}, got {response.status}: {_short(text)}")
        elif catch == "request":
            if response.status < 400 or response.status in (404, 409, 403, 401, 408, 503):
                raise Failed(f"expected a request error, got {response.status}: {_short(text)}")
        elif catch == "param":
            raise Failed("[catch: param] expects a client-side parameter check")
        elif catch.startswith("/"):
            if response.status < 400:
                raise Failed(f"expected an error matching {catch}, got {response.status}")
            if not re.search(catch.strip("/"), text, re.X | re.S):
                raise Failed(f"error {_short(text)} does not match {catch}")
        else:
            raise Failed(f"unknown catch [{catch}]")

    # -- HTTP --------------------------------------------------------------------------------
    def call(self, api: str, params: dict[str, Any], headers: dict[str, str]) -> Response:
        spec = self.specs.get(api)
        if spec is None:
            raise Failed(f"no API spec for [{api}]")
        body = params.pop("body", None)
        method, path = _pick_path(spec, params, body is not None)
        query = {k: _param(v) for k, v in params.items()}
        content: bytes | None = None
        if body is not None:
            if isinstance(body, list):  # NDJSON (bulk, msearch)
                lines = [b if isinstance(b, str) else json.dumps(b) for b in body]
                content = ("\n".join(lines) + "\n").encode()
                headers.setdefault("content-type", "application/x-ndjson")
            elif isinstance(body, str):
                content = body.encode()
                headers.setdefault("content-type", "application/json")
            else:
                content = json.dumps(body).encode()
                headers.setdefault("content-type", "application/json")
        reply = self.client.request(method, path, params=query, content=content, headers=headers)
        parsed: Any
        if method == "HEAD":
            parsed = reply.status_code == 200
        else:
            try:
                parsed = reply.json()
            except ValueError:
                parsed = reply.text
        return Response(reply.status_code, parsed, reply.headers)

    # -- stash -------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str):
            if value.startswith("$") and value[1:] in self.stash:
                return self.stash[value[1:]]
            if value == "$body":
                return self.last.body if self.last else None
            return re.sub(
                r"\$\{(\w+)\}", lambda m: str(self.stash.get(m.group(1), m.group(0))), value
            )
        return value

    def value_at(self, path: str) -> Any:
        assert self.last is not None, "no response to look at"
        node: Any = self.last.body
        if path in ("$body", ""):
            return node
        for part in _split_path(self.resolve(path)):
            part = self.resolve(part)
            if isinstance(node, list):
                try:
                    node = node[int(part)]
                except (ValueError, IndexError):
                    raise Failed(f"[{path}]: no element [{part}] in a list") from None
            elif isinstance(node, dict):
                if part not in node:
                    raise Failed(f"[{path}]: no key [{part}] in {_short(node)}")
                node = node[part]
            else:
                raise Failed(f"[{path}]: [{part}] under a scalar {_short(node)}")
        return node

    def _present(self, path: str) -> tuple[bool, Any]:
        try:
            return True, self.value_at(path)
        except Failed:
            return False, None

    # -- assertions ----------------------------------------------------------------------------
    def _match(self, arg: dict[str, Any]) -> None:
        for path, want in arg.items():
            got = self.value_at(path)
            want = self.resolve(want)
            if (
                isinstance(want, str)
                and len(want) > 1
                and want.startswith("/")
                and want.endswith("/")
            ):
                if not re.search(want[1:-1], str(got), re.X | re.S):
                    raise Failed(f"[{path}] = {_short(got)} does not match {want}")
            elif not _equal(got, want):
                raise Failed(f"[{path}] = {_short(got)}, expected {_short(want)}")

    def _length(self, arg: dict[str, Any]) -> None:
        for path, want in arg.items():
            got = self.value_at(path)
            size = len(got) if hasattr(got, "__len__") else None
            if size != int(want):
                raise Failed(f"[{path}] has length {size}, expected {want}")

    def _is_true(self, path: str) -> None:
        found, got = self._present(path)
        if not found or got in (None, False, "", "false", 0) or got == {} or got == []:
            raise Failed(f"[{path}] is not true: {_short(got)}")

    def _is_false(self, path: str) -> None:
        found, got = self._present(path)
        if found and got not in (None, False, "", "false", 0) and got != {} and got != []:
            raise Failed(f"[{path}] is not false: {_short(got)}")

    def _compare(self, arg: dict[str, Any], op: str) -> None:
        for path, want in arg.items():
            got = self.value_at(path)
            want = self.resolve(want)
            ok = {"gt": got > want, "gte": got >= want, "lt": got < want, "lte": got <= want}
            if not ok[op]:
                raise Failed(f"[{path}] = {got}, expected {op} {want}")

    def _gt(self, arg: dict[str, Any]) -> None:
        self._compare(arg, "gt")

    def _gte(self, arg: dict[str, Any]) -> None:
        self._compare(arg, "gte")

    def _lt(self, arg: dict[str, Any]) -> None:
        self._compare(arg, "lt")

    def _lte(self, arg: dict[str, Any]) -> None:
        self._compare(arg, "lte")

    def _contains(self, arg: dict[str, Any]) -> None:
        for path, want in arg.items():
            got = self.value_at(path)
            want = self.resolve(want)
            if not any(_equal(item, want) or _subset(want, item) for item in got):
                raise Failed(f"[{path}] does not contain {_short(want)}")

    def _set(self, arg: dict[str, Any]) -> None:
        for path, name in arg.items():
            self.stash[name] = self.value_at(path)


def _split_path(path: str) -> list[str]:
    parts = re.split(r"(?<!\\)\.", path)
    return [p.replace("\\.", ".") for p in parts]


def _pick_path(spec: dict[str, Any], params: dict[str, Any], has_body: bool) -> tuple[str, str]:
    """The spec path using the most of the given parts, and its method."""
    best = None
    for entry in spec["url"]["paths"]:
        parts = list((entry.get("parts") or {}).keys())
        if all(p in params for p in parts) and (best is None or len(parts) > len(best[1])):
            best = (entry, parts)
    if best is None:
        raise Failed(f"no path of the spec fits the parts {sorted(params)}")
    entry, parts = best
    path = entry["path"]
    for part in parts:
        path = path.replace("{" + part + "}", quote(_param(params.pop(part)), safe=",*"))
    methods = entry["methods"]
    method = methods[0]
    if has_body and method == "GET" and "POST" in methods:
        method = "POST"
    return method, path


def _param(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_param(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(_equal(got[k], want[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(_equal(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, str) and isinstance(got, int | float) and not isinstance(got, bool):
        return False
    return bool(got == want)


def _subset(want: Any, got: Any) -> bool:
    if isinstance(want, dict) and isinstance(got, dict):
        return all(k in got and _equal(got[k], v) for k, v in want.items())
    return False


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "..."
