"""The DynamoDB engine on HTTP: requests framed by the shared engine server
(:mod:`emulation.engine_http`), answered by :func:`emulation.dynamodb.api.handle`.

DynamoDB clients POST a JSON body with ``X-Amz-Target``; the answer carries
``x-amz-crc32`` (boto3 checks it) and ``x-amzn-RequestId``. Refused requests (malformed
HTTP, too large) get a ``SerializationException`` body and the connection is closed.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable

from emulation.engine_http.framing import Request, Response

MAX_BODY = 16 * 1024 * 1024 + 64 * 1024  # BatchGetItem answers are 16 MB; requests are smaller
Handler = Callable[[str, bytes], tuple[int, bytes]]
_TARGET = b"x-amz-target"
_HEAD = b"content-type: application/x-amz-json-1.0\r\nx-amz-crc32: %d\r\nx-amzn-requestid: %s\r\n"


def _request_id() -> bytes:
    # 128 random bits as hex, what uuid4().hex gave, for a fifth of its cost
    return os.urandom(16).hex().encode()


class DynamoApp:
    """DynamoDB's JSON protocol for the shared framing."""

    max_body = MAX_BODY
    wanted_headers = frozenset({_TARGET})

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def handle(self, request: Request) -> Response:
        target = request.headers.get(_TARGET, b"").decode("latin-1")
        status, payload = self.handler(target, request.body)
        return Response(status, _HEAD % (zlib.crc32(payload), _request_id()), payload)

    def reject(self, status: int, message: str) -> Response:
        payload = json.dumps({"__type": "com.amazon.coral.service#SerializationException",
                              "message": message}).encode()  # fmt: skip
        return Response(status, _HEAD % (zlib.crc32(payload), _request_id()), payload)
