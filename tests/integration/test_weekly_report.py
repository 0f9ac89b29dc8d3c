"""The weekly report on a week built by hand (2026-W43: a holiday on Wednesday, and the autumn
clock change on Sunday in Copenhagen), with every figure asserted, against DynamoDB Local."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.senders import LocalMailOutbox
from chalicelib.channels import report_views
from chalicelib.domain import casework, chat, intake, reports, staffing, voice, webinars
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import (
    Actor,
    Identity,
    InboundMessage,
    Practitioner,
    StatusUpdate,
    Webinar,
)
from tests.conftest import bearer, deps_of, make_services

CPH = ZoneInfo("Europe/Copenhagen")
HOURS = replace(demo_hours(), closed_dates=frozenset({date(2026, 10, 21)}))
WEEK = "2026-W43"
AFTER = datetime(2026, 10, 27, 12, tzinfo=UTC)
# One case on the channel, and nobody has answered it yet: no times to report.
UNANSWERED_ONCE = {
    "responded": 0,
    "unanswered": 1,
    "median_wall_minutes": None,
    "p90_wall_minutes": None,
    "median_open_minutes": None,
    "p90_open_minutes": None,
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=CPH).astimezone(UTC)


class Fixed:
    def __init__(self, when: datetime) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when


def message(channel, sender: Identity, sid: str, body: str = "hello") -> InboundMessage:
    provider = "email" if channel == "email" else "twilio"
    return InboundMessage(channel, provider, sid, sender, "", body)


@pytest.fixture
def week(local_store, local_services):
    """The hand-built week; returns the store."""
    store = local_store
    store.save_hours(HOURS)
    for pid in ("anna", "jonas"):
        store.create_practitioner(Practitioner(pid, pid.title(), ("general",), ("da",), 5))
    anna, jonas = Actor("anna", "practitioner"), Actor("jonas", "practitioner")

    def shift(actor, start, end):
        staffing.set_duty(deps_of(store, start), actor, True)
        staffing.set_duty(deps_of(store, end), actor, False)

    # Monday: anna 08:00-12:00, jonas 11:00-14:00; Sunday (clocks go back at 03:00): anna 09-17.
    shift(anna, at(19, 8), at(19, 12))
    shift(jonas, at(19, 11), at(19, 14))
    shift(anna, at(25, 9), at(25, 17))

    def receive(msg, when):
        return intake.receive(deps_of(store, Fixed(when), hours=HOURS), msg)

    sofie = Identity("phone", "+4520000001")
    case_a = receive(message("sms", sofie, "SM" + "1" * 32), at(19, 10)).case_id
    receive(message("sms", sofie, "SM" + "2" * 32), at(19, 22))
    case_b = receive(
        message("sms", Identity("phone", "+4520000002"), "SM" + "3" * 32), at(21, 12)
    ).case_id  # the holiday
    ambiguous = datetime(2026, 10, 25, 2, 30, tzinfo=CPH).astimezone(UTC)  # first 02:30
    receive(message("email", Identity("email", "x@example.com"), "<e1@example.com>"), ambiguous)
    call = receive(
        message("voice", Identity("phone", "+4520000003"), "CA" + "4" * 32, "Incoming call"),
        at(25, 11),
    )
    store.mark_call_answered(call.case_id, call.interaction_id, True)
    store.update_delivery_status(
        call.case_id, call.interaction_id, StatusUpdate("completed", 4, duration_seconds=300)
    )
    voice.record_voicemail(
        deps_of(store, at(25, 11, 10)),
        voice.Call(call.case_id, call.interaction_id, "+4520000003"),
        "RE" + "5" * 32,
        "https://api.twilio.com/r",
        40,
    )

    session = Webinar(
        "w43", "Study choices", at(22, 16), 60, 10, 5, "education", "https://meet.example.org/w43"
    )
    store.create_webinar(session)
    booked = webinars.book(
        deps_of(store, Fixed(at(20, 10)), hours=HOURS),
        session,
        {"email": "y@example.com", "consent": True},
    )
    webinars.attendance(deps_of(store, Fixed(at(22, 17, 30))), "w43", booked.booking.id, True)

    casework.claim(deps_of(store, at(19, 10, 5)), case_a, anna)
    casework.reply(make_services(store, Fixed(at(19, 10, 30))), case_a, anna, "Hi!")
    casework.close(
        deps_of(store, at(19, 11)),
        case_a,
        anna,
        "answered",
        seen=store.get_case(case_a, with_timeline=True).timeline[-1].id,
    )
    casework.claim(deps_of(store, at(22, 9)), case_b, jonas)
    casework.reply(make_services(store, Fixed(at(22, 9, 30))), case_b, jonas, "Hello")
    return store


def test_every_figure_of_a_hand_built_week(week):
    figures = reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK)
    assert figures["complete"] is True
    assert figures["hours"] == {
        "scheduled": 56.0,
        "staffed": 12.0,
        "covered": 11.0,
        "uncovered": 45.0,
    }
    assert figures["contacts"]["by_channel"] == {
        "sms": {"total": 3, "in_hours": 1, "out_of_hours": 2},
        "call": {"total": 1, "in_hours": 1, "out_of_hours": 0},
        "voicemail": {"total": 1, "in_hours": 1, "out_of_hours": 0},
        "email": {"total": 1, "in_hours": 0, "out_of_hours": 1},
        "chat": {"total": 0, "in_hours": 0, "out_of_hours": 0},
        "webinar_booking": {"total": 1, "in_hours": 1, "out_of_hours": 0},
    }
    assert figures["contacts"]["total"] == 7 and figures["contacts"]["unique_citizens"] == 5
    assert figures["contacts"]["busiest_hours"][0] == {"day": "Sunday", "hour": 11, "contacts": 2}
    assert figures["cases"] == {
        "opened": 5,
        "closed": 1,
        "opened_and_still_open": 4,
        "first_response": {
            "call": UNANSWERED_ONCE,
            "email": UNANSWERED_ONCE,
            "sms": {
                "responded": 2,
                "unanswered": 0,
                "median_wall_minutes": 660.0,
                "p90_wall_minutes": 1290.0,
                "median_open_minutes": 30.0,
                "p90_open_minutes": 30.0,
            },
            "webinar": UNANSWERED_ONCE,
        },
    }
    assert figures["calls"] == {
        "total": 1,
        "answered": 1,
        "missed": 0,
        "talk_minutes": 5.0,
        "voicemails": 1,
        "callbacks_requested": 0,
        "callbacks_completed": 0,
    }
    assert figures["webinars"] == {
        "sessions": 1,
        "seats_offered": 10,
        "bookings": 1,
        "waitlisted": 0,
        "attended": 1,
    }
    assert figures["practitioners"] == [
        {"id": "anna", "staffed_hours": 9.0, "cases_handled": 1, "replies": 1},
        {"id": "jonas", "staffed_hours": 3.0, "cases_handled": 1, "replies": 1},
    ]
    wednesday, sunday = figures["by_day"][2], figures["by_day"][6]
    assert wednesday["scheduled_hours"] == 0.0 and sunday["covered_hours"] == 6.0
    assert sum(d["scheduled_hours"] for d in figures["by_day"]) == 56.0
    text = json.dumps(figures)
    for secret in ("+4520000001", "x@example.com", "y@example.com", "Hi!", "hello"):
        assert secret not in text


def test_other_weeks_history_does_not_change_the_figures(week):
    before = reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK)
    for n in range(30):  # history in the next week
        intake.receive(
            deps_of(week, Fixed(at(27, 10)), hours=HOURS),
            message("sms", Identity("phone", f"+45300000{n:02d}"), f"SM{n:032x}"),
        )
    assert reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK) == before


def test_the_schedule_stores_once_and_emails_once(week, local_services):
    sent = []

    class Outbox:
        def send_email(self, raw, to, ref=None):
            sent.append(to)
            return LocalMailOutbox().send_email(raw, to)

    def render(f):
        return report_views.as_text(f), report_views.as_html(f), report_views.as_csv(f)

    managers = replace(local_services.settings, manager_emails=("boss@x.org", "chief@x.org"))
    deps = replace(local_services, store=week, clock=Fixed(AFTER), mail=Outbox(), settings=managers)
    first = reports.send_weekly(deps, WEEK, render)
    again = reports.send_weekly(deps, WEEK, render)
    assert (first["emailed"], again["emailed"]) == (2, 0) and sent == ["boss@x.org", "chief@x.org"]
    assert week.get_report(WEEK) == reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK)


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_json_csv_and_page_agree_and_only_managers_read_them(api, week, local_services):
    local_services.clock = Fixed(AFTER)
    boss = bearer("boss", "manager")
    as_json = json.loads(api.get(f"/reports/weekly/{WEEK}", headers=boss).body)
    as_csv = api.get(f"/reports/weekly/{WEEK}", headers={**boss, "Accept": "text/csv"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = dict(csv.reader(io.StringIO(as_csv.body.decode())))
    assert rows.pop("metric") == "value"
    assert rows == dict(report_views.flatten(as_json))
    page = api.get(f"/reports/weekly/{WEEK}.html", headers=boss)
    assert page.headers["Content-Type"].startswith("text/html")
    parser = Page()
    parser.feed(page.body.decode())
    assert parser.tags.count("svg") == 3 and parser.tags.count("rect") > 20
    assert "script" not in parser.tags and "http://www.w3.org/2000/svg" in page.body.decode()
    assert "link" not in parser.tags and "img" not in parser.tags
    anna = bearer("anna", "practitioner")
    assert api.get(f"/reports/weekly/{WEEK}", headers=anna).status_code == 403
    assert api.get("/reports/weekly/2026-47", headers=boss).status_code == 400
    assert api.get("/reports/weekly/2099-W01", headers=boss).status_code == 404
    empty = json.loads(api.get("/reports/weekly/2026-W30", headers=boss).body)
    assert empty["contacts"]["total"] == 0 and empty["hours"]["scheduled"] == 68.0


def test_flagged_cases_and_how_fast_they_were_acknowledged_and_answered(week):
    from chalicelib.domain import alerts

    def receive(number: str, sid: str, body: str, when: datetime) -> str:
        msg = message("sms", Identity("phone", number), sid, body)
        return intake.receive(deps_of(week, Fixed(when), hours=HOURS), msg).case_id

    boss, anna = Actor("boss", "manager"), Actor("anna", "practitioner")
    first = receive("+4520000011", "SM" + "a" * 32, "I want to kill myself", at(20, 10))
    second = receive("+4520000012", "SM" + "b" * 32, "jeg har købt et reb", at(20, 10, 20))
    receive("+4520000013", "SM" + "c" * 32, "I feel hopeless and worthless", at(22, 12))
    receive("+4520000014", "SM" + "d" * 32, "this exam is killing me", at(22, 13))
    alerts.acknowledge(deps_of(week, at(20, 10, 3), hours=HOURS), boss, first)
    alerts.acknowledge(deps_of(week, at(20, 10, 30), hours=HOURS), boss, second)
    casework.claim(deps_of(week, at(20, 10, 5)), first, anna)
    casework.reply(make_services(week, Fixed(at(20, 10, 10))), first, anna, "We are here.")
    figures = reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK)
    assert figures["safeguarding"] == {
        "flagged": {"high": 2, "elevated": 1},
        "acknowledged": 2,
        "unacknowledged": 0,
        "minutes_to_acknowledge": {"median": 6.5, "p90": 10.0},
        "answered": 1,
        "unanswered": 1,
        "minutes_to_first_answer": {"median": 10.0, "p90": 10.0},
    }
    assert "2 cases flagged high risk" in report_views.as_text(figures)
    assert "kill" not in json.dumps(figures) and "reb" not in json.dumps(figures["safeguarding"])


def test_chats_count_in_and_out_of_hours_with_their_first_response(local_store):
    """Two chats in W43: Monday 10:00 (answered 10:06 and again 10:20) and Monday 22:00 (three
    messages out of hours, answered Tuesday 09:15, 15 opening-hours minutes later)."""
    store = local_store
    store.save_hours(HOURS)
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    anna = Actor("anna", "practitioner")

    def say(address: str, when: datetime, *bodies: str) -> str:
        deps = deps_of(store, Fixed(when), hours=HOURS)
        token = chat.start(deps, address, "da", None).token
        for body in bodies:
            chat.post(deps, token, body)
        return chat.find(deps, token).id

    def case_of(conversation: str) -> str:
        known = store.find_identity(Identity("chat", conversation))
        assert known is not None and known.open_case_id is not None
        return known.open_case_id

    def answer(case_id: str, when: datetime) -> None:
        latest = store.get_case(case_id, with_timeline=True).timeline[-1].id
        casework.reply(deps_of(store, when, hours=HOURS), case_id, anna, "Hej", seen=latest)

    day = case_of(say("198.51.100.1", at(19, 10), "hej"))
    night = case_of(say("198.51.100.2", at(19, 22), "er I der?", "hallo", "???"))
    casework.claim(deps_of(store, at(19, 10, 1)), day, anna)
    answer(day, at(19, 10, 6))
    answer(day, at(19, 10, 20))
    casework.claim(deps_of(store, at(20, 9, 10)), night, anna)
    answer(night, at(20, 9, 15))

    figures = reports.compute(deps_of(store, AFTER, hours=HOURS), WEEK)
    assert figures["contacts"]["by_channel"]["chat"] == {
        "total": 4,
        "in_hours": 1,
        "out_of_hours": 3,
    }
    assert figures["contacts"]["unique_citizens"] == 2
    assert figures["cases"]["first_response"] == {
        "chat": {
            "responded": 2,
            "unanswered": 0,
            "median_wall_minutes": 340.5,
            "p90_wall_minutes": 675.0,
            "median_open_minutes": 10.5,
            "p90_open_minutes": 15.0,
        }
    }
    assert figures["practitioners"][0]["replies"] == 3


def test_a_case_counts_as_flagged_in_the_week_of_its_flag_not_of_its_opening(week):
    def receive(number: str, sid: str, body: str, when: datetime) -> str:
        msg = message("sms", Identity("phone", number), sid, body)
        return intake.receive(deps_of(week, Fixed(when), hours=HOURS), msg).case_id

    # opened the week before, flagged on Monday of this week: counted here
    older = receive("+4520000021", "SM" + "e" * 32, "Which course fits me?", at(16, 10))
    assert receive("+4520000021", "SM" + "f" * 32, "I want to kill myself", at(20, 9)) == older
    # opened this week, flagged only on the next week's Monday: not counted here
    later = receive("+4520000022", "SM" + "9" * 32, "Which course fits me?", at(24, 10))
    assert receive("+4520000022", "SM" + "8" * 32, "I want to kill myself", at(26, 10)) == later
    figures = reports.compute(deps_of(week, AFTER, hours=HOURS), WEEK)
    assert figures["safeguarding"]["flagged"] == {"high": 1, "elevated": 0}
    assert figures["safeguarding"]["unacknowledged"] == 1
    following = reports.compute(deps_of(week, AFTER, hours=HOURS), "2026-W44")
    assert following["safeguarding"]["flagged"] == {"high": 1, "elevated": 0}
