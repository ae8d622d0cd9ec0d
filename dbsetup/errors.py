"""The errors of in-database setup, each saying what failed and what to try.

Callers translate them into their own (the local stack into ``emulation.errors``, the
``python -m dbsetup`` command into an exit status): ``exit_code`` 2 is bad input (a
migration, the arguments), 1 anything else.
"""

from __future__ import annotations


class SetupError(Exception):
    """``str(err)`` is the message and hint; ``err.message``, ``err.hint`` separately."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class MissingTool(SetupError):
    """dbmate (the migration tool) is not installed."""


class BadInput(SetupError):
    """What the user wrote or passed is wrong."""

    exit_code = 2


class MigrationRefused(BadInput):
    """A migration failed, or an applied one was edited: ``path:line`` and what to do."""
