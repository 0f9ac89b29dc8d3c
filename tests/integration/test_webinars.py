"""Webinar booking against DynamoDB Local: seats never oversold, the waitlist fills freed seats in
arrival order, reminders once, and no public answer shows another attendee."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from chalicelib.adapters.blobs import LocalBlobs
from chalicelib.adapters.senders import Sent
from chalicelib.domain import delivery, staffing, webinars
from chalicelib.domain.errors import Conflict
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, Practitioner, Webinar
from tests.conftest import TestServices, bearer, deps_of
from tests.sending import Fixed
from tests.twilio_fakes import signed, sms_form

HOURS = demo_hours()


@dataclass
class Recorder:
    """The sender interfaces (mail and SMS), keeping what would have been sent."""

    mails: list[tuple[bytes, str]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        with self.lock:
            self.mails.append((raw, to))
        return Sent("ses", "x", "sent")

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        with self.lock:
            self.texts.append((to, body))
        return Sent("twilio", "SM", "queued")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def notifier(senders, store, clock, tmp_path) -> TestServices:
    """The app's dependencies with these senders, and the real outbox for what they refuse."""
    return deps_of(store, clock, sms=senders, mail=senders, blobs=LocalBlobs(tmp_path / "blobs"))


@pytest.fixture
def notify(recorder, store, clock, tmp_path) -> TestServices:
    return notifier(recorder, store, clock, tmp_path)


def session(store, clock, capacity=25, waitlist=20, hours_ahead=48, wid="w1") -> Webinar:
    webinar = Webinar(
        wid,
        "Choosing an education",
        clock.at + timedelta(hours=hours_ahead),
        60,
        capacity,
        waitlist,
        "education",
        "https://meet.example.org/w1",
    )
    store.create_webinar(webinar)
    return webinar


class Ticking:
    """A thread-safe clock: each booking arrives a microsecond after the one before."""

    def __init__(self, clock):
        self.clock, self.lock = clock, threading.Lock()

    def __call__(self):
        with self.lock:
            return self.clock()


def test_300_concurrent_bookings_for_25_seats_and_20_waitlist_places(store, clock, notify):
    webinar = session(store, clock)
    ticking = Ticking(clock)
    start = threading.Barrier(50)

    def one(i):
        try:
            start.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        try:
            return webinars.book(
                replace(notify, clock=ticking),
                webinar,
                {"email": f"p{i}@example.com", "consent": True},
            )
        except Conflict as full:
            return full

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(300)))
    booked = [r for r in results if not isinstance(r, Conflict)]
    confirmed = [r for r in booked if r.booking.status == "confirmed"]
    waitlisted = [r for r in booked if r.booking.status == "waitlisted"]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(confirmed), len(waitlisted), len(refused)) == (25, 20, 255)
    assert all(r.code == "full" for r in refused)
    stored = store.get_webinar("w1")
    assert (stored.seats_taken, stored.waitlist_taken) == (25, 20)
    line = store.waitlist("w1")
    assert [b.id for b in line] == [
        r.booking.id for r in sorted(waitlisted, key=lambda r: r.booking.waitlisted_at)
    ]  # arrival order
    assert [store.waitlist_position("w1", b.waitlisted_at) for b in line] == list(range(1, 21))


def test_10_concurrent_cancellations_promote_exactly_10_in_order(store, clock, notify, recorder):
    webinar = session(store, clock, capacity=10, waitlist=15)
    tokens = []
    for i in range(25):
        result = webinars.book(notify, webinar, {"email": f"p{i}@example.com", "consent": True})
        tokens.append((result.booking, result.token))
    seated = [t for b, t in tokens if b.status == "confirmed"]
    line = [b.id for b, _ in tokens if b.status == "waitlisted"]
    assert len(seated) == 10 and len(line) == 15
    ticking = Ticking(clock)
    start = threading.Barrier(10)

    def cancel(token):
        start.wait(timeout=10)
        return webinars.cancel(replace(notify, clock=ticking), token)

    with ThreadPoolExecutor(max_workers=10) as pool:
        cancelled = list(pool.map(cancel, seated))
    assert all(b.status == "cancelled" for b in cancelled)
    statuses = {b.id: b.status for b in store.bookings_of("w1")}
    assert [statuses[i] for i in line] == ["confirmed"] * 10 + ["waitlisted"] * 5
    stored = store.get_webinar("w1")
    assert (stored.seats_taken, stored.waitlist_taken) == (10, 5)
    promoted = [to for _, to in recorder.mails[-20:]]
    assert {f"p{i}@example.com" for i in range(10, 20)} <= set(promoted)


