"""Every inbound contact: identify the citizen, find or open their one case, record, acknowledge.

One read (the identity, which carries a shortcut to the open case) and one transaction per message
in the common case. The transaction's conditions, not earlier reads, guarantee the rules: one open
case per contact, one interaction per provider message. When a condition loses a race, we re-plan
from fresh reads; the loser of a duplicate delivery answers exactly what the winner answered.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain import autoreplies, routing, safeguarding, satisfaction, wording
from chalicelib.domain.errors import (
    Busy,
    CaseNotOpen,
    DuplicateDelivery,
    IdentityTaken,
    OpenCaseExists,
    WriteConflict,
)
from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.ids import interaction_id, new_id, reply_token
from chalicelib.domain.model import (
    BookingPlan,
    CaseOpening,
    CaseRef,
    IdentityRecord,
    InboundMessage,
    InboundWrite,
    Interaction,
)
from chalicelib.domain.records import record
from chalicelib.domain.risk import Risk

if TYPE_CHECKING:
    from chalicelib.domain.delivery import Outgoing
    from chalicelib.domain.ports import Deps, IntakeAndRoutingStore, RoutingStore

log = logging.getLogger("contact-centre")

MAX_ATTEMPTS = 12
_UNKNOWN = object()


@record
class IntakeOutcome:
    case_id: str
    new_case: bool
    duplicate: bool
    reply: str | None
    reply_ref: str | None  # "<case id>.<interaction id>" of the recorded automatic reply
    interaction_id: str | None = None  # the inbound interaction (a call's, for its later events)
    reply_token: str | None = None  # a new case's reply-address token
    language: str | None = None  # what the automatic reply was written in
    # `answers`, recorded with the message on its case (queued), to send through `delivery.send`
    answers: tuple[Outgoing, ...] = ()


def receive(
    deps: Deps,
    message: InboundMessage,
    thread: CaseRef | None = None,
    booking: BookingPlan | None = None,
    answers: tuple[Outgoing, ...] = (),
    identity: tuple[IdentityRecord | None] | None = None,
) -> IntakeOutcome:
    """Record one inbound message on the citizen's case; safe to repeat with the same message.
    `thread`: the open case an email replies to (its reply address or Message-IDs said so).
    `answers`: messages that answer it (a booking's confirmation, `case_id` left empty), recorded
    on the same case in the same transaction, so none is sent that the case does not show; the
    outcome carries them, with their case and ids, for `delivery.send`.
    `identity`: the sender's identity as the caller just read it (a one-tuple: none found is an
    answer too), so the first attempt need not read it again; a stale one loses on the
    transaction's conditions like any read, and every retry reads afresh."""
    store: IntakeAndRoutingStore = deps.store
    if message.channel == "sms" and (rated := satisfaction.take_sms(deps, message)):
        return IntakeOutcome(rated, new_case=False, duplicate=False, reply=None, reply_ref=None)
    hours, clock, words = deps.hours(), deps.clock, deps.wording()
    heard = _Languages(words, message, _detected(message))
    flag = _flag(deps, message)
    authoritative_open_case: object = _UNKNOWN
    stored: tuple[str, str | None] = ("", None)  # (contact, its language), read if a case opens
    for attempt in range(MAX_ATTEMPTS):
        if attempt == 0 and identity is not None:
            (record,) = identity
        else:
            record = store.find_identity(message.sender)
        now = clock()
        said = heard
        if thread is not None:
            ours = record is not None and record.contact_id == thread.contact_id
            write = _plan(
                said,
                hours,
                now,
                contact_id=thread.contact_id,
                new_contact=False,
                open_case_id=thread.id,
                opted_out=record.opted_out if record else False,
                linked_case_id=record.open_case_id if ours and record else thread.id,
                new_identity=record is None,
                risk=flag,
            )
        elif record is None:
            write = _plan(
                said,
                hours,
                now,
                contact_id=new_id(),
                new_contact=True,
                open_case_id=None,
                opted_out=False,
                linked_case_id=None,
                risk=flag,
            )
        else:
            open_case_id = (
                record.open_case_id
                if authoritative_open_case is _UNKNOWN
                else authoritative_open_case
            )
            if open_case_id is None:  # a new case: it starts in the contact's language
                if stored[0] != record.contact_id:
                    stored = (record.contact_id, store.contact_language(record.contact_id))
                said = replace(heard, stored=stored[1])
            write = _plan(
                said,
                hours,
                now,
                contact_id=record.contact_id,
                new_contact=False,
                open_case_id=open_case_id,  # type: ignore[arg-type]  # str | None: not _UNKNOWN
                opted_out=record.opted_out,
                linked_case_id=record.open_case_id,
                risk=flag,
            )
        if booking is not None or answers or message.channel == "email":
            from chalicelib.domain import delivery  # not on an SMS's cold path

            # Sent after this write (an email's acknowledgement, a booking's confirmations):
            # each in the outbox from its lease, should its send die. An SMS's acknowledgement
            # goes back in the TwiML answer instead.
            until = delivery.lease(deps, now)
            email = message.channel == "email"
            mine = tuple(
                replace(i, lease_until=until) if email and i.direction == "out" else i
                for i in write.interactions
            )
            recorded = _answers(answers, write)
            write = replace(
                write,
                booking=booking,
                interactions=mine + tuple(delivery.entry(out, now, until) for out in recorded),
            )
        try:
            store.record_inbound(write)
        except DuplicateDelivery:
            earlier = store.find_delivery(message.provider, message.provider_id)
            if earlier is None:  # the winner's transaction is not visible yet
                _backoff(attempt)
                continue
            log.info(
                "inbound duplicate",
                extra={"case_id": earlier.case_id, "provider": message.provider},
            )
            return IntakeOutcome(
                earlier.case_id,
                False,
                True,
                earlier.reply,
                earlier.reply_ref,
                earlier.interaction_id,
            )
        except (OpenCaseExists, CaseNotOpen):
            if thread is not None:  # the thread's case closed meanwhile: a message like any other
                thread = None
                continue
            # Our shortcut was stale: ask the open-case pointer, which is the truth.
            authoritative_open_case = (
                store.find_open_case(record.contact_id) if record is not None else _UNKNOWN
            )
            continue
        except (IdentityTaken, WriteConflict):
            _backoff(attempt)
            continue
        log.info(
            "inbound recorded",
            extra={
                "case_id": write.case_id,
                "channel": message.channel,
                "new_case": bool(write.opening),
                "keyword": message.keyword,
                "auto_reply": write.reply is not None,
                "attempts": attempt + 1,
            },
        )
        level = _assess(deps, write, flag)
        if write.opening is not None and message.channel not in ("voice", "webinar"):
            # a caller is routed once they choose a topic; a booking alone asks for nobody yet
            _route_new_case(write, store, now, level)
        elif _asks_on_a_booking(write, record, message):
            _promote_booked(deps, write, message)
        return IntakeOutcome(
            write.case_id,
            write.opening is not None,
            False,
            write.reply,
            write.reply_ref,
            write.interactions[0].id,
            write.opening.reply_token if write.opening else None,
            said.answer_in(opens=write.opening is not None),
            _answers(answers, write),
        )
    raise Busy("The case store is busy; please retry.")


