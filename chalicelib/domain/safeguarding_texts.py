"""What safeguarding tells staff: an alert carries no message text and no contact details, only
the case id, the level and a link (it travels by SMS and email). What it tells citizens (the
crisis answers, the phone menu's first words) is in the template set, per language."""

from __future__ import annotations

from collections.abc import Callable

ALERT = (
    "Risk alert ({level}): case {case_id} needs a safeguarding practitioner now. "
    "Open and acknowledge it: {link}"
)
ALERT_SUBJECT = "Risk alert ({level}): case {case_id}"


def alert(level: str, case_id: str, link: str) -> str:
    return ALERT.format(level=level, case_id=case_id, link=link)


def alert_subject(level: str, case_id: str) -> str:
    return ALERT_SUBJECT.format(level=level, case_id=case_id)


ALERT_BATCH = "Risk alerts: {count} cases need you now: {links}"
ALERT_MANY = (
    "Risk alerts: {count} cases need you now. Open the inbox (high risk first): {inbox} "
    "Cases: {ids}"
)
MAX_LINKS = 5  # beyond this, one link to the inbox and the case ids: an SMS stays short


def alert_batch(case_ids: tuple[str, ...], link: Callable[[str], str], inbox: str) -> str:
    """One SMS for the cases alerted within a supervisor's window: each case's link, or past
    MAX_LINKS, the inbox's link and every case id (each case is named, none is lost)."""
    if len(case_ids) == 1:
        return alert("high", case_ids[0], link(case_ids[0]))
    if len(case_ids) <= MAX_LINKS:
        links = " ".join(link(case_id) for case_id in case_ids)
        return ALERT_BATCH.format(count=len(case_ids), links=links)
    return ALERT_MANY.format(count=len(case_ids), inbox=inbox, ids=", ".join(case_ids))
