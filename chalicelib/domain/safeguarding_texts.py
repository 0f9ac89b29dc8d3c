"""What safeguarding tells staff: an alert carries no message text and no contact details, only
the case id, the level and a link (it travels by SMS and email). What it tells citizens (the
crisis answers, the phone menu's first words) is in the template set, per language."""

from __future__ import annotations

ALERT = (
    "Risk alert ({level}): case {case_id} needs a safeguarding practitioner now. "
    "Open and acknowledge it: {link}"
)
ALERT_SUBJECT = "Risk alert ({level}): case {case_id}"


def alert(level: str, case_id: str, link: str) -> str:
    return ALERT.format(level=level, case_id=case_id, link=link)


def alert_subject(level: str, case_id: str) -> str:
    return ALERT_SUBJECT.format(level=level, case_id=case_id)
