"""Client mistakes become 4xx with a JSON body naming what is wrong; never a 5xx.

Every error body is ``{"error": {"type": ..., "message": ..., "field": ...}}``;
FastAPI's own 422 for a malformed body keeps its ``detail`` list (it names the field).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    status = 400
    type = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": str(self)}
        if self.field:
            err["field"] = self.field
        return {"error": err}


class BadParameter(ApiError):
    status = 422
    type = "invalid_parameter"


class NotFound(ApiError):
    status = 404
    type = "not_found"


class Conflict(ApiError):
    status = 409
    type = "conflict"


class Unavailable(ApiError):
    status = 503
    type = "unavailable"


def install(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status)

    app.add_exception_handler(ApiError, handle)
