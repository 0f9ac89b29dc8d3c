"""Group guidance webinars: sessions, bookings without an account, a waitlist that fills freed
seats by itself, confirmations with calendar invites, and reminders sent exactly once.

A booking identifies the citizen by email or phone, like every channel, and lands on their one
case as a `webinar` interaction, in the same transaction that takes the seat.

Anyone may book with any address, so the answer to the booker never depends on what that address
already holds: whether the booking is new, a repeat or over the address's limit, the booker hears
"requested", and the state (with a cancel link) goes to the address or number given. Our messages
carry only our words and the manager-written session details, never the booker's free text.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain import delivery, intake, mail
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.errors import (
    BookingRefused,
    CaseChanged,
    Conflict,
    NotFound,
    SessionUnavailable,
    TooManyRequests,
    WriteConflict,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import (
    Booking,
    BookingPlan,
    Identity,
    InboundMessage,
    Webinar,
    new_entry,
)

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, WebinarStore

log = logging.getLogger("contact-centre")
REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


@dataclass(frozen=True)
class BookingLimits:
    """Per address or number (config: BOOKING_MAX_ACTIVE, BOOKING_MAX_PER_DAY), so that one
    address cannot hoard seats and nobody can use our booking messages to flood someone."""

    max_active: int = 5  # upcoming sessions booked (or waitlisted) at once
    max_per_day: int = 10  # booking messages sent to it per UTC day


@dataclass(frozen=True)
class BookingResult:
    """What happened, for the domain's callers; the public answer shows none of it."""

    booking: Booking | None  # None: refused by the address's limit (its owner was told)
    position: int | None  # on the waitlist
    token: str | None  # a new booking's cancel token (sent to the booker, not shown)
    existing: bool = False  # a repeat: the owner was sent the booking again


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _person(webinar_id: str, identity: Identity) -> str:
    """The holder: one live booking per person and session, whatever the booking's id."""
    digest = hashlib.sha256(f"{webinar_id}|{identity.kind}|{identity.value}".encode())
    return digest.hexdigest()[:24]


def _booker(identity: Identity) -> str:
    """The person across sessions, for their limits; a digest, not their address."""
    return hashlib.sha256(f"booker|{identity.kind}|{identity.value}".encode()).hexdigest()[:32]


def book(
    deps: Deps,
    webinar: Webinar,
    request: dict[str, Any],
    limits: BookingLimits | None = None,
) -> BookingResult:
    """A seat if there is one, else a waitlist place, else 409; never two live bookings for one
    person. A person who books again is sent their booking again (nothing else changes), and a
    person over their limit is told so; the booker's answer is the same in every case.
    `limits`: the settings' BOOKING_MAX_ACTIVE and BOOKING_MAX_PER_DAY unless given."""
    store: WebinarStore = deps.store
    clock = deps.clock
    if limits is None:
        limits = BookingLimits(deps.settings.booking_max_active, deps.settings.booking_max_per_day)
    now = clock()
    if webinar.status != "scheduled":
        raise Conflict("This session is cancelled.", code="session_cancelled")
    if webinar.starts_at <= now:
        raise Conflict("This session has already started.", code="session_started")
    email = (request.get("email") or "").strip().lower() or None
    phone = (request.get("phone") or "").strip() or None
    identity = Identity("email", email) if email else Identity("phone", phone or "")
    holder, booker = _person(webinar.id, identity), _booker(identity)
    # The booking page's language is the citizen's choice, kept by their contact (None: no
    # choice; the booking's messages are in the service's default).
    language = deps.wording().spoken(request["language"]) if request.get("language") else None
    for _ in range(3):
        try:
            return _book_new(
                webinar,
                (email, phone, request.get("first_name")),
                identity,
                (holder, booker),
                deps,
                limits,
                language,
            )
        except BookingRefused as refused:
            if refused.role == "rate":
                raise _too_many() from refused
            if refused.role == "limit":
                if store.recount_booker(booker, clock()):  # sessions that ended stop counting
                    continue
                return _over_limit(deps, webinar, identity, booker, limits, language)
            repeat = _repeat(deps, webinar, identity, holder, booker, limits)
            if repeat is not None:
                return repeat
            # the holder's booking was cancelled or erased meanwhile: book afresh
    raise Conflict("The session is busy; try again.", code="busy")


def _too_many() -> TooManyRequests:
    return TooManyRequests(
        "Too many booking requests for this address or number today; try again tomorrow.",
        code="too_many_bookings",
    )


