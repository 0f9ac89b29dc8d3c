"""What the service says automatically. Times are always in the service's own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.hours import OpeningHours

SERVICE_NAME = "the guidance helpline"


def when(opening: datetime, now: datetime, timezone: str) -> str:
    """'today at 09:00', 'tomorrow at 09:00' or 'on Saturday 28 November at 10:00'."""
    zone = ZoneInfo(timezone)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {local:%A} {local.day} {local:%B} at {clock}"


def spoken_when(opening: datetime, now: datetime, timezone: str) -> str:
    """For text-to-speech: 'tomorrow at 9 a.m.', 'on Saturday the 28th of November at 10 a.m.'."""
    zone = ZoneInfo(timezone)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    hour = local.hour % 12 or 12
    clock = f"{hour}" if local.minute == 0 else f"{hour}:{local.minute:02d}"
    clock += " a.m." if local.hour < 12 else " p.m."
    days = (local.date() - today).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    suffix = (
        "th"
        if 10 <= local.day % 100 <= 20
        else {1: "st", 2: "nd", 3: "rd"}.get(local.day % 10, "th")
    )
    return f"on {local:%A} the {local.day}{suffix} of {local:%B} at {clock}"


def acknowledgement(hours: OpeningHours, now: datetime) -> str:
    """The one automatic answer to the first message of a case."""
    if hours.is_open(now):
        return (
            f"Thank you for contacting {SERVICE_NAME}. We have your message and a guidance "
            "counsellor will answer you here as soon as possible."
        )
    return (
        f"Thank you for contacting {SERVICE_NAME}. We are closed right now. "
        + reopening_sentence(hours, now)
        + " A guidance counsellor will answer you here then."
    )


def reopening_sentence(hours: OpeningHours, now: datetime) -> str:
    opening = hours.next_opening(now)
    if opening is None:
        return "We have no opening hours planned yet."
    return f"We open again {when(opening, now, hours.timezone)}."


def help_text(hours: OpeningHours, now: datetime) -> str:
    status = "We are open now." if hours.is_open(now) else reopening_sentence(hours, now)
    return (
        f"This is {SERVICE_NAME}: text your question about education or careers and a guidance "
        f"counsellor will answer. {status} Reply STOP to stop messages."
    )


def resubscribed() -> str:
    return f"You will get messages from {SERVICE_NAME} again. Reply STOP to stop."
