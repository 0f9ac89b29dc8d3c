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
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from chalicelib.domain import delivery, intake
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.ids import new_id
from chalicelib.domain.intake import IntakeOutcome
from chalicelib.domain.model import (
    Case,
    CaseRef,
    EmailDetails,
    Identity,
    InboundMessage,
    Interaction,
    MailReads,
    Webinar,
)
from chalicelib.domain.queues import MAILBOXES

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, MailStore

QUARANTINE_QUEUE = "quarantine"  # a queue nobody is routed from: managers review it

# Line and paragraph breaks of any kind (CR, LF, VT, FF, NEL, U+2028/2029) and other controls:
# a decoded header (`=?utf-8?b?...?=`) may carry them, and they must never reach a header we write.
BREAKS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+"


def one_line(value: str) -> str:
    """A header value on one line: every break or control character becomes one space."""
    return re.sub(BREAKS, " ", value).strip()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "attachment"


def receive(
    deps: Deps,
    message: InboundMessage,
    payloads: tuple[bytes, ...],
    raw: bytes,
    raw_key: str | None,
) -> IntakeOutcome:
    """A repeat of a delivery we have (same SES message id, or on the relay the same bytes) is
    answered from its record and writes nothing. A new message's bytes are kept first, under
    keys of our own choosing that nothing a sender writes can reach, then it is threaded,
    recorded and acknowledged.

    Everything threading reads is read at once (one BatchGetItem): the earlier delivery, the
    sender's identity, the reply address's case, the Message-IDs' cases. Intake plans its first
    attempt on that identity instead of reading it again; its transaction's conditions, not
    these reads, decide, and a retry reads afresh."""
    assert message.email is not None
    store: MailStore = deps.store
    blobs = deps.blobs
    email = message.email
    named = _named_ids(email)
    own = (email.message_id,) if email.message_id else ()
    reads = store.mail_reads(message, named + own)
    earlier = reads.delivery
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
    sender = message.sender
    message = _trusted(replace(message, email=email), named, reads)
    assert message.email is not None
    if message.email.quarantine:
        message = replace(message, queue=QUARANTINE_QUEUE)
    # the identity as read, unless an anonymous one (DMARC failed) stands in for the sender
    known = (reads.identity,) if message.sender == sender else None
    outcome = intake.receive(deps, message, identity=known)
    if outcome.duplicate:  # a concurrent copy won the race: ours are the orphans
        for key in written:
            blobs.delete(key)
    if outcome.reply and not outcome.duplicate and outcome.reply_ref:
        _send_acknowledgement(deps, message, outcome)
    return outcome


def _named_ids(email: EmailDetails) -> tuple[str, ...]:
    """The Message-IDs a message says it answers (its parent first), at most 25: a sender
    chooses them, so they only ever name cases, never prove anything."""
    return tuple(dict.fromkeys(email.in_reply_to + tuple(reversed(email.references))))[:25]


def _trusted(message: InboundMessage, ids: tuple[str, ...], reads: MailReads) -> InboundMessage:
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
    record = reads.identity
    named: list[tuple[CaseRef, str]] = []
    if reads.by_token is not None:
        named.append((reads.by_token, "reply_address"))
    known = reads.by_message_id
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


def _send_acknowledgement(deps: Deps, message: InboundMessage, outcome: IntakeOutcome) -> None:
    """Recorded with the citizen's message (one transaction); sent here, parked if refused:
    the citizen's message is safe anyway."""
    assert message.email is not None and outcome.reply and outcome.reply_ref
    raw, _ = compose(
        deps,
        mailbox=message.email.mailbox or "helpline",
        token=outcome.reply_token,
        to=message.sender.value,
        subject=message.email.subject,
        body=outcome.reply,
        thread=tuple(x for x in (message.email.message_id,) if x),
        automatic=True,
        language=outcome.language,
    )
    case_id, ack_id = outcome.reply_ref.split(".", 1)
    out = Outgoing(
        case_id, "email", message.sender.value, outcome.reply, raw=raw, interaction_id=ack_id
    )
    delivery.send(deps, out)


def case_address(deps: Deps, mailbox: str, token: str | None) -> str:
    domain = deps.settings.mail_domain
    return f"{mailbox}+{token}@{domain}" if token else f"{mailbox}@{domain}"


def _from(deps: Deps, mailbox: str) -> Address:
    return Address(deps.settings.mail_from_name, addr_spec=f"{mailbox}@{deps.settings.mail_domain}")