def test_the_same_person_booking_twice_gets_the_existing_booking(store, clock, notify):
    webinar = session(store, clock)
    first = webinars.book(notify, webinar, {"email": "a@example.com", "consent": True})
    again = webinars.book(notify, webinar, {"email": "A@Example.com", "consent": True})
    assert again.existing and again.booking.id == first.booking.id and again.token is None
    assert store.get_webinar("w1").seats_taken == 1


def test_past_and_cancelled_sessions_are_refused(store, clock, notify):
    past = session(store, clock, hours_ahead=-1, wid="past")
    with pytest.raises(Conflict) as refused:
        webinars.book(notify, past, {"phone": "+4520000001", "consent": True})
    assert refused.value.code == "session_started"
    webinar = session(store, clock)
    webinars.cancel_session(notify, "w1")
    with pytest.raises(Conflict):
        webinars.book(
            notify,
            store.get_webinar("w1"),
            {"phone": "+4520000001", "consent": True},
        )
    assert webinar.status == "scheduled"  # the caller's copy is stale; the store's is not


def test_a_stale_copy_of_a_cancelled_session_cannot_book(store, clock, notify):
    webinar = session(store, clock)
    store.cancel_webinar("w1")
    with pytest.raises(Conflict) as refused:  # the transaction's condition sees the truth
        webinars.book(notify, webinar, {"phone": "+4520000001", "consent": True})
    assert refused.value.code == "full"


def test_reminders_are_sent_once_even_when_the_job_runs_twice(store, clock, notify, recorder):
    webinar = session(store, clock, hours_ahead=23)
    for i in range(3):
        webinars.book(notify, webinar, {"phone": f"+452000000{i}", "consent": True})
    recorder.texts.clear()
    assert webinars.send_reminders(notify) == 3
    assert webinars.send_reminders(notify) == 0
    assert len(recorder.texts) == 3 and all("i morgen" in t for _, t in recorder.texts)
    later = clock() + timedelta(hours=22, minutes=30)
    reminding = replace(notify, clock=Fixed(later))
    assert webinars.send_reminders(reminding) == 3  # the 1-hour reminder
    assert webinars.send_reminders(reminding) == 0


def test_confirmation_email_carries_one_recipient_and_a_calendar_invite(
    store, clock, notify, recorder
):
    import icalendar

    webinar = session(store, clock)
    webinars.book(
        notify,
        webinar,
        {"email": "a@example.com", "first_name": "Ali", "consent": True},
    )
    raw, to = recorder.mails[-1]
    assert to == "a@example.com"
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["To"] == "a@example.com" and "," not in message["To"] and not message["Cc"]
    [invite] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    event = icalendar.Calendar.from_ical(invite.get_content()).walk("VEVENT")[0]
    assert str(event["summary"]) == "Choosing an education"
    assert event.decoded("dtstart") == webinar.starts_at
    assert "ATTENDEE" not in invite.get_content()


class Refusing(Recorder):
    """Providers answering 5xx until they are back."""

    down: bool = True

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        if self.down:
            raise ConnectionError("SES answered 503")
        return super().send_email(raw, to, ref)

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        if self.down:
            raise ConnectionError("Twilio answered 500")
        return super().send_sms(to, body, status_callback)


def test_a_confirmation_the_providers_refuse_is_late_not_lost(store, clock, tmp_path):
    """The booking stands; the confirmation (email with its invite, and SMS) waits in the
    outbox on the citizen's case, and the retry job sends it once the providers are back."""
    providers = Refusing()
    notify = notifier(providers, store, clock, tmp_path)
    webinar = session(store, clock)
    booked = webinars.book(
        notify,
        webinar,
        {"email": "late@example.com", "phone": "+4520004444", "consent": True},
    )
    assert booked.booking.status == "confirmed"
    timeline = store.get_case(booked.booking.case_id, with_timeline=True).timeline
    waiting = [(i.channel, i.status) for i in timeline if i.direction == "out"]
    assert sorted(waiting) == [("email", "retrying"), ("sms", "retrying")]

    providers.down = False
    blobs = LocalBlobs(tmp_path / "blobs")
    later = clock() + timedelta(minutes=2)
    sent = delivery.retry_due(replace(notify, clock=Fixed(later), blobs=blobs))
    assert sent == {"sent": 2, "retrying": 0, "failed": 0}
    [(raw, to)] = providers.mails
    invite = BytesParser(policy=policy.default).parsebytes(raw)
    assert to == "late@example.com"
    assert any(part.get_content_type() == "text/calendar" for part in invite.walk())
    assert providers.texts[0][0] == "+4520004444" and webinar.title in providers.texts[0][1]
    timeline = store.get_case(booked.booking.case_id, with_timeline=True).timeline
    assert sorted(i.status for i in timeline if i.direction == "out") == ["queued", "sent"]


