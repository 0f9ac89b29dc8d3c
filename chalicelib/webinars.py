"""Group guidance webinars: sessions, bookings without an account, a waitlist that fills freed
seats by itself, confirmations with calendar invites, and reminders sent exactly once.

A booking identifies the citizen by email or phone, like every channel, and lands on their one
case as a `webinar` interaction, in the same transaction that takes the seat.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib import intake, mail
from chalicelib.errors import Conflict, NotFound
from chalicelib.hours import OpeningHours
from chalicelib.ids import interaction_id
from chalicelib.intake import IntakeAndRoutingStore
from chalicelib.model import Booking, BookingPlan, Identity, InboundMessage, Interaction, Webinar
from chalicelib.ports import CaseChanged, SessionUnavailable, SmsSender, WriteConflict

log = logging.getLogger("contact-centre")
REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


class WebinarStore(IntakeAndRoutingStore, Protocol):
    def get_webinar(self, webinar_id: str) -> Webinar | None: ...

    def create_webinar(self, webinar: Webinar) -> bool: ...

    def update_webinar(self, webinar_id: str, changes: dict[str, Any]) -> Webinar | None: ...

    def cancel_webinar(self, webinar_id: str) -> bool: ...

    def webinars_between(self, start: datetime, end: datetime) -> list[Webinar]: ...

    def bookings_of(self, webinar_id: str) -> list[Booking]: ...

    def get_booking(self, webinar_id: str, booking_id: str) -> Booking | None: ...

    def booking_for_token(self, token_hash: str) -> Booking | None: ...

    def waitlist(self, webinar_id: str, limit: int | None = None) -> list[Booking]: ...

    def waitlist_position(self, webinar_id: str, waitlisted_at: str) -> int: ...

    def cancel_booking(self, booking: Booking, promote: Booking | None, now: datetime) -> None: ...

    def mark_reminded(self, booking: Booking, which: str, now: datetime) -> bool: ...

    def set_attendance(self, booking: Booking, attended: bool) -> None: ...

    def add_interaction(self, interaction: Interaction) -> None: ...


@dataclass(frozen=True)
class Notifier:
    """How a citizen is told: email with a calendar invite, and/or SMS."""

    mail: mail.MailSender
    sms: SmsSender
    boxes: mail.Mailboxes
    timezone: str
    # A message a provider refused: (case_id, channel, to, body, raw email or None, error) goes
    # to the outbox (outbox.park_unsent), so a confirmation is late rather than lost.
    park: Callable[[str, str, str, str, bytes | None, Exception], None]


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    position: int | None  # on the waitlist
    token: str | None  # shown once, when the booking is made
    existing: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _person(webinar_id: str, identity: Identity) -> str:
    digest = hashlib.sha256(f"{webinar_id}|{identity.kind}|{identity.value}".encode())
    return digest.hexdigest()[:24]


def book(
    webinar: Webinar,
    request: dict[str, Any],
    store: WebinarStore,
    hours: OpeningHours,
    clock: Callable[[], datetime],
    notify: Notifier,
) -> BookingResult:
    """A seat if there is one, else a waitlist place, else 409; never two for one person."""
    now = clock()
    if webinar.status != "scheduled":
        raise Conflict("This session is cancelled.", code="session_cancelled")
    if webinar.starts_at <= now:
        raise Conflict("This session has already started.", code="session_started")
    email = (request.get("email") or "").strip().lower() or None
    phone = (request.get("phone") or "").strip() or None
    identity = Identity("email", email) if email else Identity("phone", phone or "")
    booking_id = _person(webinar.id, identity)
    for mode in ("seat", "waitlist"):
        token = secrets.token_urlsafe(24)
        plan = BookingPlan(
            webinar.id,
            booking_id,
            mode,
            _hash(token),
            email,
            phone,  # type: ignore[arg-type]
            request.get("first_name"),
            now,
        )
        word = "Booked" if mode == "seat" else "Waitlisted for"
        message = InboundMessage(
            channel="webinar",
            provider="booking",
            provider_id=f"{webinar.id}:{booking_id}",
            sender=identity,
            recipient=webinar.id,
            body=f"{word} webinar: {webinar.title}",
            queue=webinar.queue,
        )
        try:
            outcome = intake.receive(message, store, hours, clock, booking=plan)
        except SessionUnavailable:
            continue
        if outcome.duplicate:
            existing = store.get_booking(webinar.id, booking_id)
            assert existing is not None
            return BookingResult(existing, _position(existing, store), None, existing=True)
        booking = Booking(
            webinar.id,
            booking_id,
            "confirmed" if mode == "seat" else "waitlisted",
            email,
            phone,
            request.get("first_name"),
            now,
            outcome.case_id,
            waitlisted_at=f"{iso_utc(now)}#{booking_id}" if mode == "waitlist" else None,
        )
        position = _position(booking, store)
        _tell(
            notify,
            store,
            booking,
            webinar,
            "confirmed" if mode == "seat" else "waitlisted",
            position,
        )
        log.info("webinar booked", extra={"webinar_id": webinar.id, "status": booking.status})
        return BookingResult(booking, position, token)
    raise Conflict("This session and its waitlist are full.", code="full")


def iso_utc(at: datetime) -> str:
    """The store's timestamp format, which orders the waitlist."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _position(booking: Booking, store: WebinarStore) -> int | None:
    if booking.status != "waitlisted" or booking.waitlisted_at is None:
        return None
    return store.waitlist_position(booking.webinar_id, booking.waitlisted_at)


