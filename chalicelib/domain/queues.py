"""Queues a citizen can choose by channel: an SMS keyword, an IVR digit, a mailbox address.

The default queue is `general`; a first word that names a topic sends the case to that topic's
queue ("CAREERS what jobs suit me?" → careers). Danish and English words are both understood.
"""

from __future__ import annotations

from chalicelib.domain.model import DEFAULT_QUEUE

SMS_KEYWORDS: dict[str, str] = {
    "EDUCATION": "education",
    "STUDY": "education",
    "UDDANNELSE": "education",
    "CAREERS": "careers",
    "CAREER": "careers",
    "JOB": "careers",
    "KARRIERE": "careers",
}


MAILBOXES: dict[str, str] = {
    "studyhelp": "education",
    "education": "education",
    "uddannelse": "education",
    "careers": "careers",
    "karriere": "careers",
}


def queue_for_mailbox(mailbox: str) -> str:
    """The address written to (studyhelp@, careers@) chooses the queue."""
    return MAILBOXES.get(mailbox.lower(), DEFAULT_QUEUE)


def queue_for_text(body: str) -> str:
    words = body.strip().split(maxsplit=1)
    first = words[0].strip(".,:;!?").upper() if words else ""
    return SMS_KEYWORDS.get(first, DEFAULT_QUEUE)