def _book_new(
    webinar: Webinar,
    contact: tuple[str | None, str | None, str | None],  # email, phone, first name
    identity: Identity,
    person: tuple[str, str],  # holder, booker
    deps: Deps,
    limits: BookingLimits,
    language: str | None,
) -> BookingResult:
    """One transaction takes the seat (or waitlist place), the holder, a place among the person's
    upcoming sessions and one of today's messages, and records the confirmation on the case;
    it is sent after the transaction commits. A waitlist place's number is counted before it is
    taken (a booking landing meanwhile with an earlier time can make it one too low). The first
    name is kept for practitioners only: no message we send carries it."""
    email, phone, first_name = contact
    holder, booker = person
    store: WebinarStore = deps.store
    now = deps.clock()
    for mode in ("seat", "waitlist"):
        token = secrets.token_urlsafe(24)
        booking_id = new_id()
        plan = BookingPlan(
            webinar.id,
            booking_id,
            mode,
            _hash(token),
            email,
            phone,
            first_name,
            now,
            holder=holder,
            booker=booker,
            ends_at=webinar.starts_at + timedelta(minutes=webinar.duration_minutes),
            max_active=limits.max_active,
            max_per_day=limits.max_per_day,
            # a number given beside an address is messaged too: its daily limit holds as well
            also_told=(_booker(Identity("phone", phone)),) if email and phone else (),
            language=language,
        )
        word = "Booked" if mode == "seat" else "Waitlisted for"
        status = "confirmed" if mode == "seat" else "waitlisted"
        waitlisted_at = f"{iso_utc(now)}#{booking_id}" if mode == "waitlist" else None
        position = store.waitlist_position(webinar.id, waitlisted_at) + 1 if waitlisted_at else None
        told = Booking(webinar.id, booking_id, status, email, phone, None, now, language=language)
        message = InboundMessage(
            channel="webinar",
            provider="booking",
            provider_id=f"{webinar.id}:{booking_id}",
            sender=identity,
            recipient=webinar.id,
            body=f"{word} webinar: {webinar.title}",
            queue=webinar.queue,
            language=language,
        )
        answers = _messages(deps, told, webinar, status, position, token)
        try:
            outcome = intake.receive(deps, message, booking=plan, answers=answers)
        except SessionUnavailable:
            continue
        booking = Booking(
            webinar.id,
            booking_id,
            status,
            email,
            phone,
            first_name,
            now,
            outcome.case_id,
            waitlisted_at=waitlisted_at,
            holder=holder,
            booker=booker,
            language=language,
        )
        _tell(deps, outcome.answers)
        log.info("webinar booked", extra={"webinar_id": webinar.id, "status": booking.status})
        return BookingResult(booking, position, token)
    raise Conflict("This session and its waitlist are full.", code="full")


def _only_to(booking: Booking, identity: Identity) -> Booking:
    """The booking addressed to the one identity that matched it, never to another address or
    number the requester added (that would tell a stranger the owner's booking)."""
    return replace(
        booking,
        email=identity.value if identity.kind == "email" else None,
        phone=identity.value if identity.kind == "phone" else None,
    )


def _repeat(
    deps: Deps,
    webinar: Webinar,
    identity: Identity,
    holder: str,
    booker: str,
    limits: BookingLimits,
) -> BookingResult | None:
    """The person holds a live booking: send it again, with a new cancel link, to them only.
    None when the holder is stale (its booking cancelled or erased): it is released."""
    store: WebinarStore = deps.store
    now = deps.clock()
    booking_id = store.held_booking(webinar.id, holder)
    booking = store.get_booking(webinar.id, booking_id) if booking_id else None
    if booking is None or booking.status == "cancelled" or not (booking.email or booking.phone):
        if booking_id:
            store.release_holder(webinar.id, holder, booking_id)
        return None
    if not store.count_booking_message(booker, now, limits.max_per_day):
        raise _too_many()
    token = secrets.token_urlsafe(24)
    store.add_booking_token(booking, _hash(token))
    position = _position(booking, store)
    _tell(
        deps, _messages(deps, _only_to(booking, identity), webinar, booking.status, position, token)
    )
    log.info("webinar booking sent again", extra={"webinar_id": webinar.id})
    return BookingResult(booking, position, None, existing=True)


