"""Eight weeks of a working helpline for the local stack's demo: shifts, SMS, emails and calls in
and out of hours, answered and missed calls, voicemails, callbacks, webinars with bookings and
attendance, replies and closes.

Everything happens through the app's own public routes and signed webhooks (in process, with
Chalice's test client), on a clock this script moves: the records are exactly what real traffic
writes, so the weekly report, the inbox and the case timelines look lived-in on first start.
Deterministic (one seeded random generator, times relative to the current week) and written once:
a marker item says it is done. No real person's data: numbers in the 2000 0xxx demo range,
addresses at example.org, invented first names.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from twilio.request_validator import RequestValidator

from chalicelib.domain.model import Identity
from scripts.call import call_fields, walk_call
from scripts.scheduler import jobs_of, run_job
from scripts.sms import twilio_sms_form

WEEKS = 8
ZONE = ZoneInfo("Europe/Copenhagen")
MARKER = {"pk": {"S": "SEED"}, "sk": {"S": "HISTORY"}}

SMS_TEXTS = (
    "Hej, jeg går i 9. klasse og ved ikke om jeg skal vælge gymnasiet eller en erhvervsuddannelse",
    "Hvad kræver det at komme ind på pædagoguddannelsen?",
    "Kan man tage et sabbatår og stadig søge SU bagefter?",
    "Hi, I moved to Denmark last year. How do I apply for upper secondary school?",
    "Jeg er i tvivl om jeg skal skifte studie. Kan jeg tale med nogen?",
    "Hvornår er fristen for kvote 2?",
    "Hvad er forskellen på stx og hhx?",
    "I want to become an electrician, where do I start?",
    "Kan I hjælpe mig med at finde en læreplads?",
    "Jeg har fået afslag på min ansøgning, hvad gør jeg nu?",
)
EMAIL_SUBJECTS = (
    ("Spørgsmål om optagelse", "Hej\n\nJeg vil gerne vide hvilke karakterer der kræves.\n"),
    ("Valg af uddannelse", "Hej\n\nJeg kan ikke beslutte mig mellem to uddannelser.\n"),
    ("Studying in Denmark", "Hello,\n\nWhich programmes are taught in English?\n"),
    ("Erhvervsuddannelse", "Hej\n\nHvordan fungerer grundforløbet?\n"),
)
REPLIES = (
    "Hej! Tak for dit spørgsmål. Det kommer an på dine interesser - fortæl gerne lidt mere.",
    "Godt spørgsmål. Du kan finde fristerne på optagelse.dk, og vi hjælper gerne med ansøgningen.",
    "Hi! Thanks for writing. Here is how it works, step by step.",
    "Hej igen. Du er velkommen til at ringe, hvis det er nemmere at tale om det.",
)
FIRST_NAMES = ("Freja", "Oliver", "Ida", "Noah", "Alma", "Emil", "Clara", "Malik", "Sofie", "Liam")
OUTCOMES = ("answered", "answered", "answered", "referred", "no_reply_needed", "unreachable")
# (practitioner, from, to) by weekday (0 = Monday), in the service's time zone
SHIFTS: dict[int, tuple[tuple[str, int, int], ...]] = {
    0: (("p-anna", 9, 15), ("p-sara", 9, 17), ("p-jonas", 13, 21)),
    1: (("p-anna", 9, 15), ("p-jonas", 13, 21), ("p-sara", 15, 21)),
    2: (("p-anna", 9, 15), ("p-sara", 9, 17), ("p-jonas", 13, 21)),
    3: (("p-anna", 9, 15), ("p-jonas", 13, 21), ("p-sara", 15, 21)),
    4: (("p-anna", 9, 17), ("p-jonas", 9, 13)),
    5: (("p-jonas", 10, 16),),
    6: (("p-sara", 10, 16),),
}


class SimulatedClock:
    """The app's clock during the simulation: the time of the event being played."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        self.at += timedelta(microseconds=1)
        return self.at


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