def _flag(deps: Deps, message: InboundMessage) -> Risk | None:
    """Safeguarding's assessment of the citizen's words (an email's subject too), before the
    write: a new case is written with its risk and its place in the queue in one transaction,
    so it never waits behind ordinary cases, not even for a moment. Best effort like routing:
    the message is recorded whatever happens here."""
    if message.channel in ("voice", "webinar"):
        return None  # a caller's words come with the menu's speech result (voice.py)
    if message.email and (message.email.quarantine or message.email.auto_reply):
        return None  # spam selling pills, bounces, robots: nobody to alert or answer about
    text = f"{message.email.subject}\n{message.body}" if message.email else message.body
    try:
        return safeguarding.assess(deps, text)
    except Exception:
        log.exception("risk assessment failed", extra={"channel": message.channel})
        return None


def _assess(deps: Deps, write: InboundWrite, flag: Risk | None) -> str | None:
    """The flag on the case, noted, audited and alerted (raised on a case already open; a new
    one was written with it); best effort like routing."""
    if flag is None:
        return None
    try:
        safeguarding.apply(deps, write.case_id, flag, stored=write.opening is not None)
    except Exception:
        log.exception("risk assessment failed", extra={"case_id": write.case_id})
    return flag.level


def _answers(answers: tuple[Outgoing, ...], write: InboundWrite) -> tuple[Outgoing, ...]:
    """The answers as recorded on the write's case: right after the message (and its reply)."""
    inbound = write.interactions[0].id
    return tuple(
        replace(out, case_id=write.case_id, interaction_id=f"{inbound}a{n}")
        for n, out in enumerate(answers)
    )