def _over_limit(
    deps: Deps,
    webinar: Webinar,
    identity: Identity,
    booker: str,
    limits: BookingLimits,
    language: str | None,
) -> BookingResult:
    """Nothing is booked; the address's owner (only) is told why."""
    store: WebinarStore = deps.store
    now = deps.clock()
    if not store.count_booking_message(booker, now, limits.max_per_day):
        raise _too_many()
    refused = Booking(webinar.id, "", "refused", None, None, None, now, language=language)
    person = _only_to(refused, identity)
    _tell(deps, _messages(deps, person, webinar, "over_limit", limits.max_active))
    log.info("webinar booking over the limit", extra={"webinar_id": webinar.id})
    return BookingResult(None, None, None)


def iso_utc(at: datetime) -> str:
    """The store's timestamp format, which orders the waitlist."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _position(booking: Booking, store: WebinarStore) -> int | None:
    if booking.status != "waitlisted" or booking.waitlisted_at is None:
        return None
    return store.waitlist_position(booking.webinar_id, booking.waitlisted_at)


def cancel(deps: Deps, token: str) -> Booking:
    """The citizen cancels; a freed seat goes to the first waitlisted booking, who is told."""
    store: WebinarStore = deps.store
    booking = store.booking_for_token(_hash(token))
    if booking is None:
        raise NotFound("No booking with that token.")
    if booking.status == "cancelled":
        return booking
    webinar = store.get_webinar(booking.webinar_id)
    for attempt in range(12):
        now = deps.clock()
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
        if booking.booker:  # no longer among the person's live bookings (see release_session)
            store.release_session(booking.booker, booking.webinar_id)
        _note(store, booking, "Cancelled the webinar booking", now)
        if promote is not None:
            _note(store, promote, "Promoted from the waitlist: seat confirmed", now)
            if webinar is not None:
                _tell(deps, _messages(deps, promote, webinar, "promoted", None))
        return store.get_booking(booking.webinar_id, booking.id) or booking
    raise Conflict("The session is busy; try again.", code="busy")


def _note(store: WebinarStore, booking: Booking, text: str, now: datetime) -> None:
    if booking.case_id:
        booked = {"provider": "booking", "provider_id": booking.id}
        store.add_interaction(
            new_entry(booking.case_id, now, "webinar", "internal", text, **booked)
        )


def cancel_session(deps: Deps, webinar_id: str) -> int:
    """Managers cancel a session: every booked and waitlisted citizen is told."""
    store: WebinarStore = deps.store
    webinar = store.get_webinar(webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    if not store.cancel_webinar(webinar_id):
        raise Conflict("The session is already cancelled.", code="session_cancelled")
    told = 0
    now = deps.clock()
    for booking in store.bookings_of(webinar_id):
        if booking.status in ("confirmed", "waitlisted"):
            _tell(deps, _messages(deps, booking, webinar, "session_cancelled", None))
            _note(store, booking, f"The webinar was cancelled: {webinar.title}", now)
            told += 1
    return told


def attendance(deps: Deps, webinar_id: str, booking_id: str, attended: bool) -> Booking:
    store: WebinarStore = deps.store
    booking = store.get_booking(webinar_id, booking_id)
    if booking is None:
        raise NotFound("No such booking.")
    store.set_attendance(booking, attended)
    _note(store, booking, "Attended the webinar" if attended else "Did not attend", deps.clock())
    return store.get_booking(webinar_id, booking_id) or booking


def send_reminders(deps: Deps) -> int:
    """24 h and 1 h before: each booking's reminder is claimed by one conditional write first,
    so a run that overlaps or repeats another sends nothing twice."""
    store: WebinarStore = deps.store
    now = deps.clock()
    sent = 0
    for which, ahead in REMINDERS:
        for webinar in store.webinars_between(now, now + ahead):
            if webinar.status != "scheduled":
                continue
            for booking in store.bookings_of(webinar.id):
                if booking.status == "confirmed" and store.mark_reminded(booking, which, now):
                    _tell(deps, _messages(deps, booking, webinar, f"reminder_{which}", None))
                    sent += 1
    return sent


# --- telling the citizen -------------------------------------------------------------------


def _text(
    deps: Deps,
    language: str,
    kind: str,
    webinar: Webinar,
    position: int | None,
    cancel: str | None,
) -> str:
    """Our words (`webinar.<kind>` in the booking's language) and the manager-written session
    details only: the booker chose the recipient, so nothing else they typed (their first name)
    may travel to it (no phishing relay). Values are never read as placeholders themselves."""
    words = deps.wording()
    local = webinar.starts_at.astimezone(deps.hours().tz)
    when = words.say(language, "webinar.when", **words.date_words(language, local))
    link = words.say(language, "webinar.cancel_link", url=cancel) if cancel else ""
    return words.say(
        language,
        f"webinar.{kind}",
        title=webinar.title,
        when=when,
        join_url=webinar.join_url,
        position=str(position),
        cancel_link=link,
    )


def _tell(deps: Deps, messages: tuple[Outgoing, ...]) -> None:
    """Sent after the booking committed: it stands whatever happens here (`_deliver`)."""
    for out in messages:
        _deliver(deps, out)


def _messages(
    deps: Deps,
    booking: Booking,
    webinar: Webinar,
    kind: str,
    position: int | None,
    token: str | None = None,
) -> tuple[Outgoing, ...]:
    """What the booking's addresses are told, on its case (none yet: `case_id` empty). One that
    cannot even be composed (session data from before the schemas checked it) is logged and
    left out. A number that texted STOP gets no SMS, booking or not. `token`: the booking's
    cancel link goes with the message."""
    cancel = deps.public_url(f"/bookings/{token}/cancel") if token else None
    language = deps.wording().language(booking.language)
    text = _text(deps, language, kind, webinar, position, cancel)
    case_id = booking.case_id or ""
    messages = []
    if booking.email:
        try:
            if kind in ("confirmed", "promoted", "session_cancelled"):
                cancelled = kind == "session_cancelled"
                subject = deps.wording().say(
                    language,
                    "webinar.subject_cancelled" if cancelled else "webinar.subject_booked",
                    title=webinar.title,
                )
                raw = mail.invitation(deps, booking.email, webinar, text, subject, cancelled)
            else:
                raw = mail.compose(
                    deps,
                    mailbox="webinars",
                    token=None,
                    to=booking.email,
                    subject=webinar.title,
                    body=text,
                )[0]
            messages.append(
                Outgoing(case_id, "email", booking.email, text, raw=raw, automated=True)
            )
        except Exception as error:
            log.error(
                "could not compose the webinar message",
                extra={"webinar_id": booking.webinar_id, "error": type(error).__name__},
            )
    if booking.phone and not _opted_out(deps.store, booking.phone):
        messages.append(Outgoing(case_id, "sms", booking.phone, text, automated=True))
    return tuple(messages)


def _opted_out(store: WebinarStore, phone: str) -> bool:
    record = store.find_identity(Identity("phone", phone))
    return bool(record and record.opted_out)


def _deliver(deps: Deps, out: Outgoing) -> None:
    """Never raises: the caller's answer (a booking made, a seat freed) must not be lost to a
    message. Recorded on its case (unless its citizen was erased meanwhile), then sent; refused
    or timed out, it waits in the outbox; anything else is logged (ids only). No case: a
    refusal books nothing, so there is none to keep it on."""
    try:
        if not out.case_id:
            delivery.transmit(deps, out.channel, out.to, out.body, out.raw)
            return
        delivery.send(deps, out, deps.store.add_interaction_unless_erased)
    except Exception as error:
        log.error(
            "could not tell the citizen",
            extra={"case_id": out.case_id, "channel": out.channel, "error": type(error).__name__},
        )


# --- managers' sessions, and the public listing ----------------------------------------------

UPCOMING = timedelta(days=365)


def upcoming(deps: Deps) -> list[Webinar]:
    """The scheduled sessions of the coming year, for the public listing."""
    now = deps.clock()
    sessions = deps.store.webinars_between(now, now + UPCOMING)
    return [w for w in sessions if w.status == "scheduled"]


def create(deps: Deps, fields: dict[str, Any]) -> Webinar:
    """A new session from a manager's fields (`starts_at` already a time with its offset)."""
    webinar = Webinar(
        id=new_id(),
        title=fields["title"],
        description=fields.get("description", ""),
        starts_at=fields["starts_at"],
        duration_minutes=fields["duration_minutes"],
        capacity=fields["capacity"],
        waitlist_size=fields.get("waitlist_size", 0),
        queue=fields.get("queue", "general"),
        join_url=fields.get("join_url", ""),
        host=fields.get("host"),
    )
    deps.store.create_webinar(webinar)
    return webinar


def update(deps: Deps, webinar_id: str, changes: dict[str, Any]) -> Webinar:
    updated: Webinar | None = deps.store.update_webinar(webinar_id, changes)
    if updated is None:
        raise NotFound("No such scheduled webinar.")
    return updated


def bookings(deps: Deps, webinar_id: str) -> list[Booking]:
    found: list[Booking] = deps.store.bookings_of(webinar_id)
    return found