def test_a_number_that_texted_stop_gets_no_sms_about_its_booking(store, clock, notify, recorder):
    from chalicelib.domain import intake
    from chalicelib.domain.model import InboundMessage

    stop = InboundMessage(
        "sms",
        "twilio",
        "SM" + "5" * 32,
        Identity("phone", "+4520005555"),
        "+4570203040",
        "STOP",
        keyword="stop",
    )
    intake.receive(deps_of(store, clock, hours=HOURS), stop)
    webinar = session(store, clock)
    request = {"email": "quiet@example.com", "phone": "+4520005555", "consent": True}
    booked = webinars.book(notify, webinar, request)
    assert booked.booking.status == "confirmed"
    assert [to for _, to in recorder.mails] == ["quiet@example.com"]
    assert recorder.texts == []
    other = webinars.book(
        notify,
        session(store, clock, wid="w2"),
        {"phone": "+4520006666", "consent": True},
    )
    assert other.booking.status == "confirmed" and [to for to, _ in recorder.texts] == [
        "+4520006666"
    ]


def test_a_booking_lands_on_the_citizens_one_case(api, local_services):
    store = local_services.store
    api.post(
        "/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form("+4520000001", "hi"))
    )
    webinar = session(store, local_services.clock)
    answer = api.post(
        f"/webinars/{webinar.id}/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": "+4520000001", "first_name": "Sofie", "consent": True}),
    )
    assert answer.status_code == 202
    record = store.find_identity(Identity("phone", "+4520000001"))
    case = store.get_case(record.open_case_id, with_timeline=True)
    assert set(case.channels) == {"sms", "webinar"}
    # the booking, then its confirmation (recorded with it, in the same transaction)
    booked, confirmation = case.timeline[-2:]
    assert booked.channel == "webinar" and "Booked" in booked.body
    assert (confirmation.channel, confirmation.direction) == ("sms", "out")
    assert "Du har en plads til" in confirmation.body


class Witness(Refusing):
    """Providers answering 5xx that, when asked to send, note what the booker's case shows."""

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store
        self.shown: list[list[str]] = []

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        record = self.store.find_identity(Identity("phone", to))
        case = record and self.store.get_case(record.open_case_id, with_timeline=True)
        self.shown.append([i.body for i in case.timeline if i.direction == "out"] if case else [])
        return super().send_sms(to, body, status_callback)


def test_a_confirmation_is_on_the_case_before_it_is_sent_and_a_refused_one_is_retried(
    api, local_services, clock
):
    """Nothing is sent that the citizen's case does not show (were the send or the function to
    die, the case would still say what we meant to tell them); Twilio answering 500 parks it
    and the retry schedule sends it."""
    store = local_services.store
    local_services.sms = providers = Witness(store)
    webinar = session(store, local_services.clock)
    answer = api.post(
        f"/webinars/{webinar.id}/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": "+4520007777", "consent": True}),
    )
    assert answer.status_code == 202
    [shown] = providers.shown
    assert len(shown) == 1 and "Du har en plads til" in shown[0]
    record = store.find_identity(Identity("phone", "+4520007777"))
    [out] = [
        i
        for i in store.get_case(record.open_case_id, with_timeline=True).timeline
        if i.direction == "out"
    ]
    assert out.status == "retrying"
    assert [p.interaction_id for p in store.due(clock() + timedelta(minutes=1))] == [out.id]

    providers.down = False
    clock.at += timedelta(minutes=2)
    # what the retry_outbox schedule runs, with the app's services
    assert delivery.retry_due(local_services) == {"sent": 1, "retrying": 0, "failed": 0}
    assert [to for to, _ in providers.texts] == ["+4520007777"]
    [out] = [
        i
        for i in store.get_case(record.open_case_id, with_timeline=True).timeline
        if i.direction == "out"
    ]
    assert out.status == "queued" and store.due(clock() + timedelta(days=1)) == []


