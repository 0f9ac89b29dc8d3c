"""Every text safeguarding sends, in one place, per language (the integrator moves them into
the template set of issue 18). Citizens' texts are written to a young person who may be in
danger: warm, short, direct, with the numbers. Alerts to staff carry no message text and no
contact details: the case id, the level and a link only (they travel by SMS and email)."""

from __future__ import annotations

DEFAULT_LANGUAGE = "da"

CRISIS_ANSWER = {
    "da": (
        "Vi har læst din besked, og vi tager den alvorligt. Er du i fare lige nu, så ring 112. "
        "Du kan også ringe og tale med nogen med det samme: {crisis_lines}. "
        "Du er ikke alene, og en af os skriver til dig, så snart vi kan."
    ),
    "en": (
        "We have read your message and we take it seriously. If you are in danger right now, "
        "call 112. You can also call and talk to someone straight away: {crisis_lines}. "
        "You are not alone, and one of us will write to you as soon as we can."
    ),
}

CRISIS_SPOKEN = {
    "da": (
        "Tak fordi du ringer. Er du i fare lige nu, så læg på og ring 112. "
        "Du kan også ringe til {crisis_lines}. Bliv på linjen, så finder vi en, du kan tale med."
    ),
    "en": (
        "Thank you for calling. If you are in danger right now, hang up and call 112. "
        "You can also call {crisis_lines}. Stay on the line and we will find someone to talk to."
    ),
}

CRISIS_SUBJECT = {"da": "Vi har læst din besked", "en": "We have read your message"}

# What the phone menu says before anything else.
PHONE_DANGER = {
    "da": "Er du i fare lige nu, så læg på og ring 112.",
    "en": "If you are in danger right now, hang up and call 112.",
}

ALERT = (
    "Risk alert ({level}): case {case_id} needs a safeguarding practitioner now. "
    "Open and acknowledge it: {link}"
)
ALERT_SUBJECT = "Risk alert ({level}): case {case_id}"


def crisis_answer(language: str | None, crisis_lines: str) -> str:
    text = CRISIS_ANSWER.get(language or DEFAULT_LANGUAGE, CRISIS_ANSWER[DEFAULT_LANGUAGE])
    return text.format(crisis_lines=crisis_lines)


def crisis_spoken(language: str | None, crisis_lines: str) -> str:
    text = CRISIS_SPOKEN.get(language or DEFAULT_LANGUAGE, CRISIS_SPOKEN[DEFAULT_LANGUAGE])
    return text.format(crisis_lines=crisis_lines)


def crisis_subject(language: str | None) -> str:
    return CRISIS_SUBJECT.get(language or DEFAULT_LANGUAGE, CRISIS_SUBJECT[DEFAULT_LANGUAGE])


def phone_danger(language: str | None = None) -> str:
    return PHONE_DANGER.get(language or DEFAULT_LANGUAGE, PHONE_DANGER[DEFAULT_LANGUAGE])


def alert(level: str, case_id: str, link: str) -> str:
    return ALERT.format(level=level, case_id=case_id, link=link)


def alert_subject(level: str, case_id: str) -> str:
    return ALERT_SUBJECT.format(level=level, case_id=case_id)