def cancel(
    token: str, store: WebinarStore, clock: Callable[[], datetime], notify: Notifier
) -> Booking:
    """The citizen cancels; a freed seat goes to the first waitlisted booking, who is told."""
    booking = store.booking_for_token(_hash(token))
    if booking is None:
        raise NotFound("No booking with that token.")
    if booking.status == "cancelled":
        return booking
    webinar = store.get_webinar(booking.webinar_id)
    for attempt in range(12):
        now = clock()
        first = store.waitlist(booking.webinar_id, limit=1) if booking.status == "confirmed" else []
        promote = store.get_booking(first[0].webinar_id, first[0].id) if first else None
        try:
            store.cancel_booking(booking, promote, now)
        except (CaseChanged, WriteConflict):
            current = store.get_booking(booking.webinar_id, booking.id)
            if current is None or current.status == "cancelled":
                return current or booking
            booking = current
            time.sleep(min(0.2, 0.005 * 2**attempt) * (0.5 + random.random()))
            continue
        _note(store, booking, "Cancelled the webinar booking", now)
        if promote is not None:
            _note(store, promote, "Promoted from the waitlist: seat confirmed", now)
            if webinar is not None:
                _tell(notify, store, promote, webinar, "promoted", None)
        return store.get_booking(booking.webinar_id, booking.id) or booking
    raise Conflict("The session is busy; try again.", code="busy")


def _note(store: WebinarStore, booking: Booking, text: str, now: datetime) -> None:
    if booking.case_id:
        store.add_interaction(
            Interaction(
                id=interaction_id(now),
                case_id=booking.case_id,
                at=now,
                channel="webinar",
                direction="internal",
                body=text,
                provider="booking",
                provider_id=booking.id,
            )
        )


