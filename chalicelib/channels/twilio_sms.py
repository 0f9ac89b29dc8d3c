"""Twilio Messaging webhooks: verify, parse into domain objects, render TwiML answers."""

from __future__ import annotations

import re

from chalicelib.domain.destinations import DEFAULT_COUNTRY_CODES, E164, destination_allowed
from chalicelib.domain.errors import Forbidden, InvalidInput
from chalicelib.domain.model import Identity, InboundMessage, Keyword, Media
from chalicelib.domain.queues import queue_for_text

SID = r"[A-Z]{2}[0-9a-fA-F]{32}"

# Twilio's default opt-out keywords (Advanced Opt-Out sends OptOutType too; we accept either).
KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"], "stop"),
    **dict.fromkeys(["START", "YES", "UNSTOP", "OPTIN"], "start"),
    **dict.fromkeys(["HELP", "INFO"], "help"),
}
MAX_MEDIA = 10


def verify_signature(
    auth_token: str, url: str, form: dict[str, str], signature: str | None
) -> None:
    """Twilio signs the exact public URL plus the POSTed fields; anything else is not Twilio."""
    from twilio.request_validator import RequestValidator

    if not signature or not auth_token:
        raise Forbidden("Missing or invalid X-Twilio-Signature.", code="bad_signature")
    if not RequestValidator(auth_token).validate(url, form, signature):
        raise Forbidden("Missing or invalid X-Twilio-Signature.", code="bad_signature")


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"Missing field {name}.", code=f"missing_{name}")
    return value


def parse_inbound(
    form: dict[str, str], countries: tuple[str, ...] = DEFAULT_COUNTRY_CODES
) -> InboundMessage:
    """The message; one from outside `countries` is marked unanswerable, so the TwiML answer
    (an SMS we pay for, to a number we may not text) stays empty."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not re.fullmatch(SID, sid):
        raise InvalidInput("MessageSid is missing or malformed.", code="invalid_MessageSid")
    sender = _required(form, "From")
    if not re.fullmatch(E164, sender):
        raise InvalidInput("From must be a phone number in E.164.", code="invalid_From")
    body = form.get("Body", "")
    try:
        media_count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError as error:
        raise InvalidInput("NumMedia must be a number.", code="invalid_NumMedia") from error
    media = tuple(
        Media(url=form[f"MediaUrl{i}"], content_type=form.get(f"MediaContentType{i}", ""))
        for i in range(media_count)
        if form.get(f"MediaUrl{i}")
    )
    return InboundMessage(
        channel="sms",
        provider="twilio",
        provider_id=sid,
        sender=Identity(kind="phone", value=sender),
        recipient=form.get("To", ""),
        body=body,
        media=media,
        keyword=_keyword(form.get("OptOutType", ""), body),
        queue=queue_for_text(body),
        answerable=destination_allowed(sender, countries),
    )


def _keyword(opt_out_type: str, body: str) -> Keyword | None:
    if opt_out_type.upper() in ("STOP", "START", "HELP"):
        return KEYWORDS[opt_out_type.upper()]
    return KEYWORDS.get(body.strip().upper())


def parse_status(form: dict[str, str]) -> tuple[str, str | None, str | None]:
    """(status, MessageSid, ErrorCode) of a delivery report."""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not status:
        raise InvalidInput("Missing field MessageStatus.", code="missing_MessageStatus")
    sid = form.get("MessageSid") or form.get("SmsSid") or None
    return status, sid, form.get("ErrorCode") or None


def render_reply(reply: str | None, status_callback: str | None) -> str:
    """TwiML: one <Message> with our reply (its status reported to `status_callback`), or none."""
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if reply:
        if status_callback:
            response.message(reply, action=status_callback, method="POST")
        else:
            response.message(reply)
    return str(response)
