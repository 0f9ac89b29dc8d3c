"""Inbound email: raw RFC 5322 bytes → a domain message, with the standard library's `email`
package and `policy.default` (decoded RFC 2047 headers, any charset, MIME walking).

Nothing here may fail on bad input: a message that cannot be read is still returned, flagged for a
person (`needs_review`), so the caller stores it raw and records it; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

from chalicelib.domain.mail import one_line  # parsed on one line here; composing relies on it too
from chalicelib.domain.model import Attachment, EmailDetails, Identity, InboundMessage
from chalicelib.domain.queues import queue_for_mailbox

MAX_BYTES = 10 * 1024 * 1024  # larger messages are refused (relay) or kept raw for review (SES)
MAX_BODY_CHARS = 100_000  # what goes into DynamoDB (an item is at most 400 KB)
AUTO_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply")
QUOTE_MARKERS = (
    r"^On .{1,200} wrote:\s*$",
    r"^Den .{1,200} skrev .{0,200}:\s*$",
    r"(?i)^-{2,}\s*Original Message\s*-{2,}\s*$",
    r"(?i)^-{2,}\s*Oprindelig meddelelse\s*-{2,}\s*$",
    r"^From: .+$",
)
ADDRESS = r"\A[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+\Z"


@dataclass(frozen=True)
class ParsedEmail:
    message: InboundMessage
    attachments: tuple[bytes, ...]  # the payloads, in the order of message.email.attachments


class TooLarge(Exception):
    pass


def parse(
    raw: bytes,
    service_domain: str,
    provider_id: str | None = None,
    keep_oversized: bool = False,
    verdicts: dict[str, str] | None = None,
) -> ParsedEmail:
    """`provider_id`: SES's message id when SES delivered it; else a SHA-256 digest of the raw
    bytes, never the Message-ID (a sender chooses that, and could make a victim's message look
    like a duplicate of theirs). `verdicts`: SES's, kept on the message (the relay has none).
    Over MAX_BYTES: TooLarge, or (`keep_oversized`, for mail SES already stored) the headers
    only, flagged for a person."""
    parsed = _parse_any(raw, service_domain, provider_id, keep_oversized)
    if not verdicts:
        return parsed
    assert parsed.message.email is not None
    # SES's own verdicts decide quarantine too: a header in the message cannot talk them down
    flagged = next((v for v in ("virus", "spam") if verdicts.get(v) == "FAIL"), None)
    email = replace(
        parsed.message.email,
        verdicts=dict(verdicts),
        quarantine=flagged or parsed.message.email.quarantine,
    )
    return ParsedEmail(replace(parsed.message, email=email), parsed.attachments)


def _parse_any(
    raw: bytes, service_domain: str, provider_id: str | None, keep_oversized: bool
) -> ParsedEmail:
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(raw) > MAX_BYTES:
        if not keep_oversized:
            raise TooLarge(f"The message is {len(raw)} bytes; the limit is {MAX_BYTES}.")
        try:
            head = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
            parsed = _parse(head, service_domain, provider_id, digest)
        except Exception:
            parsed = _unreadable(raw, provider_id or digest, "")
        why = f"The message is {len(raw)} bytes, over the {MAX_BYTES} limit: open the raw file."
        email = replace(parsed.message.email, needs_review=why, attachments=())  # type: ignore[type-var]  # _parse and _unreadable always set it
        return ParsedEmail(replace(parsed.message, body="", email=email), ())
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        return _parse(msg, service_domain, provider_id, digest)
    except Exception:  # any defect the parser did not absorb: keep it for a person
        return _unreadable(raw, provider_id or digest, "The message could not be read.")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
        return one_line(str(value)) if value is not None else ""
    except Exception:  # a header too broken to decode
        return ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<[^<>\s\x00-\x1f\x7f]{1,250}>", value))


def _parse(msg: EmailMessage, domain: str, provider_id: str | None, digest: str) -> ParsedEmail:
    senders = [addr for _, addr in getaddresses([_header(msg, "from")]) if re.match(ADDRESS, addr)]
    message_id = (_ids(_header(msg, "message-id")) or (None,))[0]
    problem = None if senders else "The sender's address is missing or malformed."
    mailbox, token = _mailbox(msg, domain)
    body, quoted = _body(msg)
    attachments, payloads = _attachments(msg)
    sender = senders[0].lower() if senders else f"unknown-{digest[7:23]}@invalid"
    details = EmailDetails(
        subject=_header(msg, "subject")[:500],
        message_id=message_id,
        in_reply_to=_ids(_header(msg, "in-reply-to")),
        references=_ids(_header(msg, "references"))[-20:],
        mailbox=mailbox,
        reply_token=token,
        quoted=quoted[:MAX_BODY_CHARS],
        attachments=attachments,
        auto_reply=_automatic(msg, sender),
        quarantine=_verdict(msg),
        needs_review=problem,
    )
    return ParsedEmail(
        InboundMessage(
            channel="email",
            provider="email",
            provider_id=provider_id or digest,
            sender=Identity("email", sender),
            recipient=f"{mailbox}@{domain}",
            body=body[:MAX_BODY_CHARS],
            queue=queue_for_mailbox(mailbox),
            email=details,
        ),
        payloads,
    )


def _unreadable(raw: bytes, provider_id: str, why: str) -> ParsedEmail:
    details = EmailDetails(subject="", message_id=None, needs_review=why)
    sender = Identity("email", f"unknown-{hashlib.sha256(raw).hexdigest()[:16]}@invalid")
    return ParsedEmail(
        InboundMessage(
            channel="email",
            provider="email",
            provider_id=provider_id,
            sender=sender,
            recipient="",
            body="",
            email=details,
        ),
        (),
    )


def _mailbox(msg: EmailMessage, domain: str) -> tuple[str, str | None]:
    """The service address written to: `studyhelp+<token>@domain` → ('studyhelp', token)."""
    fields = [_header(msg, h) for h in ("delivered-to", "x-original-to", "to", "cc")]
    for _, address in getaddresses(fields):
        local, _, host = address.lower().partition("@")
        if host == domain.lower() and local:
            mailbox, _, token = local.partition("+")
            return mailbox, token or None
    return "", None


def _payload(part: Message) -> bytes:
    """A leaf part's content, transfer-decoded; empty when it has none."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text(part: MIMEPart) -> str:
    if part.get_content_charset() is None:  # unlabelled 8-bit text: UTF-8 if it is, else Latin-1
        payload = _payload(part)
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("latin-1")
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):  # unknown or lying charset
        payload = _payload(part)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _body(msg: EmailMessage) -> tuple[str, str]:
    """The new text (plain preferred, HTML made readable) and the earlier replies it quotes."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", ""
    text = _text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return split_quoted(text.replace("\r\n", "\n"))


def split_quoted(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    for at, line in enumerate(lines):
        stripped = line.strip()
        if any(re.match(marker, stripped) for marker in QUOTE_MARKERS) or (
            stripped.startswith(">")
            and all(not rest.strip() or rest.lstrip().startswith(">") for rest in lines[at:])
        ):
            return "\n".join(lines[:at]).strip(), "\n".join(lines[at:]).strip()
    return text.strip(), ""


class _Readable(HTMLParser):
    """HTML mail as text a person can read: blocks on their own lines, no scripts or styles."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    reader = _Readable()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attachments(msg: EmailMessage) -> tuple[tuple[Attachment, ...], tuple[bytes, ...]]:
    body = msg.get_body(preferencelist=("plain", "html"))
    found: list[Attachment] = []
    payloads: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition is None and filename is None and part.get_content_maintype() == "text":
            continue  # an alternative text body, not an attachment
        payload = _payload(part)
        found.append(
            Attachment(
                filename=one_line(filename or "")[:200] or "attachment",
                content_type=part.get_content_type(),
                size=len(payload),
                inline=disposition == "inline" or part.get("content-id") is not None,
            )
        )
        payloads.append(payload)
    return tuple(found), tuple(payloads)


def _automatic(msg: EmailMessage, sender: str) -> bool:
    """Auto-replies, bulk and list mail, delivery reports: recorded, never answered."""
    auto = _header(msg, "auto-submitted").lower()
    precedence = _header(msg, "precedence").lower()
    return (
        (auto != "" and auto != "no")
        or precedence in ("bulk", "junk", "list")
        or sender.split("@")[0] in AUTO_SENDERS
        or msg.get_content_type() == "multipart/report"
        or bool(_header(msg, "x-autoreply") or _header(msg, "x-autorespond"))
        or bool(_header(msg, "list-id"))
    )


def _verdict(msg: EmailMessage) -> str | None:
    """SES's verdicts travel as headers on the stored message."""
    if _header(msg, "x-ses-virus-verdict").upper() == "FAIL":
        return "virus"
    if _header(msg, "x-ses-spam-verdict").upper() == "FAIL":
        return "spam"
    return None
