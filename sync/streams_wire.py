"""GetRecords over the wire, unparsed: the records are already the Lambda event's shape.

The DynamoDB Streams API speaks JSON (``x-amz-json-1.0``); a record on the wire carries
``ApproximateCreationDateTime`` as epoch seconds and binary values as base64, exactly as
the Lambda event does. boto3 parses that JSON into datetimes and bytes, and the poller
then had to turn them back (``stream_records.lambda_record``): together 60 % of the
poller's time per record. This client sends the same SigV4-signed request and keeps the
wire JSON (``json.loads``, in C), adding only ``eventSourceARN``. Errors are raised as
botocore ``ClientError`` with the service's error code, as boto3 would, so callers
handle ``ExpiredIteratorException`` / ``TrimmedDataAccessException`` the same way.
The other Streams calls (DescribeStream, GetShardIterator) are rare and stay on boto3.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

TARGET = "DynamoDBStreams_20120810.GetRecords"


class StreamsWire:
    """One kept-alive connection to the Streams endpoint of a boto3 ``dynamodbstreams``
    client (its endpoint, region and credentials)."""

    def __init__(self, client: Any, timeout: float = 30.0) -> None:
        self.url = client.meta.endpoint_url.rstrip("/")
        self.region = client.meta.region_name
        self._credentials = client._request_signer._credentials  # what boto3 signs with
        parts = urllib.parse.urlsplit(self.url)
        self.scheme, self.host = parts.scheme, parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def get_records(self, iterator: str, limit: int) -> dict[str, Any]:
        """``{"Records": [wire records], "NextShardIterator": ...}`` (the parsed body)."""
        body = json.dumps({"ShardIterator": iterator, "Limit": limit}).encode()
        status, data = self._post(body)
        if status != 200:
            raise _client_error(status, data)
        out: dict[str, Any] = json.loads(data)
        return out

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = self._signed(body)
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self._conn is None:
                cls = (http.client.HTTPSConnection if self.scheme == "https"
                       else http.client.HTTPConnection)  # fmt: skip
                self._conn = cls(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request("POST", "/", body=body, headers=headers)
                resp = self._conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _signed(self, body: bytes) -> dict[str, str]:
        req: Any = AWSRequest(method="POST", url=self.url + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET})  # fmt: skip
        creds = self._credentials.get_frozen_credentials() if self._credentials else None
        if creds is not None:
            SigV4Auth(creds, "dynamodb", self.region).add_auth(req)
        return dict(req.headers.items())


def _client_error(status: int, data: bytes) -> ClientError:
    try:
        doc = json.loads(data)
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    code = str(doc.get("__type") or f"HTTP{status}").rpartition("#")[2]
    message = str(doc.get("message") or doc.get("Message") or data[:200].decode(errors="replace"))
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "GetRecords")  # fmt: skip


def lambda_record(wire: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A wire record as the event source mapping delivers it (``eventSourceARN`` added;
    the fields the wire may omit get the values AWS's records carry)."""
    wire["eventSourceARN"] = stream_arn
    wire.setdefault("eventSource", "aws:dynamodb")
    wire.setdefault("eventVersion", "1.1")
    if not wire.get("awsRegion"):
        wire["awsRegion"] = region
    return wire
