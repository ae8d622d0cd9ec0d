"""The stream-to-search Lambda deploys the real sync handler, packaged from the topology."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from infra.lambda_package import STREAM_TO_SEARCH_CONFIG, STREAM_TO_SEARCH_HANDLER
from polystore.naming import store_env_var
from sync.link_config import link_config
from tests.infra.conftest import of_type, topology


def test_link_lambdas_run_the_sync_handler_with_the_links_config(result: dict[str, Any]) -> None:
    functions = {f["inputs"].get("tags", {}).get("polystore:link"): f["inputs"]
                 for f in of_type(result, "aws:lambda/function:Function")}  # fmt: skip
    checked = 0
    for system in topology().systems.values():
        for name, link in system.stream_links().items():
            fn = functions[name]
            assert fn["handler"] == STREAM_TO_SEARCH_HANDLER
            path = Path(fn["code"]["archive"]["path"])
            with zipfile.ZipFile(path) as zf:
                bundled = json.loads(zf.read(STREAM_TO_SEARCH_CONFIG))
                assert "sync/stream_to_search/handler.py" in zf.namelist()
            assert bundled == json.loads(link_config(system, name).to_json())
            dst = system.stores[link.target]
            variables = fn["environment"]["variables"]
            assert "OPENSEARCH_URL" in variables and store_env_var(link.target, dst) in variables
            # The table's variable lets the handler confirm late records (late_records.py).
            assert bundled["table_env"] in variables and bundled["table_env"]
            checked += 1
    assert checked >= 1
