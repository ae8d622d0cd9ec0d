"""DynamoDB's error answers: a ``__type`` and the message text DynamoDB sends, HTTP 400.

Every client error raised anywhere in the engine is a :class:`DynamoError`; the HTTP layer
turns it into ``{"__type": "com.amazonaws.dynamodb.v20120810#Type", "message": ...}``.
Anything else that escapes a handler is a bug and answers 500 ``InternalServerError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PREFIX = "com.amazonaws.dynamodb.v20120810#"
COERCION_PREFIX = "com.amazon.coral.validate#"


class DynamoError(Exception):
    """A request DynamoDB would refuse, with the type and text DynamoDB uses."""

    def __init__(
        self, type_: str, message: str, status: int = 400, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.value_layer = False  # raised while checking an AttributeValue (see ``envelope``)

    def body(self) -> dict[str, Any]:
        # DynamoDB's request validator answers under its own namespace
        prefix = COERCION_PREFIX if self.type == "ValidationException" else PREFIX
        out: dict[str, Any] = {"__type": prefix + self.type, "message": self.message}
        out.update(self.extra)
        return out


def value_error(message: str) -> DynamoError:
    """A bad AttributeValue. PutItem, UpdateItem and DeleteItem report these inside the
    ``1 validation error detected: `` envelope, other operations bare (``envelope``)."""
    err = DynamoError("ValidationException", message)
    err.value_layer = True
    return err


@contextmanager
def envelope() -> Iterator[None]:
    """Report bad values as the single-item writes do: inside the validator's envelope."""
    try:
        yield
    except DynamoError as err:
        if err.value_layer:
            err.message = "1 validation error detected: " + err.message
            err.args = (err.message,)
            err.value_layer = False
        raise


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def invalid_params(message: str) -> DynamoError:
    """The most common ValidationException prefix DynamoDB uses for item-level problems."""
    return validation("One or more parameter values were invalid: " + message)


def not_found(message: str = "Requested resource not found") -> DynamoError:
    return DynamoError("ResourceNotFoundException", message)


def table_not_found(name: str) -> DynamoError:
    return not_found(f"Requested resource not found: Table: {name} not found")


def in_use(message: str) -> DynamoError:
    return DynamoError("ResourceInUseException", message)


def conditional_failed(item: dict[str, Any] | None = None) -> DynamoError:
    extra = {"Item": item} if item is not None else None
    return DynamoError(
        "ConditionalCheckFailedException", "The conditional request failed", extra=extra
    )


def constraint(value: Any, where: str, rule: str) -> DynamoError:
    """The coral validator's ``1 validation error detected`` message."""
    return validation(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {rule}"
    )


def missing(where: str) -> DynamoError:
    return constraint("null", where, "Member must not be null")