def _route_new_case(
    write: InboundWrite, store: RoutingStore, now: datetime, risk: str | None = None
) -> None:
    """Best effort: the message is safely recorded; a case that cannot be routed now waits in its
    queue, and the next free slot (or the scheduled sweep) picks it up."""
    assert write.opening is not None
    case = CaseRef(
        write.case_id, write.opening.queue, write.opening.language, write.contact_id, risk=risk
    )
    try:
        routing.route(case, store, now, returning=not write.new_contact)
    except Exception:
        log.exception("routing failed; the case waits in its queue", extra={"case_id": case.id})


def _asks_on_a_booking(
    write: InboundWrite, record: IdentityRecord | None, message: InboundMessage
) -> bool:
    """The citizen's first message on a case that held only their webinar bookings."""
    return (
        write.opening is None
        and message.channel != "webinar"
        and record is not None
        and record.open_case_booked
        and record.open_case_id == write.case_id
    )


def _promote_booked(deps: Deps, write: InboundWrite, message: InboundMessage) -> None:
    """Best effort, like routing a new case: the message is recorded whatever happens here. The
    case now waits in its queue (a high-risk one first) and is routed; a caller is routed by
    their menu choice."""
    try:
        case = deps.store.promote_booked(write.case_id, message.sender, deps.clock())
        if case is not None and message.channel != "voice":
            routing.waiting_again(deps, case)
    except Exception:
        log.exception(
            "a booked case could not be made a case to answer", extra={"case_id": write.case_id}
        )


def _detected(message: InboundMessage) -> wording.Guess:
    """What the words of an SMS, an email or a chat message suggest (a call has none yet)."""
    if message.channel not in ("sms", "email", "chat"):
        return wording.Guess(None, False)
    subject = message.email.subject if message.email else ""
    return wording.identify(f"{subject} {message.body}")


@record
class _Languages:
    """What one message's language is, from what we know: the citizen's choice (a booking page,
    a chat's), a guess from its words, and, when it opens a case for a known contact, the
    contact's language (`stored`; None: they have none)."""

    words: wording.Wording
    message: InboundMessage
    guess: wording.Guess
    stored: str | None = None

    @property
    def chosen(self) -> str | None:
        return self.message.language if self.message.language in self.words.languages else None

    def answer_in(self, *, opens: bool) -> str:
        """A choice or a sure guess first; then, for a new case, the contact's language (one
        "ok" does not turn an English-speaking citizen Danish); then any guess, else the
        service's default."""
        sure = self.chosen or (self.guess.language if self.guess.sure else None)
        known = self.stored if opens else None
        return self.words.language(sure or known or self.guess.language)

    def for_contact(self, *, opens: bool) -> str | None:
        """The contact's language from now on (None: as it is): a new case's language when the
        citizen chose it, their words were sure or the contact had none (their first case).
        Anyone may type anyone's number or address into a booking page, so a booking only
        gives a language to a contact who has none: it never overwrites the citizen's own."""
        if not opens:
            return None
        language = self.answer_in(opens=True)
        if self.message.channel == "webinar":
            return language if self.stored is None else None
        sure = self.chosen is not None or self.guess.sure or self.stored is None
        return language if sure and language != self.stored else None


