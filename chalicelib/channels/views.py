"""Domain objects rendered as the JSON shapes clients integrate with (see docs/api.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.model import (
    Alert,
    Attachment,
    Booking,
    CannedResponse,
    Case,
    CaseRead,
    ChatMessage,
    Interaction,
    Mention,
    Practitioner,
    Shift,
    Webinar,
)
from chalicelib.domain.risk import TermList
from chalicelib.domain.wording import TemplateVersion


def _at(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _fields(item: Any, *names: str) -> dict[str, Any]:
    """The named attributes as a view shows them: times as ISO 8601 UTC, tuples as lists; a
    view lists the fields it shows (nothing else leaves) and renders the others beside them."""
    return {name: _plain(getattr(item, name)) for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _at(value)
    return list(value) if isinstance(value, tuple) else value


def case_summary(case: Case) -> dict[str, Any]:
    return {
        **_fields(case, "id", "status", "queue", "language", "assignee", "channels"),
        **_fields(case, "last_activity_at"),
        **_fields(case, "opened_at", "first_response_at"),
        "callback_pending": case.callback_number is not None,
        "channel": case.last_inbound_channel or case.channel,
        **_fields(case, "preview", "waiting_since", "needs_reply", "unread"),
        "others": [{"user_id": p.user_id, "activity": p.activity} for p in case.presence],
        "risk": case_risk(case),
    }


def template_version(item: TemplateVersion) -> dict[str, Any]:
    return _fields(item, "language", "key", "text", "version", "by", "at")


def templates(listing: dict[str, Any]) -> dict[str, Any]:
    """GET /templates: every template per language, edit times as ISO 8601 UTC."""
    return {**listing, "templates": _nested(listing["templates"])}


def _nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nested(v) for k, v in value.items()}
    return _plain(value)


NO_RISK = {"level": "none", "reasons": [], "by": "rules"}


def case_risk(case: Case) -> dict[str, Any]:
    """Safeguarding's flag or a practitioner's judgement; a case never flagged shows none."""
    return case.risk.to_json() if case.risk else dict(NO_RISK)


def alert(item: Alert) -> dict[str, Any]:
    return _fields(
        item,
        "case_id",
        "raised_at",
        "acknowledged_by",
        "acknowledged_at",
        "stage",
        "resolved_by",
        "resolved_at",
    )


def risk_terms(terms: TermList) -> dict[str, Any]:
    return terms.to_json()


def canned(item: CannedResponse) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "body": item.body, "shared": item.owner is None}


def mention(entry: Mention) -> dict[str, Any]:
    return _fields(entry, "case_id", "note_id", "author", "at", "read")


def case_detail(case: Case) -> dict[str, Any]:
    return {
        **case_summary(case),
        **_fields(case, "assigned_at", "closed_at", "outcome"),
        "callback": {
            "number": case.callback_number,
            "requested_at": _at(case.callback_requested_at),
        }
        if case.callback_number
        else None,
        "contact": {"id": case.contact_id, "language": case.contact_language},
        "reply_to": reply_to(case),
        **case_links(case),
        "timeline": [interaction(i) for i in case.timeline],
    }


REPLY_CHANNELS = {"phone": "sms", "email": "email", "chat": "chat"}


def reply_to(case: Case) -> dict[str, Any] | None:
    """Where a reply goes now, so the practitioner knows before writing: a chat's case answered
    by SMS or email once its citizen agreed to a follow-up shows that address (a chat's own
    address is its conversation id: never shown); null when no reply can go (anonymous)."""
    target = case.reply_to
    if target is None or target.kind not in REPLY_CHANNELS:
        return None
    channel = REPLY_CHANNELS[target.kind]
    return {"channel": channel, "address": None if channel == "chat" else target.value}


def case_links(case: Case) -> dict[str, Any]:
    """An email that named another case whose sender is not (yet) known as its citizen's:
    `possible_link` until a practitioner confirms (then `linked_to`) or dismisses it."""
    link = case.possible_link
    return {
        "possible_link": {"case_id": link[0], "reason": link[1]} if link else None,
        "linked_to": case.linked_to,
    }


def _media(item: Interaction) -> list[dict[str, Any]]:
    """A voicemail is heard through our own route (Twilio's URL needs the account's
    credentials, which a browser must not have); other media link where the provider keeps it."""
    if item.status == "voicemail" and item.provider_id:
        path = f"/cases/{item.case_id}/recordings/{item.provider_id}"
        return [{"url": path, "content_type": "audio/mpeg"} for _ in item.media[:1]]
    return [{"url": m.url, "content_type": m.content_type} for m in item.media]


def interaction(item: Interaction) -> dict[str, Any]:
    return {
        **_fields(item, "id", "at", "channel", "direction", "body", "status", "automated"),
        "author": item.author,
        "media": _media(item),
        **_fields(item, "error_code", "duration_seconds", "canned_id"),
        "email": {
            "subject": item.email.subject,
            "verdicts": dict(item.email.verdicts),  # SES's SPF/DKIM/DMARC; {} = unknown (relay)
            "needs_review": item.email.needs_review,
            "attachments": [
                {"index": n, **_fields(a, "filename", "content_type", "size")}
                for n, a in enumerate(item.email.attachments)
                if a.key  # erased or purged: no bytes left to offer
            ],
        }
        if item.email
        else None,
    }


def download_headers(attachment: Attachment) -> dict[str, str | list[str]]:
    """An attachment as a file to save, whatever it claims to be (HTML or SVG from a citizen
    must never render on the API's origin): octet-stream, nosniff, and the name we stored it
    under (its key's last part: characters outside [A-Za-z0-9._-] already replaced)."""
    stored = (attachment.key or "").rsplit("/", 1)[-1].split("-", 1)[-1] or "attachment"
    return {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{stored}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def recording_headers(recording_sid: str) -> dict[str, str | list[str]]:
    """A voicemail as audio the web app plays (`inline`), never cached on the way."""
    return {
        "Content-Type": "audio/mpeg",
        "Content-Disposition": f'inline; filename="voicemail-{recording_sid}.mp3"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


@contextmanager
def unseen_shown() -> Iterator[None]:
    """A close or reply refused for messages the practitioner has not seen carries them in its
    409, rendered as on the timeline, so the practitioner reads them before trying again."""
    from chalicelib.domain.casework import UnseenMessages

    try:
        yield
    except UnseenMessages as refusal:
        refusal.details["unseen"] = [interaction(m) for m in refusal.messages]
        raise


def practitioner(p: Practitioner) -> dict[str, Any]:
    return _fields(
        p,
        "id",
        "display_name",
        "queues",
        "languages",
        "max_active_cases",
        "active_cases",
        "on_duty",
        "phone",
        "skills",
        "email",
    )


def shift(s: Shift) -> dict[str, Any]:
    return _fields(s, "start", "end")


def case_read(r: CaseRead) -> dict[str, Any]:
    return _fields(r, "user_id", "role", "at")


def webinar_public(w: Webinar) -> dict[str, Any]:
    """What anyone may see: never who booked."""
    return {
        **_fields(w, "id", "title", "description", "starts_at", "duration_minutes", "seats_left"),
        "waitlist_open": w.seats_left == 0 and w.waitlist_taken < w.waitlist_size,
        "status": w.status,
    }


def webinar_booked(w: Webinar) -> dict[str, Any]:
    """The session as a booking answer shows it (seat counts change too fast to echo)."""
    return _fields(w, "id", "title", "starts_at", "duration_minutes")


def webinar_admin(w: Webinar) -> dict[str, Any]:
    return {
        **webinar_public(w),
        **_fields(w, "queue", "capacity", "waitlist_size", "seats_taken"),
        "waitlisted": w.waitlist_taken,
        **_fields(w, "join_url", "host"),
    }


def booking_requested(w: Webinar) -> dict[str, Any]:
    """The public answer to a booking: the same whatever the address already holds (a new seat,
    a waitlist place, a repeat, a refusal over its limit), so it is no oracle."""
    return {
        "booking": {"webinar_id": w.id, "status": "requested"},
        "webinar": webinar_booked(w),
        "message": "The booking and a link to cancel it are on their way to the address or "
        "number you gave.",
    }


def booking_public(b: Booking, position: int | None) -> dict[str, Any]:
    """The booker's own booking: its status, never anyone else's data."""
    return {**_fields(b, "id", "webinar_id", "status"), "position": position}


def booking_admin(b: Booking) -> dict[str, Any]:
    return _fields(
        b, "id", "status", "first_name", "email", "phone", "created_at", "attended", "case_id"
    )


def opening_hours(hours: OpeningHours, now: datetime) -> dict[str, Any]:
    """What a front end publishes: the schedule, whether the line is open, and when it opens."""
    next_opening = hours.next_opening(now)
    return {
        "hours": hours.to_item(),
        "open_now": hours.is_open(now),
        "next_opening": next_opening.isoformat() if next_opening else None,
    }


def chat_message(message: ChatMessage) -> dict[str, Any]:
    """A chat line as the widget shows it (as text: it never renders a body as HTML)."""
    shown: dict[str, Any] = {
        "id": message.id,
        "seq": message.seq,
        "at": _at(message.at),
        "from": message.sender,
        "body": message.body,
    }
    if message.card == "survey":  # the widget draws the card itself: never markup from here
        shown["survey"] = {"ratings": [1, 2, 3, 4, 5]}
    return shown


def chat_push(message: ChatMessage) -> str:
    """What a WebSocket push carries: the message as the long poll answers it."""
    import json

    return json.dumps({"messages": [chat_message(message)]})
