"""Domain errors raised by services. They carry no HTTP knowledge: the route
layer (:mod:`chalicelib.web.responses`) maps each class to a status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``code`` is the short machine-readable name sent to clients."""

    code = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Malformed request: unparsable JSON, wrong types, bad ids (400)."""

    code = "BadRequest"


class Unprocessable(DomainError):
    """Well-formed but semantically invalid (422): a time in the past, a file that is not a video."""

    code = "UnprocessableEntity"


class NotAuthenticated(DomainError):
    code = "Unauthorized"


class PermissionDenied(DomainError):
    code = "Forbidden"


class NotFound(DomainError):
    code = "NotFound"


class Conflict(DomainError):
    code = "Conflict"


class Gone(DomainError):
    code = "Gone"


class PayloadTooLarge(DomainError):
    code = "PayloadTooLarge"


class RateLimited(DomainError):
    code = "TooManyRequests"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(DomainError):
    """A dependency (database, Scheduler, S3, ffprobe) cannot be reached (503).

    Clients are told when to try again: most outages the service sees (a database
    restarting, a failover, a throttled AWS call) last seconds.
    """

    code = "ServiceUnavailable"

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
