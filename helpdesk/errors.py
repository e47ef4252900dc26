"""Errors as values with a code: raised by the domain, mapped once to HTTP, once to socket."""

from __future__ import annotations

from typing import Any, ClassVar


class HelpdeskError(Exception):
    """A refusal the client can act on; never a server fault."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return body


class ValidationFailed(HelpdeskError):
    status = 400
    code = "validation_error"


class Unauthenticated(HelpdeskError):
    status = 401
    code = "unauthenticated"


class Forbidden(HelpdeskError):
    status = 403
    code = "forbidden"


class NotFound(HelpdeskError):
    status = 404
    code = "not_found"


class Conflict(HelpdeskError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class StaleVersion(Conflict):
    """The client's `version` is behind; `current` is what it should reload."""

    code = "version_conflict"

    def __init__(self, detail: str, *, current: dict[str, Any]) -> None:
        super().__init__(detail)
        self.current = current


class RateLimited(HelpdeskError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(HelpdeskError):
    """The database cannot take writes (disk full, read-only); the client may retry later."""

    status = 503
    code = "unavailable"


class TooLarge(HelpdeskError):
    """A body, a file or an image's pixel count over what the helpdesk takes."""

    status = 413
    code = "too_large"


class UnsupportedType(HelpdeskError):
    """A file whose bytes are not a kind the helpdesk takes (or that disagree with its name)."""

    status = 415
    code = "unsupported_type"
