"""What the service says automatically, in the case's language and the service's own time zone.
The words are templates (`wording`); this module only picks which one, and fills the opening."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.wording import Wording


def next_opening(wording: Wording, language: str, hours: OpeningHours, now: datetime) -> str | None:
    """'i morgen kl. 9.00' / 'tomorrow at 09:00'; None when no opening is planned."""
    opening = hours.next_opening(now)
    return wording.when(language, opening, now, hours.timezone) if opening else None


def acknowledgement(
    wording: Wording, language: str, hours: OpeningHours, now: datetime, channel: str = "sms"
) -> str:
    """The one automatic answer to the first message of a case (`sms.ack_*`, `email.ack_*`,
    `chat.ack_*`)."""
    prefix = channel if channel in ("email", "chat") else "sms"
    if hours.is_open(now):
        return wording.say(language, f"{prefix}.ack_open")
    opening = next_opening(wording, language, hours, now)
    if opening is None:
        return wording.say(language, f"{prefix}.ack_no_hours")
    return wording.say(language, f"{prefix}.ack_closed", next_opening=opening)


def help_text(wording: Wording, language: str, hours: OpeningHours, now: datetime) -> str:
    opening = None if hours.is_open(now) else next_opening(wording, language, hours, now)
    if opening is None:
        return wording.say(language, "sms.help_open")
    return wording.say(language, "sms.help_closed", next_opening=opening)


def resubscribed(wording: Wording, language: str) -> str:
    return wording.say(language, "sms.resubscribed")