class Helpline:
    """The app in process, driven as citizens, Twilio, the mail relay and staff drive it."""

    def __init__(self, client: Any, services: Any, clock: SimulatedClock, auth_dir: Path) -> None:
        import app as application
        from scripts.auth_token import issue_token

        self.http = client.http
        self.services = services
        self.clock = clock
        self.settings = services.settings
        self.queue: list[Event] = []
        self.last_week = datetime.max.replace(tzinfo=UTC)  # from then on, some cases stay open
        self.counter = itertools.count()
        self.tokens = {
            user: {"Authorization": f"Bearer {issue_token(auth_dir, user, role)}"}
            for user, role in (
                ("p-anna", "practitioner"),
                ("p-jonas", "practitioner"),
                ("p-sara", "practitioner"),
                ("boss", "manager"),
            )
        }
        self.jobs = {job.name: job for job in jobs_of(application.app)}
        self.counts = {"sms": 0, "email": 0, "calls": 0, "bookings": 0, "replies": 0, "closed": 0}

    def scheduled(self, job: str) -> None:
        """Run one of the app's scheduled functions now, as EventBridge would."""
        run_job(self.jobs[job], self.clock.at)

    # --- the event loop ------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, Event(when, next(self.counter), action))

    def play(self, until: datetime) -> None:
        while self.queue and self.queue[0].at <= until:
            event = heapq.heappop(self.queue)
            self.clock.at = max(self.clock.at, event.at)
            event.action()

    # --- what people do --------------------------------------------------------------------

    def _signed(self, path: str, form: dict[str, str]) -> Any:
        url = self.settings.public_url(path)
        signature = RequestValidator(self.settings.twilio_auth_token).compute_signature(url, form)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        return self.http.post(path, headers=headers, body=urlencode(form))

    def _json(self, method: str, path: str, user: str, body: Any = None) -> Any:
        headers = {**self.tokens[user], "Content-Type": "application/json"}
        send = getattr(self.http, method)
        answer = send(path, headers=headers, body=json.dumps(body) if body is not None else None)
        return json.loads(answer.body) if answer.body else None, answer.status_code

    def duty(self, practitioner: str, on: bool) -> None:
        self._json("put", "/practitioners/me/status", practitioner, {"on_duty": on})

    def sms(self, number: str, text: str) -> str | None:
        self._signed(
            "/webhooks/twilio/sms", twilio_sms_form(number, text, "SM" + secrets.token_hex(16))
        )
        self.counts["sms"] += 1
        return self._open_case(Identity("phone", number))

    def email(self, address: str, subject: str, text: str) -> str | None:
        from chalicelib.channels.email_relay import signature

        message = EmailMessage()
        message["From"] = address
        message["To"] = f"studyhelp@{self.settings.mail_domain}"
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock.at)
        message["Message-ID"] = f"<{secrets.token_hex(8)}@example.org>"
        message.set_content(text)
        raw = message.as_bytes()
        stamp = str(int(time.time()))  # the relay signs with its own (real) clock
        self.http.post(
            "/webhooks/email/inbound",
            body=raw,
            headers={
                "Content-Type": "message/rfc822",
                "X-Relay-Timestamp": stamp,
                "X-Relay-Signature": signature(self.settings.email_relay_secret, stamp, raw),
            },
        )
        self.counts["email"] += 1
        return self._open_case(Identity("email", address))

    def call(self, number: str, digits: str, dial: str, seconds: int, ring: int) -> str | None:
        sid = "CA" + secrets.token_hex(16)
        base = self.settings.public_url("").rstrip("/")

        def post(url: str, extra: dict[str, str], status: str) -> ET.Element | None:
            path = url.removeprefix(base)
            answer = self._signed(path, {**call_fields(number, sid, status), **extra})
            text = answer.body.decode() if isinstance(answer.body, bytes) else answer.body
            ok = answer.status_code == 200 and text.startswith("<?xml")
            return ET.fromstring(text) if ok else None

        walk_call(post, base, list(digits), dial, 25, seconds, ring=ring, pause=self._let_pass)
        self.counts["calls"] += 1
        return self._open_case(Identity("phone", number))

    def _let_pass(self, seconds: int) -> None:
        self.clock.at += timedelta(seconds=seconds)

    def _open_case(self, identity: Identity) -> str | None:
        record = self.services.store.find_identity(identity)
        return record.open_case_id if record else None

    def case(self, case_id: str) -> dict[str, Any]:
        body, _ = self._json("get", f"/cases/{case_id}", "boss")
        return body or {}

    def answer(self, case_id: str, on_duty: set[str], rng: random.Random) -> None:
        """The assignee answers (or someone on duty claims it first)."""
        case = self.case(case_id)
        if case.get("status") == "closed" or not on_duty:
            return
        who = case.get("assignee")
        if who not in on_duty:
            # what the every-minute job does: an unanswered case goes back to its queue and
            # is offered to someone on duty
            self.scheduled("route_waiting_cases")
            case = self.case(case_id)
            who = case.get("assignee")
        if who not in on_duty:
            who = sorted(on_duty)[rng.randrange(len(on_duty))]
            if self._json("post", f"/cases/{case_id}/claim", who)[1] != 200:
                return
        if case.get("callback_pending"):
            call, status = self._json("post", f"/cases/{case_id}/callback", who)
            if status == 201:  # Twilio reports the call's end, with its length
                path = f"/webhooks/twilio/voice/status?ref={case_id}.{call['id']}"
                number = (case.get("callback") or {}).get("number") or ""
                fields = call_fields(number, "CA" + secrets.token_hex(16), "completed")
                self._signed(path, {**fields, "CallDuration": str(rng.randint(120, 600))})
            return
        if set(case.get("channels") or []) <= {"voice"}:
            return  # an answered call needs no written reply
        for _ in range(rng.randint(1, 8)):  # the case open in front of them while they write
            self._json("post", f"/cases/{case_id}/presence", who, {"activity": "writing"})
            self._let_pass(60)
        reply = {"body": REPLIES[rng.randrange(len(REPLIES))], "seen": case["timeline"][-1]["id"]}
        if self._json("post", f"/cases/{case_id}/replies", who, reply)[1] == 201:
            self.counts["replies"] += 1

    def close(self, case_id: str, rng: random.Random, outcome: str | None = None) -> str | None:
        """The outcome it was closed with (None: it was not)."""
        case = self.case(case_id)
        if case.get("status") == "closed" or not case.get("timeline"):
            return None
        who = case.get("assignee") or "boss"
        outcome = outcome or OUTCOMES[rng.randrange(len(OUTCOMES))]
        body = {"outcome": outcome, "seen": case["timeline"][-1]["id"]}
        if self._json("post", f"/cases/{case_id}/close", who, body)[1] != 200:
            return None
        self.counts["closed"] += 1
        return outcome


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), ZONE).astimezone(UTC)


