"""The one way a message leaves us, on any channel: record -> send -> status, or park -> retry
with back-off -> fail visibly on the case.

`send(deps, Outgoing(...))` is the one call. The message is on the case's timeline before it is
sent, so nothing sent is ever missing from the case. Its delivery status then only moves forward
(`RANKS`, one ranking per channel kind), because providers report late, twice or out of order.
A message the provider did not take (5xx, time-out) waits in the outbox, an email's bytes kept
in the blob store, and `retry_due` (a scheduled job) tries it again 1, 2, 4 and 8 minutes later;
after `MAX_ATTEMPTS` it fails visibly on the case. The record itself is in the outbox too, due
when its lease ends (`lease`: longer than any send can take); the status written after the send
takes it out in the same update, so nothing is written twice on the happy path. A send that
never finished (its Lambda timed out, ran out of memory or was replaced) leaves the message due:
`retry_due` sends an SMS or a chat message then; an email whose bytes were not kept, or a
call, fails visibly on the case instead (a call is not placed minutes late). A final refusal
(an invalid number, a country off the allow-list, an address SES will not send to) fails at
once. A call is live, not something to send later: it is never parked.

The citizen's side never depends on this: inbound messages are recorded before any sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.domain.errors import Conflict, MessageRejected
from chalicelib.domain.ids import interaction_id
from chalicelib.domain.model import EmailDetails, Identity, Interaction, Retry, StatusUpdate
from chalicelib.domain.records import record

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, SentMessage

log = logging.getLogger("contact-centre")

Kind = Literal["sms", "email", "voice", "chat"]

# Each channel kind's provider statuses in lifecycle order; final states share one rank (an SMS
# can still be read after it was delivered). A status not listed is not tracked.
RANKS: dict[str, dict[str, int]] = {
    "sms": {
        "queued": 1,
        "local": 1,
        "accepted": 1,
        "scheduled": 1,
        "sending": 2,
        "sent": 3,
        "delivered": 4,
        "undelivered": 4,
        "failed": 4,
        "canceled": 4,
        "read": 5,
    },
    "email": {"local": 1, "queued": 1, "sent": 3, "delivered": 4, "bounced": 4, "failed": 4},
    "chat": {"queued": 1, "delivered": 4, "failed": 4},
    "voice": {
        "queued": 1,
        "initiated": 1,
        "local": 1,
        "ringing": 2,
        "in-progress": 3,
        "answered": 3,
        "completed": 4,
        "busy": 4,
        "no-answer": 4,
        "failed": 4,
        "canceled": 4,
    },
}
# What an answer from the provider with a status we do not track counts as.
ACCEPTED: dict[str, str] = {
    "sms": "queued",
    "email": "sent",
    "voice": "queued",
    "chat": "delivered",
}
# Where Twilio reports the delivery of a message or call (signed, like all its requests).
STATUS_PATHS: dict[str, str] = {
    "sms": "/webhooks/twilio/sms/status",
    "voice": "/webhooks/twilio/voice/status",
}
FAILED = "failed"
DROPPED = "dropped"
RETRYING = "retrying"
MAX_ATTEMPTS = 5
INTERRUPTED = "interrupted"  # why a message whose send never finished failed
# How long a message recorded before its send waits before the outbox takes it over: longer
# than a send can take (the provider's time-out), so a retry never races a send still running.
LEASE = timedelta(minutes=2)


def lease(deps: Deps, now: datetime) -> datetime:
    """When a message recorded now for sending is due in the outbox, should its send die."""
    return now + LEASE + timedelta(seconds=deps.settings.provider_timeout_seconds)


def rank(kind: str, status: str) -> int | None:
    return RANKS.get(kind, {}).get(status)


@record
class Outgoing:
    """One message to send: on which case, by which channel, to whom, what.

    `raw`: an email's composed bytes (`mail.compose`, `mail.invitation`); `caller`: for a call,
    the practitioner's phone that rings first. `interaction_id`: the message was recorded
    already (an acknowledgement, or a booking's confirmation, written with the citizen's
    message in one transaction: `intake.receive`)."""

    case_id: str
    channel: Kind
    to: str
    body: str
    raw: bytes | None = None
    author: str | None = None
    automated: bool = False
    email: EmailDetails | None = None
    caller: str | None = None
    interaction_id: str | None = None
    card: str | None = None  # on chat: how the widget shows it ("survey": a rating card)


@record
class Sent:
    case_id: str
    interaction_id: str
    status: str
    provider: str | None = None
    provider_id: str | None = None
    message: Interaction | None = None  # as recorded by this call, with its status since


def reference(case_id: str, interaction_id_: str) -> str:
    """Carried in the status-callback URL, so a callback finds its message with one write."""
    return f"{case_id}.{interaction_id_}"


def parse_reference(ref: str) -> tuple[str, str] | None:
    case_id, dot, interaction = ref.partition(".")
    return (case_id, interaction) if dot and case_id and interaction else None


def status_url(deps: Deps, kind: str, ref: str | None) -> str | None:
    path = STATUS_PATHS.get(kind)
    return deps.public_url(f"{path}?ref={ref}") if path and ref else None


def refuse_unreachable(deps: Deps, kind: str, to: Identity) -> None:
    """A practitioner's message to a number that texted STOP, or an address that bounces or
    complained, is refused before anything is recorded."""
    record = deps.store.find_identity(to)
    if record is None:
        return
    if kind == "sms" and record.opted_out:
        raise Conflict(
            "The citizen has opted out of SMS (sent STOP); they must send START first.",
            code="opted_out",
        )
    if kind == "email" and record.undeliverable:
        raise Conflict(
            "Email to this citizen bounces or was reported; use another channel.",
            code="undeliverable",
        )


def send(deps: Deps, out: Outgoing, record: Callable[[Interaction], object] | None = None) -> Sent:
    """Record, then send; a refusal parks the message (or fails it, if final). `record` writes
    the timeline entry instead of `deps.store.add_interaction` (a reply's entry is conditional
    on the case being as the practitioner read it); when it answers False (the case's citizen
    was erased), nothing is sent and the status is `dropped`. A call that is not placed raises,
    after its attempt is failed on the case."""
    message_id = out.interaction_id
    message = None
    if message_id is None:
        now = deps.clock()
        message = entry(replace(out, interaction_id=interaction_id(now)), now, lease(deps, now))
        message_id = message.id
        if (record or deps.store.add_interaction)(message) is False:
            log.info("message dropped: its citizen was erased", extra={"case_id": out.case_id})
            return Sent(out.case_id, message_id, DROPPED)
    try:
        sent = transmit(
            deps,
            out.channel,
            out.to,
            out.body,
            out.raw,
            reference(out.case_id, message_id),
            out.caller,
            _sender(out.automated),
            out.card,
        )
    except Exception as error:
        if out.channel == "voice":
            rejected = isinstance(error, MessageRejected)
            reason = f"rejected: {error}" if rejected else type(error).__name__
            deps.store.update_delivery_status(out.case_id, message_id, _failed("voice", reason))
            raise
        status = failed_first_try(deps, out.case_id, message_id, out.channel, error, out.raw)
        return Sent(out.case_id, message_id, status, message=_with(message, status))
    update = _accepted(out.channel, sent, ACCEPTED[out.channel])
    deps.store.update_delivery_status(out.case_id, message_id, update)
    status = update.status
    return Sent(
        out.case_id,
        message_id,
        status,
        sent.provider,
        sent.provider_id,
        _with(message, status, sent.provider, sent.provider_id),
    )


def entry(out: Outgoing, now: datetime, lease_until: datetime) -> Interaction:
    """The timeline entry of a message to send, under its `interaction_id`: queued, and in the
    outbox from `lease_until` (`lease`) unless its send finishes first."""
    assert out.interaction_id is not None
    return Interaction(
        id=out.interaction_id,
        case_id=out.case_id,
        at=now,
        channel=out.channel,
        direction="out",
        body=out.body,
        provider=None,
        status="queued",
        to=out.to,
        author=out.author,
        automated=out.automated,
        email=out.email,
        lease_until=lease_until,
    )


def _sender(automated: bool) -> str:
    """Who a chat message shows as from: the service's own messages stay the service's, retried
    or not; everything else is a practitioner's."""
    return "service" if automated else "practitioner"


