"""Demo data for the local stack: opening hours, practitioners, upcoming webinars.

Idempotent: what exists is kept, so running `make run` twice keeps the data (and any edits).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.domain.hours import DEMO_TIMEZONE, demo_hours
from chalicelib.domain.model import Practitioner, Webinar

PRACTITIONERS = (
    # phones (for callbacks and calls put through) in the demo range, like the citizens'
    Practitioner(
        "p-anna",
        "Anna Holm",
        ("general", "education"),
        ("da", "en"),
        5,
        phone="+4520009901",
        skills=("safeguarding",),  # high-risk cases are offered to her first
    ),
    Practitioner("p-jonas", "Jonas Berg", ("general", "careers"), ("da",), 5, phone="+4520009902"),
    Practitioner(
        "p-sara",
        "Sara Nielsen",
        ("education", "careers"),
        ("da", "en", "ar"),
        4,
        phone="+4520009903",
        skills=("safeguarding", "supervisor"),  # on duty, she gets the risk alerts
        email="sara@helpline.example.org",
    ),
)


def _upcoming_webinars(today: datetime) -> tuple[Webinar, ...]:
    zone = ZoneInfo(DEMO_TIMEZONE)
    monday = (today.astimezone(zone) + timedelta(days=7 - today.astimezone(zone).weekday())).date()
    tuesday_16 = datetime.combine(monday + timedelta(days=1), time(16, 0), zone)
    thursday_17 = datetime.combine(monday + timedelta(days=3), time(17, 0), zone)
    return (
        Webinar(
            f"w-{tuesday_16:%Y%m%d}-gap-year",
            "Taking a gap year: what to plan",
            tuesday_16,
            60,
            25,
            20,
            "education",
            "https://meet.example.org/gap-year",
        ),
        Webinar(
            f"w-{thursday_17:%Y%m%d}-apply",
            "Applying for higher education",
            thursday_17,
            90,
            40,
            20,
            "education",
            "https://meet.example.org/apply",
        ),
    )


def seed(store: DynamoStore, now: datetime) -> dict[str, int]:
    created = {"hours": 0, "practitioners": 0, "webinars": 0}
    if store.load_hours() is None:
        store.save_hours(demo_hours())
        created["hours"] = 1
    created["practitioners"] = sum(store.create_practitioner(p) for p in PRACTITIONERS)
    created["webinars"] = sum(store.create_webinar(w) for w in _upcoming_webinars(now))
    return created
