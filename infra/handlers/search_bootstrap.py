"""Search bootstrap Lambda: create each index from the topology and scope who may use it.

Invoked by Pulumi (``aws.lambda_.Invocation``) whenever the payload changes. The payload
carries, per index, the create-index body the topology defines (``SearchStore.body()``) and
the IAM roles allowed to read and write it; the handler makes OpenSearch's fine-grained
access control match: one security role per index, mapped to exactly those IAM roles.
It runs as the domain's master role. Only the Lambda runtime's botocore is used.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

INDEX_ACTIONS = ["indices:data/read/*", "indices:data/write/*", "indices:admin/get",
                 "indices:monitor/*"]
# The reindex task also creates the next generation, moves the alias and deletes the old
# generation: its own security role (``<role>-reindex``), mapped to its IAM role alone.
REINDEX_ACTIONS = [*INDEX_ACTIONS, "indices:admin/create", "indices:admin/delete",
                   "indices:admin/aliases", "indices:admin/aliases/get",
                   "indices:admin/refresh*", "indices:admin/mappings/get"]


def _signed(method: str, url: str, body: Any | None) -> tuple[int, str]:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    data = json.dumps(body).encode() if body is not None else None
    req = AWSRequest(method=method, url=url, data=data,
                     headers={"Content-Type": "application/json"})
    creds = botocore.session.get_session().get_credentials()
    SigV4Auth(creds, "es", os.environ["AWS_REGION"]).add_auth(req)
    http = urllib.request.Request(url, data=data, method=method, headers=dict(req.headers))
    try:
        with urllib.request.urlopen(http, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    endpoint = os.environ["OPENSEARCH_URL"].rstrip("/")
    if not endpoint.startswith("https://"):
        endpoint = "https://" + endpoint
    done: dict[str, str] = {}
    for spec in event["indexes"]:
        index, role_name = spec["name"], spec["security_role"]
        status, text = _signed("HEAD", f"{endpoint}/{index}", None)
        if status == 404:
            # The store's name is an alias over generation 1 (polystore.naming
            # .concrete_index_name), so a reindex can swap in the next generation.
            body = {**spec["body"], "aliases": {index: {}}}
            status, text = _signed("PUT", f"{endpoint}/{index}-000001", body)
            if status >= 300:
                raise RuntimeError(f"creating index {index} failed: HTTP {status}: {text}")
            done[index] = "created"
        elif status == 200:
            # Mappings of an existing index are not rewritten in place: a changed mapping
            # needs a new index and a reindex, which is the sync handler's job. Dynamic
            # settings (refresh_interval) are: declared value, or null for the default.
            dynamic = spec["dynamic_settings"]  # SearchStore.dynamic_settings()
            status, text = _signed("PUT", f"{endpoint}/{index}/_settings", {"index": dynamic})
            if status >= 300:
                raise RuntimeError(f"updating settings of {index} failed: HTTP {status}: {text}")
            done[index] = "exists"
        else:
            raise RuntimeError(f"checking index {index} failed: HTTP {status}: {text}")
        writes = [(role_name, INDEX_ACTIONS, spec["iam_roles"])]
        if spec.get("reindex_roles"):
            writes.append((f"{role_name}-reindex", REINDEX_ACTIONS, spec["reindex_roles"]))
        requests = []
        for name, actions, iam_roles in writes:
            role = {"index_permissions": [{"index_patterns": [index, f"{index}-*"],
                                           "allowed_actions": actions}]}
            requests += [(f"_plugins/_security/api/roles/{name}", role),
                         (f"_plugins/_security/api/rolesmapping/{name}",
                          {"backend_roles": sorted(iam_roles)})]
        for path, body in requests:
            status, text = _signed("PUT", f"{endpoint}/{path}", body)
            if status >= 300:
                raise RuntimeError(f"PUT {path} failed: HTTP {status}: {text}")
    return {"indexes": done}
