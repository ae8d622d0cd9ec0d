"""The reindex task as infra defines it runs: its entry point, command and environment,
taken from the mocked preview's task definition, rebuild the index.

Only the endpoints change: the task's ``OPENSEARCH_URL`` (an AWS domain, SigV4) becomes
the local search engine and ``AWS_ENDPOINT_URL_DYNAMODB`` points boto3 at the local
DynamoDB engine (both real engines, the project's own). The table and the alias are
created under the names the task definition carries, which come from polystore.naming.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from emulation.dynamodb.server import serve_in_thread as serve_dynamodb
from emulation.search.server import serve_in_thread as serve_search
from polystore.naming import concrete_index_name, store_env_var
from sync.stream_to_search.search_http import SearchHttp
from tests.infra.conftest import of_type, shipped_preview, topology
from tests.sync.live import card_item

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LINK = "cards-to-search"


def _task_container() -> dict:
    tasks = [t for t in of_type(shipped_preview("dev"), "aws:ecs/taskDefinition:TaskDefinition")
             if t["inputs"].get("tags", {}).get("polystore:link") == LINK
             and t["inputs"]["tags"].get("polystore:role") == "reindex"]  # fmt: skip
    assert len(tasks) == 1
    (container,) = json.loads(tasks[0]["inputs"]["containerDefinitions"])
    return container


def test_the_task_definition_runs_a_reindex(tmp_path: Path) -> None:
    container = _task_container()
    env = {e["name"]: e["value"] for e in container["environment"]}
    system = topology().system("tcgstore")
    link = system.links[LINK]
    src, dst = system.stores[link.source], system.stores[link.target]  # type: ignore[attr-defined]
    table, alias = env[store_env_var(link.source, src)], env[store_env_var(link.target, dst)]
    with serve_dynamodb(tmp_path / "ddb") as ddb_server:
        search = serve_search("127.0.0.1", 0, tmp_path / "search")
        http = SearchHttp(search.url)
        try:
            ddb = boto3.client("dynamodb", endpoint_url=ddb_server.url,
                               region_name="us-east-1", aws_access_key_id="local",
                               aws_secret_access_key="local")  # fmt: skip
            ddb.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"})  # fmt: skip
            for i in range(40):
                ddb.put_item(TableName=table, Item=card_item(f"t{i}", f"Card {i}", i))
            first = concrete_index_name(alias, 1)
            body = {**dst.body(), "aliases": {alias: {}}}  # type: ignore[attr-defined]
            assert http.request("PUT", f"/{first}", json.dumps(body).encode()).status == 200
            argv = [sys.executable, *container["entryPoint"][1:], *container["command"]]
            assert container["entryPoint"][0] == "python"
            run_env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                       **env, "OPENSEARCH_URL": search.url,
                       "AWS_ENDPOINT_URL_DYNAMODB": ddb_server.url,
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "PYTHONPATH": str(REPO)}  # fmt: skip
            done = subprocess.run(argv, cwd=tmp_path, env=run_env, capture_output=True,
                                  text=True, timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            summary = json.loads(done.stdout.strip().splitlines()[-1])
            assert summary["alias"] == alias and summary["previous"] == [first]
            assert summary["index"] == concrete_index_name(alias, 2) and summary["scanned"] == 40
            got = json.loads(http.request("GET", f"/_alias/{alias}").body)
            assert list(got) == [summary["index"]]
            http.request("POST", f"/{alias}/_refresh")
            assert json.loads(http.request("GET", f"/{alias}/_count").body)["count"] == 40
        finally:
            http.close()
            search.stop()
