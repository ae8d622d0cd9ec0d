"""Where a link's ends are, locally: from the environment, else from the state dir.

The poller's contract with whoever supervises it is its command line and environment
(``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_REGION``, ``OPENSEARCH_URL``, the credentials);
when those are not set (a developer running ``polystore sync …`` by hand) the ports of
the local stack in ``state.json`` are used. The link's configuration is written next to
its state from the topology, and the handler is pointed at it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polystore.naming import local_name, store_env_var
from polystore.topology.model import System
from sync.link_config import link_config, stream_link
from sync.stream_to_search import config as handler_config

LOCAL_KEY = "local"  # the local engines accept any credentials


@dataclass(frozen=True)
class LinkEnds:
    dynamodb_url: str | None  # None: AWS's own endpoint (a task in AWS)
    search_url: str
    region: str
    table: str  # physical table name
    index: str  # the name the handler writes to (the alias)


def resolve(system: System, link_name: str, state_dir: Path, dynamodb_url: str | None = None,
            search_url: str | None = None) -> LinkEnds:  # fmt: skip
    link = stream_link(system, link_name)
    ddb = dynamodb_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    search = search_url or os.environ.get("OPENSEARCH_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    src, dst = system.stores[link.source], system.stores[link.target]
    table = os.environ.get(store_env_var(link.source, src) or "")
    index = os.environ.get(store_env_var(link.target, dst) or "")
    if table and index and search:
        # Run as a task in AWS (or with a service's env): names and endpoints are given.
        return LinkEnds(ddb, search, region, table, index)
    if not ddb or not search:
        from emulation.engines.base import endpoints_of
        from emulation.state import StateDir

        sd = StateDir(state_dir)
        if not sd.exists():
            raise RuntimeError(
                f"no endpoints: set AWS_ENDPOINT_URL_DYNAMODB and OPENSEARCH_URL, or point "
                f"--state-dir at a local stack (none at {sd.root}; run polystore up)"
            )
        ep = endpoints_of(sd.load())
        ddb, search = ddb or ep.url("dynamodb"), search or ep.url("search")
    return LinkEnds(ddb, search, region, local_name(system, link.source),
                    local_name(system, link.target))  # fmt: skip


def client_kwargs(ends: LinkEnds, service: str = "dynamodb") -> dict[str, Any]:
    """boto3 client arguments; a local endpoint gets the local engines' dummy keys.

    The Streams API has its own endpoint where ``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` says
    so (the variable boto3 itself honours); else it is the DynamoDB endpoint.
    """
    url = ends.dynamodb_url
    if service == "dynamodbstreams":
        url = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS") or url
    kw: dict[str, Any] = {"endpoint_url": url, "region_name": ends.region}
    if ends.dynamodb_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        kw |= {"aws_access_key_id": LOCAL_KEY, "aws_secret_access_key": LOCAL_KEY}
    return kw


def prepare_handler_env(system: System, link_name: str, state_dir: Path, ends: LinkEnds) -> Path:
    """Write the link's config from the topology; set the variables the handler reads."""
    cfg = link_config(system, link_name)
    path = Path(state_dir) / "sync" / f"{system.name}.{link_name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(cfg.to_json())
    tmp.replace(path)
    os.environ[handler_config.CONFIG_ENV] = str(path)
    os.environ["OPENSEARCH_URL"] = ends.search_url
    os.environ.setdefault(cfg.index_env, ends.index)
    if cfg.table_env:  # the handler reads the table to confirm late re-creations
        os.environ.setdefault(cfg.table_env, ends.table)
    if ends.dynamodb_url:
        os.environ.setdefault("AWS_ENDPOINT_URL_DYNAMODB", ends.dynamodb_url)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_KEY)
    os.environ.setdefault("AWS_REGION", ends.region)
    return path
