"""The errors the local stack raises, each saying what failed and what to try.

Every error carries a ``hint`` (the next thing a user should do); the CLI prints the
message, the hint, and exits non-zero. Nothing here is raised for programming errors.
"""

from __future__ import annotations


class EmulationError(Exception):
    """Base of every local-stack error: ``str(err)`` is the message, ``err.hint`` what to try."""

    exit_code = 1  # the CLI's exit status: 1 "something is wrong with the stack"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = self.args[0]
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class MissingBinary(EmulationError):
    """An engine's executable (postgres, dbmate, docker) could not be found."""


class EngineNotReady(EmulationError):
    """An engine did not answer a real request within its startup timeout."""


class PortTaken(EmulationError):
    """A port kept in the state dir is held by a process polystore did not start."""


class StaleState(EmulationError):
    """The state dir does not match what is running (or was written by another runtime)."""


class ProvisionError(EmulationError):
    """Creating a database, role, table or index from the topology failed."""


class BadInput(EmulationError):
    """What the user wrote is wrong (a migration, the topology); the CLI exits 2."""

    exit_code = 2


class MigrationRefused(BadInput, ProvisionError):
    """A migration failed, or an applied one was edited: ``path:line`` and what to do."""


class NotRunning(EmulationError):
    """A command needs the local stack and it is not up."""
