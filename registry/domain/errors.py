"""Domain errors. Each API surface maps them to its own wire format and HTTP status."""

from typing import Any


class DomainError(Exception):
    """A command that cannot be carried out. Nothing is appended when one is raised."""

    code = "INVALID_ARGUMENT"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidArgument(DomainError):
    code = "INVALID_ARGUMENT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class PermissionDenied(DomainError):
    """The caller may not do this (registry.domain.privileges)."""

    code = "PERMISSION_DENIED"


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The object exists but is in a state that forbids the command (e.g. a non-empty schema)."""

    code = "FAILED_PRECONDITION"


class Conflict(DomainError):
    """An append's expected stream version did not match: another writer got there first."""

    code = "CONFLICT"


class Unavailable(DomainError):
    """The server cannot answer this right now (e.g. privileges are being reloaded); a retry will."""

    code = "UNAVAILABLE"
