"""The stream-to-search Lambda zip: reproducible, self-contained, and it works.

The zip is imported in a fresh interpreter without site-packages whose path holds only
the zip's contents and boto3/botocore with their dependencies (what the Lambda Python
runtime provides), and run on an event recorded from the local stream against the
search engine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.lambda_package import (
    STREAM_TO_SEARCH_CONFIG,
    STREAM_TO_SEARCH_HANDLER,
    deterministic_zip,
    stream_to_search_files,
    stream_to_search_zip,
)
from polystore.topology.model import System
from sync.link_config import link_config

from .test_handler import docs

DATA = Path(__file__).parent / "data"
# What the Lambda runtime has besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def test_same_inputs_same_zip_hash(tcgstore: System) -> None:
    cfg = link_config(tcgstore, "cards-to-search").to_json()
    a = stream_to_search_zip(cfg).read_bytes()
    b = deterministic_zip(stream_to_search_files(cfg))
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    other = cfg.replace('"updated_at"', '"released_at"')
    assert deterministic_zip(stream_to_search_files(other)) != a


def test_zip_entries_are_fixed_and_only_the_handler_package(tcgstore: System) -> None:
    path = stream_to_search_zip(link_config(tcgstore, "cards-to-search").to_json())
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert STREAM_TO_SEARCH_CONFIG in names and "sync/__init__.py" in names
        assert all(n.startswith("sync/") for n in names)
        assert not any(n.startswith(("sync/poller", "sync/reindex")) for n in names)
        assert json.loads(zf.read(STREAM_TO_SEARCH_CONFIG))["link"] == "cards-to-search"


def _runtime_dir(tmp: Path) -> Path:
    runtime = tmp / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            pytest.fail(f"{name} is not installed; the Lambda runtime has it")
        origin = Path(spec.origin)
        src = origin.parent if origin.name == "__init__.py" else origin
        (runtime / src.name).symlink_to(src)
    return runtime


BOOT = """
import json, os, sys
zipdir, runtime = sys.argv[1], sys.argv[2]
sys.path[:] = [zipdir, runtime] + [p for p in sys.path[1:] if "-packages" not in p]
for name in ("polystore", "emulation", "pydantic", "httpx"):
    try:
        __import__(name)
    except ImportError:
        continue
    raise SystemExit(f"{name} is importable: the interpreter is not clean")
module, _, fn = os.environ["HANDLER"].rpartition(".")
handler = getattr(__import__(module, fromlist=[fn]), fn)
event = json.load(open(sys.argv[3]))
print(json.dumps(handler(event, None)))
# The AWS path: SigV4 with the runtime's botocore and the role's credentials (from env).
from sync.stream_to_search.search_http import SearchHttp
http = SearchHttp("vpc-cards-abc.eu-west-1.es.amazonaws.com")
from sync.stream_to_search.search_http import signed_headers
h = signed_headers("POST", http.url + "/_bulk", b"{}", {"Content-Type": "application/json"},
                    *http.sign_as)
print(json.dumps({"sign_as": http.sign_as, "authorization": h["Authorization"]}))
"""


def test_zip_runs_in_a_clean_interpreter(tcgstore: System, search_url: str, card_index: str,
                                         tmp_path: Path) -> None:  # fmt: skip
    path = stream_to_search_zip(link_config(tcgstore, "cards-to-search").to_json())
    zipdir = tmp_path / "task"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(zipdir)
    env = {"HANDLER": STREAM_TO_SEARCH_HANDLER, "OPENSEARCH_URL": search_url,
           "OPENSEARCH_INDEX_CARDS_INDEX": card_index, "AWS_REGION": "us-east-1",
           "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "secret"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", BOOT, str(zipdir), str(_runtime_dir(tmp_path)),
         str(DATA / "cards_stream_event.json")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result, signing = (json.loads(line) for line in out.stdout.splitlines())
    assert result == {"batchItemFailures": []}
    assert signing["sign_as"] == ["es", "eu-west-1"]
    assert signing["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in signing["authorization"]
    got = docs(search_url, card_index)
    assert set(got) == {"c0", "c1"} and got["c1"]["name"] == "Mox Pearl"