def plan_week(desk: Helpline, monday: date, rng: random.Random, on_duty: set[str]) -> None:
    """One week of traffic, queued on the desk's event loop."""
    for offset in range(7):
        day = monday + timedelta(days=offset)
        for practitioner, start, end in SHIFTS[day.weekday()]:

            def on(p: str = practitioner) -> None:
                desk.duty(p, True)
                on_duty.add(p)

            def off(p: str = practitioner) -> None:
                desk.duty(p, False)
                on_duty.discard(p)
                desk.scheduled("route_waiting_cases")  # their unanswered cases move on

            desk.at(_local(day, start), on)
            desk.at(_local(day, end), off)
        weekend = day.weekday() >= 5
        for kind, count in (
            ("sms", rng.randint(1, 2) if weekend else rng.randint(2, 4)),
            ("email", 0 if weekend else rng.randint(0, 2)),
            ("call", rng.randint(0, 1) if weekend else rng.randint(1, 2)),
        ):
            for _ in range(count):
                # one contact in five outside the opening hours (evenings, early mornings)
                hour = rng.choice((7, 22, 23)) if rng.random() < 0.2 else rng.randint(10, 15)
                when = _local(day, hour, rng.randrange(60))
                desk.at(when, _contact(desk, kind, rng, on_duty))


def _contact(
    desk: Helpline, kind: str, rng: random.Random, on_duty: set[str]
) -> Callable[[], None]:
    number = f"+452000{rng.randrange(10000):04d}"
    address = f"elev{rng.randrange(10000):04d}@example.org"

    def happen() -> None:
        if kind == "sms":
            case_id = desk.sms(number, SMS_TEXTS[rng.randrange(len(SMS_TEXTS))])
        elif kind == "email":
            subject, text = EMAIL_SUBJECTS[rng.randrange(len(EMAIL_SUBJECTS))]
            case_id = desk.email(address, subject, text)
        else:
            answered = rng.random() < 0.6
            language = "1" if rng.random() < 0.8 else "2"  # dansk, or English
            topic = "1" if answered else rng.choice(("11", "12"))  # voicemail or callback
            digits = language + topic
            if answered and rng.random() < 0.5:  # rates the call when asked at its end
                digits += rng.choices("12345", weights=(1, 1, 3, 6, 8))[0]
            dial = "completed" if answered else "no-answer"
            ring = rng.randint(3, 40) if answered else 20  # the <Dial>'s timeout
            seconds = rng.randint(90, 900) if answered else 20
            case_id = desk.call(number, digits, dial, seconds, ring)
        if case_id is None:
            return
        answered_at = desk.clock.at + timedelta(minutes=rng.randint(4, 90))
        desk.at(answered_at, lambda: desk.answer(case_id, on_duty, rng))
        if desk.clock.at < desk.last_week or rng.random() < 0.6:
            # closed within the day as a rule; some of the last week's stay open for the inbox
            closing = answered_at + timedelta(minutes=rng.randint(20, 600))
            desk.at(closing, lambda: close_and_rate(case_id))

    def close_and_rate(case_id: str) -> None:
        """About half of those asked by SMS answer "How did we do?" within a few hours."""
        outcome = desk.close(case_id, rng)
        if kind == "sms" and outcome in ("answered", "referred") and rng.random() < 0.5:
            rating = rng.choices("12345", weights=(1, 1, 3, 6, 8))[0]
            later = desk.clock.at + timedelta(minutes=rng.randint(2, 240))

            def rate() -> None:
                desk.sms(number, rating)

            desk.at(later, rate)

    return happen