def compose(
    deps: Deps,
    *,
    mailbox: str,
    token: str | None,
    to: str,
    subject: str,
    body: str,
    thread: tuple[str, ...] = (),
    automatic: bool = False,
    language: str | None = None,
) -> tuple[bytes, str]:
    """A plain-text reply that threads under the citizen's message in their mail client; one
    without a subject gets `email.subject` in `language`."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _from(deps, mailbox)
    msg["To"] = to
    msg["Reply-To"] = case_address(deps, mailbox, token)
    words = deps.wording()
    subject = one_line(subject) or words.say(words.language(language), "email.subject")
    msg["Subject"] = subject if subject.lower().startswith(("re:", "sv:")) else f"Re: {subject}"
    msg["Date"] = format_datetime(deps.clock())
    message_id = make_msgid(domain=deps.settings.mail_domain)
    msg["Message-ID"] = message_id
    if thread:
        msg["In-Reply-To"] = thread[-1]
        msg["References"] = " ".join(thread[-10:])
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
    msg.set_content(body)
    return msg.as_bytes(), message_id


def invitation(
    deps: Deps, to: str, webinar: Webinar, text: str, subject: str, cancelled: bool = False
) -> bytes:
    """A webinar's booking (or its cancellation) with an iCalendar invite: one recipient per
    message, never a list of attendees."""
    import icalendar

    domain = deps.settings.mail_domain
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Guidance contact centre//Webinars//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{webinar.id}@{domain}")
    event.add("summary", webinar.title)
    event.add("dtstart", webinar.starts_at)
    event.add("dtend", webinar.starts_at + timedelta(minutes=webinar.duration_minutes))
    event.add("dtstamp", deps.clock())
    event.add("location", webinar.join_url)
    event.add("url", webinar.join_url)
    event.add("description", webinar.description or webinar.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", f"mailto:webinars@{domain}")
    calendar.add_component(event)

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _from(deps, "webinars")
    msg["To"] = to
    msg["Subject"] = one_line(subject)
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    msg.add_attachment(
        calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        filename="webinar.ics",
        params={"method": "CANCEL" if cancelled else "REQUEST"},
    )
    return msg.as_bytes()


def report(
    deps: Deps, to: str, subject: str, text: str, html: str, *attachments: tuple[str, str]
) -> bytes:
    """A report for managers: text, its HTML alternative, and files (name, content; the type
    from the name's extension: .csv, .html)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _from(deps, "reports")
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(deps.clock())
    msg["Message-ID"] = make_msgid(domain=deps.settings.mail_domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for filename, content in attachments:
        subtype = filename.rsplit(".", 1)[-1]
        msg.add_attachment(content.encode(), maintype="text", subtype=subtype, filename=filename)
    return msg.as_bytes()


def notice(deps: Deps, to: str, subject: str, text: str) -> bytes:
    """A short notice to staff (a safeguarding alert): plain text, never answered by robots."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _from(deps, "safeguarding")
    msg["To"] = to
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(deps.clock())
    msg["Message-ID"] = make_msgid(domain=deps.settings.mail_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    return msg.as_bytes()


def mailbox_for(case: Case) -> str:
    return next((box for box, queue in MAILBOXES.items() if queue == case.queue), "helpline")


def send_reply(
    deps: Deps,
    case: Case,
    body: str,
    author: str,
    record: Callable[[Interaction], None] | None = None,
) -> Interaction:
    """A practitioner's answer by email: recorded (by `record`, when given), indexed for
    threading, then sent; if the provider does not take it, it waits in the outbox."""
    assert case.reply_to is not None
    delivery.refuse_unreachable(deps, "email", case.reply_to)
    raw, message_id = compose(
        deps,
        mailbox=mailbox_for(case),
        token=case.reply_token,
        to=case.reply_to.value,
        subject=case.email_subject or "",
        body=body,
        thread=case.email_thread,
        language=case.language,
    )
    details = EmailDetails(
        subject=case.email_subject or "", message_id=message_id, in_reply_to=case.email_thread[-1:]
    )

    def keep(reply: Interaction) -> None:
        (record or deps.store.add_interaction)(reply)
        deps.store.index_message_id(message_id, case.id, case.contact_id)

    out = Outgoing(
        case.id, "email", case.reply_to.value, body, raw=raw, author=author, email=details
    )
    sent = delivery.send(deps, out, keep)
    assert sent.message is not None
    return sent.message


def bounced(deps: Deps, addresses: list[str], reason: str) -> int:
    """SES said these addresses bounce (permanently) or complained: never email them again."""
    return sum(
        deps.store.mark_undeliverable(Identity("email", a.lower()), reason) for a in addresses
    )