def _with(
    message: Interaction | None,
    status: str,
    provider: str | None = None,
    provider_id: str | None = None,
) -> Interaction | None:
    if message is None:
        return None
    return replace(message, status=status, provider=provider, provider_id=provider_id)


def _failed(kind: str, why: str) -> StatusUpdate:
    return StatusUpdate(FAILED, RANKS[kind][FAILED], error_code=why)


def _accepted(kind: str, sent: SentMessage, otherwise: str) -> StatusUpdate:
    """The provider took it: its status, if one we rank, else `otherwise`."""
    status = sent.status if sent.status in RANKS[kind] else otherwise
    return StatusUpdate(status, RANKS[kind][status], sent.provider_id, sent.provider)


def transmit(
    deps: Deps,
    kind: str,
    to: str,
    body: str,
    raw: bytes | None,
    ref: str | None = None,
    caller: str | None = None,
    sender: str = "practitioner",
    card: str | None = None,
) -> SentMessage:
    """The one place a provider is asked to send; `ref`: the recorded message the provider's
    status reports update (for an email, the case and message it is). A chat message keeps
    the id of its timeline entry, so the conversation and the case sort it alike."""
    sent: SentMessage
    if kind == "chat":
        from chalicelib.domain.model import ChatMessage

        message_id = (parse_reference(ref or "") or ("", interaction_id(deps.clock())))[1]
        message = ChatMessage(message_id, deps.clock(), sender, body, card=card)
        sent = deps.chat.send_chat(to, message)
    elif kind == "email":
        if raw is None:
            raise ValueError("an email is sent as its composed bytes")
        sent = deps.mail.send_email(raw, to, ref)
    elif kind == "voice":
        if caller is None:
            raise ValueError("a call rings a practitioner's phone first")
        sent = deps.calls.connect(caller, to, status_url(deps, kind, ref))
    else:
        sent = deps.sms.send_sms(to, body, status_url(deps, kind, ref))
    return sent