def test_no_public_answer_contains_another_attendees_data(api, local_services):
    store = local_services.store
    local_services.mail = local_services.sms = sent = Recorder()
    session(store, local_services.clock, capacity=1, waitlist=1)
    people = [
        {"email": "first@example.com", "first_name": "Firstperson", "consent": True},
        {"phone": "+4521111111", "first_name": "Secondperson", "consent": True},
        {"email": "third@example.com", "first_name": "Thirdperson", "consent": True},
    ]
    answers = [
        api.post(
            "/webinars/w1/bookings",
            headers={"Content-Type": "application/json"},
            body=json.dumps(p),
        )
        for p in people
    ]
    # confirmed and waitlisted look alike to the booker: the state goes to their address
    assert [a.status_code for a in answers] == [202, 202, 409]
    assert answers[0].body == answers[1].body
    assert "nummer 1 på ventelisten" in sent.texts[0][1]  # Danish: no page language given
    listing = api.get("/webinars")
    bodies = [a.body.decode() for a in answers] + [listing.body.decode()]
    for i, body in enumerate(bodies):
        others = [p for j, p in enumerate(people) if j != i]
        for other in others:
            for value in other.values():
                if isinstance(value, str):
                    assert value not in body
    [public] = json.loads(listing.body)["webinars"]
    assert public["seats_left"] == 0 and "join_url" not in public
    confirmation = BytesParser(policy=policy.default).parsebytes(sent.mails[0][0])
    [token] = re.findall(r"/bookings/([\w-]+)/cancel", confirmation.get_body().get_content())
    cancelled = api.post(f"/bookings/{token}/cancel")
    assert json.loads(cancelled.body)["booking"]["status"] == "cancelled"
    admin = api.get("/webinars/w1/bookings", headers=bearer("boss", "manager"))
    statuses = sorted(b["status"] for b in json.loads(admin.body)["bookings"])
    assert statuses == ["cancelled", "confirmed"]  # the waitlisted person was promoted
    assert api.get("/webinars/w1/bookings").status_code == 401


def test_managers_create_cancel_and_mark_attendance(api, local_services):
    boss = {**bearer("boss", "manager"), "Content-Type": "application/json"}
    created = api.post(
        "/webinars",
        headers=boss,
        body=json.dumps(
            {
                "title": "Gap year",
                "starts_at": "2026-12-01T16:00:00+01:00",
                "duration_minutes": 60,
                "capacity": 2,
                "waitlist_size": 1,
                "join_url": "https://meet.example.org/g",
            }
        ),
    )
    assert created.status_code == 201
    wid = json.loads(created.body)["id"]
    booked = api.post(
        f"/webinars/{wid}/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "x@example.com", "consent": True}),
    )
    assert booked.status_code == 202
    listed = api.get(f"/webinars/{wid}/bookings", headers=boss)
    [booking_id] = [b["id"] for b in json.loads(listed.body)["bookings"]]
    marked = api.post(
        f"/webinars/{wid}/bookings/{booking_id}/attendance",
        headers=boss,
        body=json.dumps({"attended": True}),
    )
    assert json.loads(marked.body)["attended"] is True
    cancelled = api.post(f"/webinars/{wid}/cancel", headers=boss)
    assert json.loads(cancelled.body)["citizens_told"] == 1
    again = api.post(
        f"/webinars/{wid}/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "y@example.com", "consent": True}),
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com"},
        {"consent": True},
        {"email": "a@example.com", "consent": False},
        {"phone": "12345", "consent": True},
    ],
)
def test_bad_booking_bodies_are_400(api, local_services, body):
    session(local_services.store, local_services.clock)
    answer = api.post(
        "/webinars/w1/bookings", headers={"Content-Type": "application/json"}, body=json.dumps(body)
    )
    assert answer.status_code == 400


def test_a_booking_alone_waits_for_nobody_until_the_citizen_asks(api, local_services):
    """A booking opens the citizen's case for its timeline, not a case to answer: it is neither in
    the practitioners' inbox nor in the queue's waiting list, and nobody is handed it. The
    citizen's first question makes it a case to answer, routed like any new one."""
    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("education",), ("da",), 5))
    staffing.set_duty(local_services, Actor("anna", "practitioner"), True)
    session(store, local_services.clock)
    booked = api.post(
        "/webinars/w1/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": "+4520000002", "first_name": "Sofie", "consent": True}),
    )
    assert booked.status_code == 202
    case_id = store.find_identity(Identity("phone", "+4520000002")).open_case_id
    inbox = api.get("/inbox", headers=bearer("anna", "practitioner"))
    assert json.loads(inbox.body)["cases"] == []
    assert store.waiting_cases("education") == []
    assert store.get_practitioner("anna").active_cases == 0
    local_services.clock.at += timedelta(minutes=5)
    api.post(
        "/webhooks/twilio/sms",
        **signed("/webhooks/twilio/sms", sms_form("+4520000002", "Is there a recording?")),
    )
    case = store.get_case(case_id, with_timeline=True)
    assert (case.status, case.assignee) == ("assigned", "anna")
    assert [i.channel for i in case.timeline if i.direction == "in"] == ["webinar", "sms"]
    inbox = api.get("/inbox", headers=bearer("anna", "practitioner"))
    assert [c["id"] for c in json.loads(inbox.body)["cases"]] == [case_id]
