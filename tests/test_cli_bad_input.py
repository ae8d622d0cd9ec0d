"""Every command refuses bad arguments with exit 2 and a message, never a traceback.

Each case runs the real ``polystore`` entry point in a subprocess, as a user would, with
its own empty state dir and the repository's topology.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from polystore.topology.loader import REPO_ROOT

# (id, argv builder given a scratch dir, fragment the message must contain)
Case = tuple[str, Callable[[Path], list[str]], str]


def _file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _state(tmp: Path, content: str | None) -> str:
    """A state dir whose state.json is ``content`` (None: a directory in its place)."""
    root = tmp / "state"
    root.mkdir(exist_ok=True)
    if content is None:
        (root / "state.json").mkdir()
    else:
        (root / "state.json").write_text(content)
    return str(root)


EMPTY_PREVIEW = json.dumps({"stack": "dev", "resources": []})

CASES: list[Case] = [
    ("policy unknown stack", lambda t: ["policy", "--stack", "nosuch"], "stack 'nosuch'"),
    ("policy unknown system stack", lambda t: ["policy", "--stack", "nosuch-prod"], "nosuch"),
    ("policy --from missing", lambda t: ["policy", "--from", str(t / "nope.json")], "nope.json"),
    ("policy --from bad json", lambda t: ["policy", "--from", _file(t, "p.json", "{bad")],
     "cannot read preview"),
    ("policy --from wrong shape", lambda t: ["policy", "--from", _file(t, "p.json", '{"a": 1}')],
     "'resources' list"),
    ("policy bad --format", lambda t: ["policy", "--format", "xml"], "'xml'"),
    ("policy --config unknown rule",
     lambda t: ["policy", "--from", _file(t, "p.json", EMPTY_PREVIEW),
                "--config", _file(t, "c.yaml", "PS-NOPE: advisory\n")], "unknown rule 'PS-NOPE'"),
    ("policy --stack with --all-stacks", lambda t: ["policy", "--stack", "dev", "--all-stacks"],
     "exclusive"),
    ("preview unknown stack", lambda t: ["preview", "--stack", "nosuch"], "no stack file"),
    ("preview unknown system", lambda t: ["preview", "--system", "nosuch"], "no system 'nosuch'"),
    ("preview bad --format", lambda t: ["preview", "--format", "xml"], "'xml'"),
    ("show unknown system", lambda t: ["show", "nosuch"], "no system 'nosuch'"),
    ("show missing --stacks", lambda t: ["show", "--stacks", str(t / "nope")],
     "no such file or directory"),
    ("diagram unknown system", lambda t: ["diagram", "nosuch"], "no system 'nosuch'"),
    ("validate missing file", lambda t: ["validate", str(t / "nope.yaml")],
     "no such file or directory"),
    ("validate not yaml", lambda t: ["validate", _file(t, "x.yaml", "a: [b\n")], "YAML syntax"),
    ("env unknown system", lambda t: ["env", "nosuch.svc"], "no system 'nosuch'"),
    ("env unknown service", lambda t: ["env", "tcgstore.nosuch"], "no service 'nosuch'"),
    ("env not SYSTEM.SERVICE", lambda t: ["env", "tcgstore"], "expected SYSTEM.SERVICE"),
    ("env unreadable state", lambda t: ["env", "tcgstore.catalog", "--state-dir",
                                        _state(t, "garbage")], "state.json"),
    ("status unreadable state", lambda t: ["status", "--state-dir", _state(t, "{}")],
     "state.json"),
    ("status state.json is a directory", lambda t: ["status", "--state-dir", _state(t, None)],
     "state.json"),
    ("parity unreadable state", lambda t: ["parity", "--state-dir", _state(t, "[1]")],
     "state.json"),
    ("down unreadable state", lambda t: ["down", "--state-dir", _state(t, "garbage")],
     "state.json"),
    ("up unknown system", lambda t: ["up", "nosuch"], "no system 'nosuch'"),
    ("up bad --runtime", lambda t: ["up", "--runtime", "podman"], "'podman'"),
    ("up state dir below a file",
     lambda t: ["up", "tcgstore", "--state-dir", _file(t, "f", "") + "/state"],
     "is not a directory"),
    ("parity unknown system", lambda t: ["parity", "nosuch"], "no system 'nosuch'"),
    ("compose unknown system", lambda t: ["compose", "nosuch"], "no system 'nosuch'"),
    ("reset without a terminal", lambda t: ["reset", "--state-dir", str(t / "state")],
     "pass --yes"),
    ("unknown command", lambda t: ["nope"], "No such command"),
]  # fmt: skip


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None,
            stdin: str = "") -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``polystore ARGS`` in a subprocess (stdin a pipe, never a terminal)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("POLYSTORE_")}
    base["POLYSTORE_CACHE_DIR"] = os.environ.get("POLYSTORE_CACHE_DIR", str(cwd / ".cache"))
    base["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "polystore.cli", *args],
        cwd=cwd, env={**base, **(env or {})}, input=stdin, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_arguments_exit_2_with_a_message_and_no_traceback(
    tmp_path: Path, args: Callable[[Path], list[str]], fragment: str
) -> None:
    result = run_cli(args(tmp_path), cwd=REPO_ROOT, stdin="n\n")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    assert fragment in result.stderr, result.stderr
