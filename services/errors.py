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


def from_store_error(exc: Exception) -> ApiError | None:
    """A store's refusal that a client caused, as the 4xx it is (None: a server fault).

    PostgreSQL constraints are the last line behind the flows' own checks: a foreign key
    to nothing is a 422, a unique or check violation a 409 — never a 500.
    """
    try:
        import psycopg.errors as pg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pg = None  # type: ignore[assignment]
    if pg is not None:
        diag = getattr(exc, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        if isinstance(exc, pg.ForeignKeyViolation):
            return BadParameter(f"refers to something that does not exist ({constraint})")
        if isinstance(exc, pg.UniqueViolation):
            return Conflict(f"already exists ({constraint})")
        if isinstance(exc, pg.CheckViolation):
            return Conflict(f"would break the rule {constraint}")
        if isinstance(exc, pg.DataError):
            return BadParameter(str(exc).splitlines()[0])
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:  # botocore ClientError
        code = response["Error"].get("Code", "")
        message = response["Error"].get("Message", code)
        if code == "ConditionalCheckFailedException":
            return Conflict(message)
        if code == "ValidationException":
            return BadParameter(message)
        if code in ("ProvisionedThroughputExceededException", "ThrottlingException",
                    "RequestLimitExceeded"):  # fmt: skip
            return Unavailable(message)
    return None


def install(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status)

    async def handle_store(request: Request, exc: Exception) -> JSONResponse:
        mapped = from_store_error(exc)
        if mapped is None:
            raise exc
        return await handle(request, mapped)

    app.add_exception_handler(ApiError, handle)
    import psycopg
    from botocore.exceptions import ClientError

    app.add_exception_handler(psycopg.Error, handle_store)
    app.add_exception_handler(ClientError, handle_store)
