"""Errors the domain raises; the edges turn them into HTTP answers. No HTTP here."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error a caller can act on; `code` is stable, `message` is for people.

    A subclass names its answer in its header, `class NotFound(ServiceError, status=404,
    code="not_found")`, and inherits whichever of the two it does not name."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {}  # extra JSON fields of the error answer
        if code is not None:
            self.code = code


class InvalidInput(ServiceError, status=400, code="invalid_input"):
    """The request itself is wrong: a field, a form, a query value (400)."""


class InvalidCursor(InvalidInput, code="invalid_cursor"):
    """A page cursor we did not issue, or one issued for another listing."""


class Unauthenticated(ServiceError, status=401, code="unauthenticated"):
    """No valid token or provider signature: who is asking is not known (401)."""


class Forbidden(ServiceError, status=403, code="forbidden"):
    """Known, but not allowed to do this (403)."""


class NotFound(ServiceError, status=404, code="not_found"):
    """Nothing by that id that the caller may see (404)."""


class PayloadTooLarge(ServiceError, status=413, code="payload_too_large"):
    """A body over the route's limit (413)."""


class Conflict(ServiceError, status=409, code="conflict"):
    """The thing changed since it was read, or is not in a state that allows this (409)."""


class ChangedMeanwhile(Conflict, code="changed"):
    """Someone moved, answered or closed the case between our read and our write (409)."""

    def __init__(self, message: str = "The case changed meanwhile; reload it.") -> None:
        super().__init__(message)


class TooManyRequests(ServiceError, status=429, code="too_many_requests"):
    """A limit on how often one address, number or caller may ask (429); says nothing of others."""


class Unavailable(ServiceError, status=503, code="unavailable"):
    """Something we depend on did not answer; the caller should retry later (503)."""


class Busy(Unavailable, code="busy"):
    """The store stayed contended after every retry; the provider should retry later."""


class ProviderUnavailable(ServiceError, status=502, code="provider_unavailable"):
    """Twilio or SES did not take a request that cannot wait for the outbox (a call)."""


# --- What the ports raise to the domain (chalicelib/domain/ports.py): a conditional write that
# lost, a message a provider refused for good. Here, not beside the ports, because they are
# raised and caught at run time, where the ports are only types (imported for mypy alone).


class WriteRejected(Exception):
    """A conditional write lost; the subclass says which condition, so the caller can re-plan."""


class DuplicateDelivery(WriteRejected):
    """The provider id was recorded before: a provider retry."""


class IdentityTaken(WriteRejected):
    """Another message created this identity first."""


class OpenCaseExists(WriteRejected):
    """The contact already has an open case (the pointer is the truth, not our shortcut)."""


class CaseNotOpen(WriteRejected):
    """The case we meant to append to is closed or gone."""


class CaseChanged(WriteRejected):
    """The case is no longer as we read it (someone claimed, moved or closed it meanwhile)."""


class PractitionerUnavailable(WriteRejected):
    """The practitioner is full (or off duty, where that matters)."""


class SessionUnavailable(WriteRejected):
    """No seat (or no waitlist place) under the booking's condition, or the session is over."""


class BookingRefused(WriteRejected):
    """A booking's own condition lost; `role` says which: `holder` (this person already holds a
    booking of the session), `limit` (too many upcoming bookings), `rate` (too many booking
    messages to this address or number today)."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class WriteConflict(WriteRejected):
    """A concurrent transaction touched the same items; try again."""


class MessageRejected(Exception):
    """The provider refused this message for good (an invalid or unsubscribed number, an address
    SES will not send to): retrying cannot help, so the case shows the failure at once."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