def _plan(
    said: _Languages,
    hours: OpeningHours,
    now: datetime,
    *,
    contact_id: str,
    new_contact: bool,
    open_case_id: str | None,
    opted_out: bool,
    linked_case_id: str | None,
    new_identity: bool = False,
    risk: Risk | None = None,
) -> InboundWrite:
    message, words, opens = said.message, said.words, open_case_id is None
    message = replace(message, language=said.answer_in(opens=opens))
    opening = None
    case_id = open_case_id
    if case_id is None:
        case_id = new_id()
        opening = CaseOpening(
            case_id,
            contact_id,
            message.queue,
            message.channel,
            now,
            reply_token(),
            message.language,
            risk,
        )

    opted_out_after = {"stop": True, "start": False}.get(message.keyword or "", opted_out)
    reply = _automatic_reply(
        message, hours, words, now, first=opening is not None, opted_out=opted_out_after
    )
    inbound = Interaction(
        id=interaction_id(now),
        case_id=case_id,
        at=now,
        channel=message.channel,
        direction="in",
        body=message.body,
        provider=message.provider,
        provider_id=message.provider_id,
        media=message.media,
        email=message.email,
    )
    interactions = [inbound]
    if reply is not None:
        # The reply is part of the timeline too: a practitioner sees what the citizen was told.
        interactions.append(
            Interaction(
                id=inbound.id + "r",
                case_id=case_id,
                at=now,
                channel=message.channel,
                direction="out",
                body=reply,
                provider=message.provider,
                status="queued",
                automated=True,
                to=message.sender.value,
            )
        )
    return InboundWrite(
        identity=message.sender,
        contact_id=contact_id,
        new_contact=new_contact,
        case_id=case_id,
        opening=opening,
        interactions=tuple(interactions),
        reply=reply,
        link_identity=not new_contact and not new_identity and linked_case_id != case_id,
        opted_out=None if opted_out_after == opted_out and not new_contact else opted_out_after,
        provider=message.provider,
        provider_id=message.provider_id,
        new_identity=new_identity,
        contact_language=said.for_contact(opens=opens),
    )


def _automatic_reply(
    message: InboundMessage,
    hours: OpeningHours,
    words: wording.Wording,
    now: datetime,
    *,
    first: bool,
    opted_out: bool,
) -> str | None:
    """At most one automatic text answer, never to an opted-out number nor to one we may not
    text (a country off the allow-list), never twice in a case. Calls are answered by the
    voice menu instead."""
    language = words.language(message.language)
    if message.channel == "email":
        email = message.email
        clean = email is not None and not (
            email.auto_reply or email.quarantine or email.needs_review
        )
        if not (first and clean):
            return None
        return autoreplies.acknowledgement(words, language, hours, now, "email")
    if message.channel == "chat":
        return autoreplies.acknowledgement(words, language, hours, now, "chat") if first else None
    if opted_out or message.channel != "sms" or not message.answerable:
        return None
    if message.keyword == "help":
        return autoreplies.help_text(words, language, hours, now)
    if message.keyword == "start":
        return autoreplies.resubscribed(words, language)
    if first:
        return autoreplies.acknowledgement(words, language, hours, now)
    return None


def _backoff(attempt: int) -> None:
    """Exponential back-off with jitter, so contending writers spread out."""
    time.sleep(min(0.4, 0.005 * (2**attempt)) * (0.5 + random.random()))
