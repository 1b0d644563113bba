"""The one domain exception type that services raise and the API maps to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; `status` is the HTTP status the API answers with."""

    status: int = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        self.message = message or self.default_message
        if status is not None:
            self.status = status
        super().__init__(self.message)


class NotFound(DomainError):
    status = 404
    default_message = "Not found."


class PermissionDenied(DomainError):
    status = 403
    default_message = "You do not have permission to perform this action."


class ServiceUnavailable(DomainError):
    status = 503
    default_message = "A service Affea depends on is unavailable; try again shortly."
