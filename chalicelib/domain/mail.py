"""Email as a channel: keep every message, thread it onto the right case, acknowledge once,
and send replies that thread in the citizen's own mail client.

Threading trusts only the sender: a message joins the open case of the contact its (DMARC-passing
or unverified) address belongs to, by intake's usual rule. The case's reply address
(`<mailbox>+<token>@<domain>`) and `In-Reply-To`/`References` naming another contact's case only
mark a possible link, which a practitioner confirms or dismisses (`chalicelib/domain/links.py`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from chalicelib.domain import intake
from chalicelib.domain.errors import Conflict
from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.ids import interaction_id, new_id
from chalicelib.domain.intake import IntakeAndRoutingStore, IntakeOutcome
from chalicelib.domain.model import (
    Case,
    CaseRef,
    Delivery,
    EmailDetails,
    Identity,
    InboundMessage,
    Interaction,
)
from chalicelib.domain.ports import OutboundStore, SentMessage
from chalicelib.domain.queues import MAILBOXES

QUARANTINE_QUEUE = "quarantine"  # a queue nobody is routed from: managers review it


class MailStore(IntakeAndRoutingStore, OutboundStore, Protocol):
    def case_for_token(self, token: str) -> CaseRef | None: ...

    def cases_for_message_ids(self, message_ids: tuple[str, ...]) -> dict[str, CaseRef]: ...

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None: ...

    def index_message_id(self, message_id: str, case_id: str, contact_id: str) -> None: ...

    def mark_undeliverable(self, identity: Identity, reason: str) -> bool: ...


class Blobs(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def put_new(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class MailSender(Protocol):
    def send_email(self, raw: bytes, to: str) -> SentMessage: ...


@dataclass(frozen=True)
class Mailboxes:
    """The service's mail domain and the name its messages come from."""

    domain: str
    from_name: str

    def case_address(self, mailbox: str, token: str | None) -> str:
        return f"{mailbox}+{token}@{self.domain}" if token else f"{mailbox}@{self.domain}"


# Line and paragraph breaks of any kind (CR, LF, VT, FF, NEL, U+2028/2029) and other controls:
# a decoded header (`=?utf-8?b?...?=`) may carry them, and they must never reach a header we write.
BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str) -> str:
    """A header value on one line: every break or control character becomes one space."""
    return BREAKS.sub(" ", value).strip()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "attachment"


def receive(
    message: InboundMessage,
    payloads: tuple[bytes, ...],
    raw: bytes,
    raw_key: str | None,
    store: MailStore,
    blobs: Blobs,
    sender: MailSender,
    hours: OpeningHours,
    clock: Callable[[], datetime],
    boxes: Mailboxes,
) -> IntakeOutcome:
    """A repeat of a delivery we have (same SES message id, or on the relay the same bytes) is
    answered from its record and writes nothing. A new message's bytes are kept first, under
    keys of our own choosing that nothing a sender writes can reach, then it is threaded,
    recorded and acknowledged."""
    assert message.email is not None
    earlier = store.find_delivery(message.provider, message.provider_id)
    if earlier is not None:
        return IntakeOutcome(
            earlier.case_id, False, True, earlier.reply, earlier.reply_ref, earlier.interaction_id
        )
    base = new_id()  # ours, random: a later message can never name the same blobs
    written: list[str] = []
    if raw_key is None:
        raw_key = f"raw/{base}.eml"
        blobs.put_new(raw_key, raw, "message/rfc822")
        written.append(raw_key)
    attachments = []
    for index, (attachment, payload) in enumerate(
        zip(message.email.attachments, payloads, strict=True)
    ):
        key = f"attachments/{base}/{index}-{_safe(attachment.filename)}"
        blobs.put_new(key, payload, attachment.content_type)
        written.append(key)
        attachments.append(replace(attachment, key=key))
    email = replace(message.email, attachments=tuple(attachments), raw_key=raw_key)
    message = _trusted(replace(message, email=email), store)
    assert message.email is not None
    if message.email.quarantine:
        message = replace(message, queue=QUARANTINE_QUEUE)
    outcome = intake.record(message, store, hours, clock)
    if outcome.duplicate:  # a concurrent copy won the race: ours are the orphans
        for key in written:
            blobs.delete(key)
    if outcome.reply and not outcome.duplicate and outcome.reply_ref:
        _send_acknowledgement(message, outcome, store, sender, boxes, clock, blobs)
    return outcome


def _trusted(message: InboundMessage, store: MailStore) -> InboundMessage:
    """Threading trusts only what a stranger cannot forge.

    The reply address and `In-Reply-To`/`References` name cases, but anyone who was CC'd or
    forwarded a message knows them. So a message joins a case only through its sender: an
    address that is already an identity of the case's contact lands on that contact's open
    case by intake's usual rule. A case the headers name that is not the sender's becomes a
    possible link on the sender's own case, for a practitioner to confirm or dismiss. A sender
    that failed DMARC is not trusted even for that: its From may be forged, so it gets an
    anonymous contact of its own (never the address's) and is flagged for a person."""
    email = message.email
    assert email is not None
    record = store.find_identity(message.sender)
    named: list[tuple[CaseRef, str]] = []
    if email.reply_token:
        by_token = store.case_for_token(email.reply_token)
        if by_token is not None:
            named.append((by_token, "reply_address"))
    own = (email.message_id,) if email.message_id else ()
    ids = tuple(dict.fromkeys(email.in_reply_to + tuple(reversed(email.references))))[:25]
    known = store.cases_for_message_ids(ids + own) if ids or own else {}
    named += [(known[i], "in_reply_to") for i in ids if i in known]
    if email.message_id in known:
        email = replace(email, new_message_id=False)
    if email.verdicts.get("dmarc") == "FAIL" and record is not None:
        target = next((ref.id for ref, _ in named), None) or record.open_case_id
        email = replace(
            email,
            possible_link=(target, "dmarc_fail") if target else None,
            needs_review="The sender failed DMARC: the From address may be forged.",
        )
        digest = hashlib.sha256(message.provider_id.encode()).hexdigest()[:32]
        return replace(message, sender=Identity("anonymous", f"email-{digest}"), email=email)
    contact = record.contact_id if record is not None else None
    foreign = [(ref, why) for ref, why in named if ref.contact_id != contact]
    if foreign:
        ref, why = foreign[0]
        email = replace(email, possible_link=(ref.id, why))
    return replace(message, email=email)