def plan_webinars(desk: Helpline, monday: date, rng: random.Random) -> None:
    """Two sessions a week, created the week before, booked, held, attendance marked."""
    for weekday, hour, title in ((1, 16, "Gymnasium or vocational school?"), (3, 17, "Apply")):
        starts = _local(monday + timedelta(days=weekday), hour)

        def create(starts: datetime = starts, title: str = title) -> None:
            body = {
                "title": title,
                "starts_at": starts.isoformat(),
                "duration_minutes": 60,
                "capacity": 8,
                "waitlist_size": 4,
                "queue": "education",
                "join_url": "https://meet.example.org/demo",
            }
            created, status = desk._json("post", "/webinars", "boss", body)
            if status != 201:
                return
            for n in range(rng.randint(3, 9)):
                booking_at = desk.clock.at + timedelta(hours=rng.randint(1, 120))
                desk.at(min(booking_at, starts - timedelta(hours=2)), _book(desk, created["id"], n))
            desk.at(starts + timedelta(hours=2), _attendance(desk, created["id"], rng))

        desk.at(starts - timedelta(days=7), create)


def _book(desk: Helpline, webinar_id: str, n: int) -> Callable[[], None]:
    def book() -> None:
        body = {
            "email": f"deltager{secrets.randbelow(10**6):06d}@example.org",
            "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
            "consent": True,
        }
        desk.http.post(
            f"/webinars/{webinar_id}/bookings",
            headers={"Content-Type": "application/json"},
            body=json.dumps(body),
        )
        desk.counts["bookings"] += 1

    return book


def _attendance(desk: Helpline, webinar_id: str, rng: random.Random) -> Callable[[], None]:
    def mark() -> None:
        listing, _ = desk._json("get", f"/webinars/{webinar_id}/bookings", "boss")
        for booking in (listing or {}).get("bookings", []):
            if booking.get("status") == "confirmed":
                attended = {"attended": rng.random() < 0.75}
                path = f"/webinars/{webinar_id}/bookings/{booking['id']}/attendance"
                desk._json("post", path, "boss", attended)
            if booking.get("case_id"):  # nothing more to do on a booking's own case
                desk.close(booking["case_id"], rng, outcome="no_reply_needed")

    return mark


@contextmanager
def _quiet() -> Iterator[None]:
    """The simulation's thousand requests would drown the terminal in request logs."""
    loggers = [logging.getLogger(n) for n in ("contact-centre", "guidance-contact-centre")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def seed_history(services: Any, now: datetime, auth_dir: Path) -> dict[str, int]:
    """Play the eight weeks before `now`'s week, once; {} when it was done before."""
    from chalice.test import Client

    import app as application
    from chalicelib.wiring import reset_services

    store = services.store
    if "Item" in store.client.get_item(TableName=store.table, Key=MARKER):
        return {}
    this_monday = now.astimezone(ZONE).date() - timedelta(days=now.astimezone(ZONE).weekday())
    first_monday = this_monday - timedelta(weeks=WEEKS)
    clock = SimulatedClock(_local(first_monday, 0) - timedelta(days=8))
    services.clock = clock
    reset_services(services)
    rng = random.Random(f"helpline-{first_monday.isoformat()}")
    on_duty: set[str] = set()
    try:
        with _quiet(), Client(application.app) as client:
            desk = Helpline(client, services, clock, auth_dir)
            desk.last_week = _local(this_monday - timedelta(weeks=1), 0)
            for week in range(WEEKS):
                monday = first_monday + timedelta(weeks=week)
                plan_week(desk, monday, rng, on_duty)
                plan_webinars(desk, monday, rng)
            desk.play(until=_local(this_monday, 0))
            for practitioner in sorted(on_duty):
                desk.duty(practitioner, False)
    finally:
        reset_services(None)
    store.client.put_item(TableName=store.table, Item={**MARKER, "at": {"S": now.isoformat()}})
    return desk.counts