def record_status(
    deps: Deps,
    ref: str | None,
    status: str,
    provider_id: str | None,
    error_code: str | None,
    kind: str = "sms",
    duration_seconds: int | None = None,
) -> bool:
    """Apply a provider's delivery report; True when it moved the status forward."""
    parsed = parse_reference(ref or "")
    ranked = rank(kind, status)
    if parsed is None or ranked is None:
        return False  # not ours, or a status we do not track: acknowledged and ignored
    case_id, message_id = parsed
    update = StatusUpdate(
        status, ranked, provider_id, error_code=error_code, duration_seconds=duration_seconds
    )
    return bool(deps.store.update_delivery_status(case_id, message_id, update))


# --- the outbox ----------------------------------------------------------------------------


def next_try(now: datetime, attempts: int) -> datetime:
    """1, 2, 4, 8 minutes after the 1st, 2nd, 3rd, 4th failure."""
    return now + timedelta(minutes=2 ** (attempts - 1))


def failed_first_try(
    deps: Deps,
    case_id: str,
    message_id: str,
    kind: str,
    error: Exception,
    raw: bytes | None = None,
) -> str:
    """The provider refused the first try: the message waits for the next one (an email's
    bytes kept in the blob store for it), unless the refusal is final."""
    if isinstance(error, MessageRejected):
        return _rejected(deps, case_id, message_id, kind, error)
    raw_key = None
    if raw is not None:
        raw_key = f"outbox/{case_id}/{message_id}.eml"
        deps.blobs.put(raw_key, raw, "message/rfc822")
    now = deps.clock()
    retry = Retry(1, next_try(now, 1), type(error).__name__, raw_key)
    if not deps.store.park(case_id, message_id, retry):
        # erased meanwhile: the message has no address left, and its bytes must not stay either
        if raw_key is not None:
            deps.blobs.delete(raw_key)
        return FAILED
    log.warning(
        "provider refused; message parked",
        extra={"case_id": case_id, "error": type(error).__name__},
    )
    return RETRYING


