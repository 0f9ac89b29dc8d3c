"""Errors the domain raises; the edges turn them into HTTP answers. No HTTP here."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error a caller can act on; `code` is stable, `message` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {}  # extra JSON fields of the error answer
        if code is not None:
            self.code = code


class InvalidInput(ServiceError):
    status = 400
    code = "invalid_input"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class TooManyRequests(ServiceError):
    """A limit on how often one address, number or caller may ask (429); says nothing of others."""

    status = 429
    code = "too_many_requests"


class Unavailable(ServiceError):
    """Something we depend on did not answer; the caller should retry later (503)."""

    status = 503
    code = "unavailable"


class Busy(Unavailable):
    """The store stayed contended after every retry; the provider should retry later."""

    code = "busy"


class ProviderUnavailable(ServiceError):
    """Twilio or SES did not take a request that cannot wait for the outbox (a call)."""

    status = 502
    code = "provider_unavailable"
