"""The public booking route, tried as an attacker would (issue 14, items 4, 6, 8 and 9): no
answer reveals whether someone else booked, a cancelled citizen can book again, our messages carry
only our words, bad session data or addresses never cost a seat, and one address cannot be used to
flood a citizen or hoard seats."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from chalicelib.domain import webinars
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Webinar
from tests.conftest import bearer
from tests.integration.test_webinars import Recorder, notifier, session

HOURS = demo_hours()
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sent(local_services) -> Recorder:
    """What the app would have sent, by email and SMS."""
    recorder = Recorder()
    local_services.sms = recorder
    local_services.mail = recorder
    return recorder


def book(api, wid: str, **fields):
    return api.post(
        f"/webinars/{wid}/bookings", headers=JSON, body=json.dumps({"consent": True, **fields})
    )


def texts_of(recorder: Recorder) -> list[tuple[str, str]]:
    """(recipient, readable text) of every email and SMS sent."""
    out = list(recorder.texts)
    for raw, to in recorder.mails:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        out.append(
            (to, str(message["Subject"]) + "\n" + message.get_body(("plain",)).get_content())
        )
    return out


def cancel_link(text: str) -> str:
    [token] = re.findall(r"/bookings/([A-Za-z0-9_-]+)/cancel", text)
    return token


# --- item 4: no oracle, and a cancelled booking can be booked again --------------------------


def test_a_repeat_booking_answers_exactly_as_a_first_booking(api, local_services, sent):
    session(local_services.store, local_services.clock, capacity=1, waitlist=5)
    book(api, "w1", email="victim@example.com")
    repeat = book(api, "w1", email="victim@example.com")
    stranger = book(api, "w1", email="stranger@example.com")
    assert repeat.status_code == stranger.status_code
    assert json.loads(repeat.body) == json.loads(stranger.body)
    for key in ("id", "position", "cancel_token"):
        assert key not in json.loads(repeat.body)["booking"] and key not in json.loads(repeat.body)
    assert "confirmed" not in repeat.body.decode()


def test_a_repeat_tells_only_the_address_given_with_a_working_cancel_link(
    api, local_services, sent
):
    session(local_services.store, local_services.clock)
    book(api, "w1", email="victim@example.com")
    before = len(sent.mails)
    book(api, "w1", email="victim@example.com", phone="+4529999999")
    assert sent.texts == []  # the attacker's number learns nothing
    assert [to for _, to in sent.mails[before:]] == ["victim@example.com"]
    [(_, text)] = texts_of(Recorder(mails=sent.mails[before:]))
    cancelled = api.post(f"/bookings/{cancel_link(text)}/cancel")
    assert json.loads(cancelled.body)["booking"]["status"] == "cancelled"
    assert local_services.store.get_webinar("w1").seats_taken == 0


def test_a_cancelled_booking_can_be_booked_again(api, local_services, sent):
    store = local_services.store
    session(store, local_services.clock, capacity=1, waitlist=0)
    book(api, "w1", phone="+4520001111")
    [(_, text)] = sent.texts
    api.post(f"/bookings/{cancel_link(text)}/cancel")
    again = book(api, "w1", phone="+4520001111")
    assert again.status_code == 202
    assert store.get_webinar("w1").seats_taken == 1
    statuses = sorted(b.status for b in store.bookings_of("w1"))
    assert statuses == ["cancelled", "confirmed"]
    # the new seat has its own cancel link; the old one does not cancel it
    assert api.post(f"/bookings/{cancel_link(text)}/cancel").status_code == 200
    assert store.get_webinar("w1").seats_taken == 1
    assert cancel_link(sent.texts[-1][1]) != cancel_link(text)


# --- item 8: our messages carry only our words ------------------------------------------------


def test_messages_never_carry_the_bookers_first_name(api, local_services, sent):
    session(local_services.store, local_services.clock)
    bait = "Your account is locked, log in at https://evil.example"
    book(api, "w1", email="target@example.com", phone="+4520002222", first_name=bait[:60])
    messages = texts_of(sent)
    assert len(messages) == 2 and all("evil" not in text for _, text in messages)
    admin = api.get("/webinars/w1/bookings", headers=bearer("boss", "manager"))
    assert json.loads(admin.body)["bookings"][0]["first_name"] == bait[:60]


# --- item 6: bad session fields and addresses are 400s, and nothing is half done ----------------

BOSS = {**bearer("boss", "manager"), **JSON}
GOOD = {
    "title": "Gap year",
    "starts_at": "2026-12-01T16:00:00+01:00",
    "duration_minutes": 60,
    "capacity": 2,
    "join_url": "https://meet.example.org/g",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Gap year\r\nBcc: everyone@example.com"),
        ("title", "Gap year\u2028Click here"),
        ("title", "Gap year\n"),
        ("description", "Fine text\x00"),
        ("join_url", "https://meet.example.org/g\nhttps://evil.example"),
        ("join_url", "https://meet.example.org/g\n"),
        ("join_url", "http://meet.example.org/g"),
        ("join_url", "https://"),
        ("starts_at", "0001-01-01T00:00:00+14:00"),
        ("starts_at", "9999-12-31T23:59:00-12:00"),
        ("starts_at", "1000-01-01T00:00:00Z"),
    ],
)
def test_bad_session_fields_are_400_naming_the_field(api, local_services, field, value):
    created = api.post("/webinars", headers=BOSS, body=json.dumps({**GOOD, field: value}))
    assert created.status_code == 400, created.body
    assert json.loads(created.body)["error"]["field"] == field
    session(local_services.store, local_services.clock)
    updated = api.put("/webinars/w1", headers=BOSS, body=json.dumps({field: value}))
    assert updated.status_code == 400, updated.body
    assert json.loads(updated.body)["error"]["field"] == field


def test_a_session_with_a_multi_line_description_is_fine(api, local_services):
    body = {**GOOD, "description": "Line one.\nLine two.\r\n\tIndented."}
    assert api.post("/webinars", headers=BOSS, body=json.dumps(body)).status_code == 201


@pytest.mark.parametrize(
    "email",
    [
        "a@[x.y",
        "a@example.com\n",
        "a@example.com\r\nBcc: b@example.com",
        "a b@example.com",
        "a@example..com",
        "a@-example.com",
        ".a@example.com",
        "a@example.c\u2028om",
    ],
)
def test_a_booking_address_no_mail_server_accepts_is_400_and_takes_no_seat(
    api, local_services, sent, email
):
    session(local_services.store, local_services.clock)
    answer = book(api, "w1", email=email)
    assert answer.status_code == 400
    assert json.loads(answer.body)["error"]["field"] == "email"
    assert local_services.store.get_webinar("w1").seats_taken == 0


@pytest.mark.parametrize("name", ["Ali\nBcc: x@example.com", "Ali\u2028", "Ali\n"])
def test_a_first_name_with_control_characters_is_400(api, local_services, name):
    session(local_services.store, local_services.clock)
    answer = book(api, "w1", email="ok@example.com", first_name=name)
    assert answer.status_code == 400
    assert json.loads(answer.body)["error"]["field"] == "first_name"


def test_a_stored_session_whose_title_breaks_a_header_still_answers_the_booking(
    api, local_services, sent
):
    """Data from before the schema checked titles: the seat is taken and the answer given; the
    message that cannot be composed is logged, never a 500 that loses the cancel link."""
    store, clock = local_services.store, local_services.clock
    store.create_webinar(
        Webinar(
            "w1",
            "Old\r\nBcc: all@example.com",
            clock.at + timedelta(days=2),
            60,
            5,
            0,
            "education",
            "https://meet.example.org/w1",
        )
    )
    answer = book(api, "w1", email="a@example.com", phone="+4520003333")
    assert answer.status_code == 202
    assert store.get_webinar("w1").seats_taken == 1
    assert len(sent.texts) == 1  # the SMS has no header to break


def test_a_send_and_park_failure_never_loses_the_answer(store, clock, tmp_path):
    class Down(Recorder):
        def send_email(self, raw, to, ref=None):
            raise ConnectionError("SES answered 503")

    class NoOutbox:
        def __init__(self, store):
            self._store = store

        def park(self, *args):
            raise RuntimeError("the outbox is down too")

        def __getattr__(self, name):
            return getattr(self._store, name)

    notify = replace(notifier(Down(), store, clock, tmp_path), store=NoOutbox(store))
    result = webinars.book(
        notify, session(store, clock), {"email": "a@example.com", "consent": True}
    )
    assert result.booking.status == "confirmed" and result.token
    assert store.get_webinar("w1").seats_taken == 1


# --- item 9: per-address and per-number limits --------------------------------------------------


def test_one_address_holds_at_most_n_upcoming_bookings_without_revealing_it(
    api, local_services, sent
):
    store, clock = local_services.store, local_services.clock
    local_services.settings = replace(local_services.settings, booking_max_active=2)
    for wid in ("w1", "w2", "w3"):
        session(store, clock, wid=wid)
    answers = [book(api, wid, email="hoarder@example.com") for wid in ("w1", "w2", "w3")]
    fresh = book(api, "w3", email="someone@example.com")
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert json.loads(answers[2].body) == json.loads(fresh.body)  # the same answer as anyone
    assert [store.get_webinar(w).seats_taken for w in ("w1", "w2", "w3")] == [1, 1, 1]
    assert "du har allerede" in texts_of(sent)[2][1]  # only the address's owner is told why
    # cancelling one frees a place
    api.post(f"/bookings/{cancel_link(texts_of(sent)[0][1])}/cancel")
    book(api, "w3", email="hoarder@example.com")
    assert store.get_webinar("w3").seats_taken == 2


def test_one_number_gets_at_most_n_booking_messages_a_day(api, local_services, sent):
    store, clock = local_services.store, local_services.clock
    local_services.settings = replace(local_services.settings, booking_max_per_day=3)
    for wid in ("w1", "w2"):
        session(store, clock, wid=wid)
    answers = [book(api, "w1", phone="+4520004444") for _ in range(3)]
    refused = book(api, "w2", phone="+4520004444")
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert refused.status_code == 429
    assert json.loads(refused.body)["error"]["code"] == "too_many_bookings"
    assert "+4520004444" not in refused.body.decode()
    assert store.get_webinar("w2").seats_taken == 0 and len(sent.texts) == 3
    assert book(api, "w2", phone="+4520005555").status_code == 202  # others are not affected
    clock.at += timedelta(days=1)
    assert book(api, "w2", phone="+4520004444").status_code == 202


def test_sessions_that_have_ended_stop_counting_against_the_limit(api, local_services, sent):
    store, clock = local_services.store, local_services.clock
    local_services.settings = replace(local_services.settings, booking_max_active=1)
    session(store, clock, wid="soon", hours_ahead=2)
    session(store, clock, wid="later", hours_ahead=48)
    book(api, "soon", email="keen@example.com")
    book(api, "later", email="keen@example.com")
    assert store.get_webinar("later").seats_taken == 0  # one live booking at a time
    clock.at += timedelta(hours=4)  # "soon" is over
    book(api, "later", email="keen@example.com")
    assert store.get_webinar("later").seats_taken == 1


def test_after_an_erasure_the_address_books_afresh(api, local_services, sent):
    """The erased booking's holder no longer stops the address: the repeat is a new booking,
    answered like any first one, its confirmation sent to the address given."""
    store = local_services.store
    session(store, local_services.clock)
    book(api, "w1", email="gone@example.com")
    [old] = store.bookings_of("w1")
    store.scrub_booking("w1", old.id)
    again = book(api, "w1", email="gone@example.com")
    assert again.status_code == 202
    assert store.get_webinar("w1").seats_taken == 2
    assert [to for _, to in sent.mails] == ["gone@example.com", "gone@example.com"]


def test_a_number_given_beside_fresh_addresses_is_limited_too(api, local_services, sent):
    """Fresh addresses each time do not let anyone flood one phone with our SMS."""
    store, clock = local_services.store, local_services.clock
    local_services.settings = replace(local_services.settings, booking_max_per_day=2)
    for wid in ("w1", "w2", "w3"):
        session(store, clock, wid=wid)
    first = book(api, "w1", email="a1@example.com", phone="+4520006666")
    second = book(api, "w2", email="a2@example.com", phone="+4520006666")
    third = book(api, "w3", email="a3@example.com", phone="+4520006666")
    assert [first.status_code, second.status_code, third.status_code] == [202, 202, 429]
    assert store.get_webinar("w3").seats_taken == 0 and len(sent.texts) == 2