def _send_acknowledgement(
    message: InboundMessage,
    outcome: IntakeOutcome,
    store: MailStore,
    sender: MailSender,
    boxes: Mailboxes,
    clock: Callable[[], datetime],
    blobs: Blobs,
) -> None:
    assert message.email is not None and outcome.reply and outcome.reply_ref
    mailbox = message.email.mailbox or "helpline"
    raw, _ = compose(
        boxes,
        mailbox=mailbox,
        token=outcome.reply_token,
        to=message.sender.value,
        subject=message.email.subject,
        body=outcome.reply,
        now=clock(),
        thread=tuple(x for x in (message.email.message_id,) if x),
        automatic=True,
    )
    case_id, ack_id = outcome.reply_ref.split(".", 1)
    try:
        sent = sender.send_email(raw, message.sender.value)
    except Exception as error:  # it waits in the outbox; the citizen's message is safe anyway
        from chalicelib.domain.outbox import failed_first_try

        failed_first_try(store, case_id, ack_id, clock(), error, (raw, blobs))  # type: ignore[arg-type]
        return
    store.update_delivery_status(
        case_id,
        ack_id,
        sent.status if sent.status in STATUS else "sent",
        STATUS.get(sent.status, 3),
        provider_id=sent.provider_id,
        provider=sent.provider,
    )


STATUS = {"local": 1, "queued": 1, "sent": 3, "delivered": 4, "bounced": 4, "failed": 4}


def compose(
    boxes: Mailboxes,
    *,
    mailbox: str,
    token: str | None,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    thread: tuple[str, ...] = (),
    automatic: bool = False,
) -> tuple[bytes, str]:
    """A plain-text reply that threads under the citizen's message in their mail client."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(boxes.from_name, addr_spec=f"{mailbox}@{boxes.domain}")
    msg["To"] = to
    msg["Reply-To"] = boxes.case_address(mailbox, token)
    subject = one_line(subject) or "Your message to the guidance helpline"
    msg["Subject"] = subject if subject.lower().startswith(("re:", "sv:")) else f"Re: {subject}"
    msg["Date"] = format_datetime(now)
    message_id = make_msgid(domain=boxes.domain)
    msg["Message-ID"] = message_id
    if thread:
        msg["In-Reply-To"] = thread[-1]
        msg["References"] = " ".join(thread[-10:])
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
    msg.set_content(body)
    return msg.as_bytes(), message_id


def mailbox_for(case: Case) -> str:
    return next((box for box, queue in MAILBOXES.items() if queue == case.queue), "helpline")


def send_reply(
    case: Case,
    body: str,
    author: str,
    store: MailStore,
    sender: MailSender,
    clock: Callable[[], datetime],
    boxes: Mailboxes,
    blobs: Any = None,
) -> Interaction:
    """A practitioner's answer by email: recorded, indexed for threading, then sent; if the
    provider does not take it, it waits in the outbox (its bytes in `blobs`) for a retry."""
    assert case.reply_to is not None
    record = store.find_identity(case.reply_to)
    if record is not None and record.undeliverable:
        raise Conflict(
            "Email to this citizen bounces or was reported; use another channel.",
            code="undeliverable",
        )
    now = clock()
    raw, message_id = compose(
        boxes,
        mailbox=mailbox_for(case),
        token=case.reply_token,
        to=case.reply_to.value,
        subject=case.email_subject or "",
        body=body,
        now=now,
        thread=case.email_thread,
    )
    details = EmailDetails(
        subject=case.email_subject or "", message_id=message_id, in_reply_to=case.email_thread[-1:]
    )
    reply = Interaction(
        id=interaction_id(now),
        case_id=case.id,
        at=now,
        channel="email",
        direction="out",
        body=body,
        status="queued",
        to=case.reply_to.value,
        author=author,
        email=details,
    )
    store.add_interaction(reply)
    store.index_message_id(message_id, case.id, case.contact_id)
    try:
        sent = sender.send_email(raw, case.reply_to.value)
    except Exception as error:  # 5xx, time-out: the message waits in the outbox
        if blobs is None:
            store.update_delivery_status(case.id, reply.id, "failed", 4, error_code="send_failed")
            raise Conflict(
                "The email could not be sent; it is kept on the case.", code="send_failed"
            ) from error
        from chalicelib.domain.outbox import failed_first_try

        status = failed_first_try(store, case.id, reply.id, clock(), error, (raw, blobs))  # type: ignore[arg-type]
        return replace(reply, status=status)
    status = sent.status if sent.status in STATUS else "sent"
    store.update_delivery_status(
        case.id,
        reply.id,
        status,
        STATUS[status],
        provider_id=sent.provider_id,
        provider=sent.provider,
    )
    return replace(reply, status=status)


def bounced(addresses: list[str], reason: str, store: MailStore) -> int:
    """SES said these addresses bounce (permanently) or complained: never email them again."""
    return sum(store.mark_undeliverable(Identity("email", a.lower()), reason) for a in addresses)
