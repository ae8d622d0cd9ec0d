"""Delete DynamoDB items whose TTL has passed, as DynamoDB's TTL process does.

Neither moto nor DynamoDB Local expires items. The sweeper scans every table with TTL
enabled for items whose TTL attribute is a number (epoch seconds) in the past and
deletes them with a condition that the TTL still has that value, so an item renewed
between scan and delete survives. Deletes go through the API, so they appear in the
table's stream as REMOVE records, which is what stream consumers see in AWS.
Run standalone (docker runtime) as ``python -m emulation.engines.ttl_sweeper URL``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any


def sweep_once(client: Any, now: float | None = None) -> int:
    """One pass over every TTL-enabled table; return how many items were deleted."""
    now_s = int(now if now is not None else time.time())
    deleted = 0
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") != "ENABLED":
                continue
            attr = ttl["AttributeName"]
            keys = [k["AttributeName"] for k in
                    client.describe_table(TableName=name)["Table"]["KeySchema"]]  # fmt: skip
            expired = client.get_paginator("scan").paginate(
                TableName=name,
                FilterExpression="attribute_type(#t, :n) AND #t < :now",
                ExpressionAttributeNames={"#t": attr},
                ExpressionAttributeValues={":n": {"S": "N"}, ":now": {"N": str(now_s)}},
            )
            for scanned in expired:
                for item in scanned["Items"]:
                    try:
                        client.delete_item(
                            TableName=name,
                            Key={k: item[k] for k in keys},
                            ConditionExpression="#t = :was",
                            ExpressionAttributeNames={"#t": attr},
                            ExpressionAttributeValues={":was": item[attr]},
                        )
                        deleted += 1
                    except client.exceptions.ConditionalCheckFailedException:
                        pass  # renewed since the scan: not expired any more
    return deleted


def make_client(endpoint: str, region: str = "us-east-1") -> Any:
    import boto3

    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=region,
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("endpoint")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    client = make_client(args.endpoint)
    while True:
        try:
            sweep_once(client)
        except Exception as exc:  # keep sweeping through engine restarts
            print(f"ttl sweep failed: {exc}", flush=True)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