def cancel_session(
    webinar_id: str, store: WebinarStore, clock: Callable[[], datetime], notify: Notifier
) -> int:
    """Managers cancel a session: every booked and waitlisted citizen is told."""
    webinar = store.get_webinar(webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    if not store.cancel_webinar(webinar_id):
        raise Conflict("The session is already cancelled.", code="session_cancelled")
    told = 0
    now = clock()
    for booking in store.bookings_of(webinar_id):
        if booking.status in ("confirmed", "waitlisted"):
            _tell(notify, store, booking, webinar, "session_cancelled", None)
            _note(store, booking, f"The webinar was cancelled: {webinar.title}", now)
            told += 1
    return told


def attendance(
    webinar_id: str,
    booking_id: str,
    attended: bool,
    store: WebinarStore,
    clock: Callable[[], datetime],
) -> Booking:
    booking = store.get_booking(webinar_id, booking_id)
    if booking is None:
        raise NotFound("No such booking.")
    store.set_attendance(booking, attended)
    _note(store, booking, "Attended the webinar" if attended else "Did not attend", clock())
    return store.get_booking(webinar_id, booking_id) or booking


def send_reminders(store: WebinarStore, now: datetime, notify: Notifier) -> int:
    """24 h and 1 h before: each booking's reminder is claimed by one conditional write first,
    so a run that overlaps or repeats another sends nothing twice."""
    sent = 0
    for which, ahead in REMINDERS:
        for webinar in store.webinars_between(now, now + ahead):
            if webinar.status != "scheduled":
                continue
            for booking in store.bookings_of(webinar.id):
                if booking.status == "confirmed" and store.mark_reminded(booking, which, now):
                    _tell(notify, store, booking, webinar, f"reminder_{which}", None)
                    sent += 1
    return sent


# --- telling the citizen -------------------------------------------------------------------


def _when(webinar: Webinar, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    local = webinar.starts_at.astimezone(ZoneInfo(timezone))
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def _text(kind: str, booking: Booking, webinar: Webinar, when: str, position: int | None) -> str:
    name = f"Hi {booking.first_name}, " if booking.first_name else ""
    return {
        "confirmed": f'{name}your seat is booked for "{webinar.title}" on {when}. '
        f"Join at {webinar.join_url}",
        "waitlisted": f'{name}"{webinar.title}" on {when} is full; you are number {position} '
        "on the waitlist. We will tell you if a seat frees up.",
        "promoted": f'{name}a seat freed up: you are booked for "{webinar.title}" on {when}. '
        f"Join at {webinar.join_url}",
        "session_cancelled": f'{name}we are sorry: "{webinar.title}" on {when} is cancelled.',
        "reminder_24h": f'Reminder: "{webinar.title}" is tomorrow, {when}. {webinar.join_url}',
        "reminder_1h": f'Reminder: "{webinar.title}" starts in an hour. {webinar.join_url}',
    }[kind]


def _tell(
    notify: Notifier,
    store: WebinarStore,
    booking: Booking,
    webinar: Webinar,
    kind: str,
    position: int | None,
) -> None:
    """The booking stands whatever a provider answers; a message it refuses waits in the
    outbox on the booking's case. A number that texted STOP gets no SMS, booking or not."""
    text = _text(kind, booking, webinar, _when(webinar, notify.timezone), position)
    if booking.email:
        email = booking.email
        invite = kind in ("confirmed", "promoted", "session_cancelled")
        raw = (
            invitation_email(
                notify.boxes, booking, webinar, text, cancelled=kind == "session_cancelled"
            )
            if invite
            else mail.compose(
                notify.boxes,
                mailbox="webinars",
                token=None,
                to=email,
                subject=webinar.title,
                body=text,
                now=datetime.now(UTC),
            )[0]
        )
        _send(
            notify, booking, "email", email, text, raw, lambda: notify.mail.send_email(raw, email)
        )
    if booking.phone and not _opted_out(store, booking.phone):
        phone = booking.phone
        _send(
            notify,
            booking,
            "sms",
            phone,
            text,
            None,
            lambda: notify.sms.send_sms(phone, text, None),
        )


def _opted_out(store: WebinarStore, phone: str) -> bool:
    record = store.find_identity(Identity("phone", phone))
    return bool(record and record.opted_out)


def _send(
    notify: Notifier,
    booking: Booking,
    channel: str,
    to: str,
    text: str,
    raw: bytes | None,
    send: Callable[[], object],
) -> None:
    try:
        send()
    except Exception as error:  # 5xx, time-out: late, not lost
        if booking.case_id is None:
            log.warning(
                "could not tell the citizen, and no case to keep the message on",
                extra={"webinar_id": booking.webinar_id, "error": type(error).__name__},
            )
            return
        notify.park(booking.case_id, channel, to, text, raw, error)


def invitation_email(
    boxes: mail.Mailboxes, booking: Booking, webinar: Webinar, text: str, cancelled: bool = False
) -> bytes:
    """One recipient per message, never a list of attendees; the invite is an iCalendar file."""
    from email import policy
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import make_msgid

    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Guidance contact centre//Webinars//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{webinar.id}@{boxes.domain}")
    event.add("summary", webinar.title)
    event.add("dtstart", webinar.starts_at)
    event.add("dtend", webinar.starts_at + timedelta(minutes=webinar.duration_minutes))
    event.add("dtstamp", datetime.now(UTC))
    event.add("location", webinar.join_url)
    event.add("url", webinar.join_url)
    event.add("description", webinar.description or webinar.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", f"mailto:webinars@{boxes.domain}")
    calendar.add_component(event)

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(boxes.from_name, addr_spec=f"webinars@{boxes.domain}")
    msg["To"] = booking.email or ""
    msg["Subject"] = ("Cancelled: " if cancelled else "Booked: ") + webinar.title
    msg["Message-ID"] = make_msgid(domain=boxes.domain)
    msg.set_content(text)
    msg.add_attachment(
        calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        filename="webinar.ics",
        params={"method": "CANCEL" if cancelled else "REQUEST"},
    )
    return msg.as_bytes()
