"""The small interfaces the domain needs from storage and senders, and what they may raise."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.model import (
    CaseRef,
    Delivery,
    Identity,
    IdentityRecord,
    InboundWrite,
    Interaction,
    Parked,
)

if TYPE_CHECKING:
    from chalicelib.config import Settings


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


class IntakeStore(Protocol):
    def find_identity(self, identity: Identity) -> IdentityRecord | None: ...

    def find_open_case(self, contact_id: str) -> str | None: ...

    def record_inbound(self, write: InboundWrite) -> None: ...

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None: ...

    def promote_booked(self, case_id: str, identity: Identity, at: datetime) -> CaseRef | None: ...


class HoursStore(Protocol):
    def load_hours(self) -> OpeningHours | None: ...

    def save_hours(self, hours: OpeningHours) -> None: ...


class OutboundStore(Protocol):
    def get_reply_identity(self, case_id: str) -> Identity | None: ...

    def find_identity(self, identity: Identity) -> IdentityRecord | None: ...

    def add_interaction(self, interaction: Interaction) -> None: ...

    def update_delivery_status(
        self,
        case_id: str,
        interaction_id: str,
        status: str,
        rank: int,
        provider_id: str | None = None,
        error_code: str | None = None,
        provider: str | None = None,
        duration_seconds: int | None = None,
    ) -> bool: ...


class MessageRejected(Exception):
    """The provider refused this message for good (an invalid or unsubscribed number, an address
    SES will not send to): retrying cannot help, so the case shows the failure at once."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SentMessage(Protocol):
    provider: str
    provider_id: str
    status: str


class SmsSender(Protocol):
    """Sends one SMS. `status_callback` is where the provider reports delivery."""

    def send_sms(self, to: str, body: str, status_callback: str | None) -> SentMessage: ...


class MailSender(Protocol):
    """Sends one composed email (its raw MIME) to one recipient."""

    def send_email(self, raw: bytes, to: str) -> SentMessage: ...


class Dialer(Protocol):
    """Starts an outbound call joining a practitioner's phone to a citizen's."""

    def connect(
        self, practitioner_phone: str, citizen: str, status_callback: str | None
    ) -> SentMessage: ...


class OutboxStore(OutboundStore, Protocol):
    """What `delivery` needs besides recording and updating a message: the outbox, where a
    message the provider did not take waits for its next try."""

    def add_interaction_unless_erased(self, interaction: Interaction) -> bool: ...

    def park(
        self,
        case_id: str,
        interaction_id: str,
        attempts: int,
        retry_at: datetime,
        error: str,
        raw_key: str | None = None,
    ) -> bool: ...

    def due(self, now: datetime) -> list[Parked]: ...

    def claim(self, entry: Parked, lease_until: datetime) -> bool: ...

    def unpark(
        self,
        case_id: str,
        interaction_id: str,
        status: str,
        rank: int,
        provider_id: str | None,
        provider: str | None,
        error: str | None,
    ) -> None: ...


class Deps(Protocol):
    """The one set of dependencies every domain entry point takes as its first argument, built
    once per Lambda container by `chalicelib.wiring` (tests build theirs, with fakes or DynamoDB
    Local): storage, senders, blobs, time, the opening hours, settings and our public URLs.

    Time comes only from `clock()`, so a test (or the local scheduler) moves it for everyone.
    FIRST VERSION (issue 15): `store`, `sms`, `calls`, `mail` and `blobs` are typed by the ports
    of each area until the ports are gathered in one place per area."""

    settings: Settings
    store: Any
    sms: Any
    calls: Any
    mail: Any
    blobs: Any

    def clock(self) -> datetime: ...

    def hours(self) -> OpeningHours: ...

    def public_url(self, path: str) -> str:
        """Our URL for `path` (status callbacks, cancel links): what Twilio calls and signs."""
        ...