def _rejected(deps: Deps, case_id: str, message_id: str, kind: str, error: MessageRejected) -> str:
    deps.store.unpark(case_id, message_id, _failed(kind, f"rejected: {error.code}"))
    log.warning("provider rejected the message", extra={"case_id": case_id, "code": error.code})
    return FAILED


def retry_due(deps: Deps) -> dict[str, int]:
    """The scheduled job: every parked message that is due, claimed first by a conditional
    write (so overlapping runs never send one twice), is tried again; so is one whose first
    send never finished (attempts 0: its lease ended with no status)."""
    now = deps.clock()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    store = deps.store
    for entry in store.due(now):
        if not store.claim(entry, now + timedelta(minutes=5)):
            continue  # another run has it
        kind = entry.channel if entry.channel in RANKS else "sms"
        if entry.attempts == 0 and kind in ("email", "voice"):
            # its first send died: a call is not placed late, an email's bytes were not kept
            # (an SMS or a chat message is sent now: its record holds all it needs)
            store.unpark(entry.case_id, entry.interaction_id, _failed(kind, INTERRUPTED))
            counts["failed"] += 1
            log.warning("send interrupted; failed", extra={"case_id": entry.case_id})
            continue
        try:
            raw = deps.blobs.get(entry.raw_key) if kind == "email" and entry.raw_key else None
            sent = transmit(
                deps,
                kind,
                entry.to,
                entry.body,
                raw,
                reference(entry.case_id, entry.interaction_id),
                sender=_sender(entry.automated),
            )
        except MessageRejected as error:
            _rejected(deps, entry.case_id, entry.interaction_id, kind, error)
            counts["failed"] += 1
            continue
        except Exception as error:
            attempts = entry.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                given_up = _failed(kind, f"gave up: {type(error).__name__}")
                store.unpark(entry.case_id, entry.interaction_id, given_up)
                counts["failed"] += 1
                log.warning("gave up sending", extra={"case_id": entry.case_id})
            elif store.park(
                entry.case_id,
                entry.interaction_id,
                Retry(attempts, next_try(now, attempts), type(error).__name__, entry.raw_key),
            ):
                counts["retrying"] += 1
            else:  # its contact was erased while we tried: nothing is left to send
                counts["failed"] += 1
            continue
        store.unpark(entry.case_id, entry.interaction_id, _accepted(kind, sent, "sent"))
        counts["sent"] += 1
    return counts


def send_sms(
    deps: Deps,
    case_id: str,
    body: str,
    author: str | None = None,
    to: Identity | None = None,
    record: Callable[[Interaction], None] | None = None,
) -> Sent:
    """A practitioner's SMS on the case's number (`to`, when the caller has read the case
    already); refused for an opted-out number."""
    from chalicelib.domain.errors import NotFound

    to = to or deps.store.get_reply_identity(case_id)
    if to is None:
        raise NotFound("No such case.")
    if to.kind != "phone":
        raise Conflict("This case's citizen has no phone number to text.", code="no_sms_address")
    refuse_unreachable(deps, "sms", to)
    return send(deps, Outgoing(case_id, "sms", to.value, body, author=author), record)
