"""Typed domain errors raised by services; the API maps each kind to its HTTP status."""


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, **details):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class Invalid(DomainError):
    """The input breaks a rule (422)."""


class NotFound(DomainError):
    """A referenced record does not exist for this company (404)."""

    code = "not_found"


class Conflict(DomainError):
    """The current state does not allow it: duplicate, stock gone, wrong status (409)."""

    code = "conflict"


class PermissionDenied(DomainError):
    """The caller may not do this to this record (403)."""

    code = "forbidden"
