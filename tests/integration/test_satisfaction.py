"""Asking citizens how it went (issue 22), over SMS and the email's one-question page, against
DynamoDB Local: asked once, only when the case was answered, never for high risk or an
opted-out number; a rating is kept with the case and its practitioner, anything else is an
ordinary message; forged, reused and malformed answers change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest

from chalicelib.adapters.memory import RecordingSender
from chalicelib.domain import casework, intake
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import MAIL_DOMAIN, deps_of, relay
from tests.integration.test_voice import CITIZEN as CITIZEN_CALLER
from tests.integration.test_voice import anna  # noqa: F401  (a fixture)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, open
ANNA = Actor("anna", "practitioner")
CITIZEN = "+4520001234"


@pytest.fixture
def desk(local_store):
    local_store.create_practitioner(
        Practitioner("anna", "Anna", ("general", "education", "careers"), ("da", "en"), 5)
    )
    return local_store


class World:
    """One store, one recording sender, a clock the test moves."""

    def __init__(self, store):
        self.store, self.sender, self.now = store, RecordingSender(), T0

    def deps(self):
        return deps_of(self.store, lambda: self.now, sms=self.sender, mail=self.sender)

    def sms(self, body: str, number: str = CITIZEN, sid: str | None = None):
        self.now += timedelta(minutes=1)
        sid = sid or f"SM{abs(hash((body, number, self.now))):032x}"[:34]
        message = InboundMessage(
            "sms", "twilio", sid, Identity("phone", number), "+4570000000", body
        )
        return intake.receive(self.deps(), message)

    def answer(self, case_id: str) -> None:
        self.now += timedelta(minutes=1)
        if self.store.get_case(case_id).assignee is None:
            casework.claim(self.deps(), case_id, ANNA)
        casework.reply(self.deps(), case_id, ANNA, "Here is what you can do.")

    def close(self, case_id: str, outcome: str = "answered") -> None:
        self.now += timedelta(minutes=1)
        last = self.store.get_case(case_id, with_timeline=True).timeline[-1].id
        casework.close(self.deps(), case_id, ANNA, outcome, seen=last)

    def answer_and_close(self, case_id: str, outcome: str = "answered") -> None:
        self.answer(case_id)
        self.close(case_id, outcome)

    def asks(self) -> list[dict]:
        return [s for s in self.sender.sent if "1-5" in s.get("body", "")]

    def ratings(self, case_id: str):
        case = self.store.get_case(case_id, with_timeline=True)
        return [(e.rating, e.author, e.channel) for e in case.timeline if e.status == "rating"]


@pytest.fixture
def world(desk):
    return World(desk)


def test_an_answered_sms_case_is_asked_once_and_the_reply_is_its_rating(world):
    case_id = world.sms("Which education fits me?").case_id
    world.answer_and_close(case_id)
    (ask,) = world.asks()
    assert ask["to"] == CITIZEN and "Reply 1-5" in ask["body"] and len(ask["body"]) <= 160
    timeline = world.store.get_case(case_id, with_timeline=True).timeline
    assert [e.status for e in timeline if e.channel == "note"].count("survey-asked") == 1

    rated = world.sms(" 4 ", sid="SM" + "7" * 32)
    assert rated.case_id == case_id and rated.reply is None and not rated.new_case
    assert world.ratings(case_id) == [(4, "anna", "sms")]
    again = world.sms(" 4 ", sid="SM" + "7" * 32)  # Twilio retries the same SMS
    assert again.case_id == case_id and world.ratings(case_id) == [(4, "anna", "sms")]
    later = world.sms("5!")  # answered already: an ordinary message now, on a case of its own
    assert later.case_id != case_id and world.ratings(case_id) == [(4, "anna", "sms")]


def test_a_rating_after_the_citizen_was_erased_is_a_new_contacts_message(world):
    from chalicelib.domain import privacy

    case_id = world.sms("Which education fits me?").case_id
    world.answer_and_close(case_id)
    assert world.asks()
    contact_id = world.store.get_case(case_id).contact_id
    privacy.erase(world.deps(), contact_id, "boss")

    later = world.sms("4")

    assert later.case_id != case_id and later.new_case
    assert world.ratings(case_id) == []
    assert world.store.get_case(later.case_id).contact_id != contact_id
    timeline = world.store.get_case(case_id, with_timeline=True).timeline
    assert [e for e in timeline if e.direction == "in" and e.at > T0 + timedelta(minutes=3)] == []


def test_a_case_reopened_and_closed_again_is_not_asked_twice(world):
    case_id = world.sms("hello").case_id
    world.answer_and_close(case_id)
    casework.reopen(world.deps(), case_id, Actor("boss", "manager"))
    world.answer_and_close(case_id)
    assert len(world.asks()) == 1


def test_a_reply_that_is_not_a_rating_is_an_ordinary_message(world):
    case_id = world.sms("Hvad skal jeg vælge?").case_id
    world.answer_and_close(case_id)
    assert "Svar 1-5" in world.asks()[0]["body"]  # in the case's language
    for text in ("6", "0", "4.5", "1 2", "five", "10"):
        outcome = world.sms(text)
        assert outcome.case_id != case_id  # a new case (the old one is closed), as always
    assert world.ratings(case_id) == []


@pytest.mark.parametrize("outcome", ["duplicate", "no_reply_needed", "unreachable"])
def test_a_case_that_did_not_answer_the_citizen_is_not_asked(world, outcome):
    world.answer_and_close(world.sms("hi").case_id, outcome)
    assert world.asks() == []


def test_never_a_high_risk_case_nor_an_opted_out_number(world):
    world.answer_and_close(world.sms("I want to kill myself").case_id)
    other = "+4520005678"
    case_id = world.sms("hello", number=other).case_id
    world.now += timedelta(minutes=1)
    stop = InboundMessage(
        "sms", "twilio", "SM" + "9" * 32, Identity("phone", other), "", "STOP", keyword="stop"
    )
    world.answer(case_id)
    intake.receive(world.deps(), stop)
    world.close(case_id)
    assert world.asks() == []


def test_a_digit_sent_while_a_new_case_is_open_is_part_of_that_conversation(world):
    case_id = world.sms("hello").case_id
    world.answer_and_close(case_id)
    newer = world.sms("One more question: which of the 3 options?").case_id
    assert newer != case_id
    assert world.sms("3").case_id == newer and world.ratings(case_id) == []


def test_a_rating_from_another_number_rates_nothing(world):
    case_id = world.sms("hello").case_id
    world.answer_and_close(case_id)
    stranger = world.sms("1", number="+4520009999")
    assert stranger.case_id != case_id and world.ratings(case_id) == []


def test_a_rating_after_the_answer_window_is_an_ordinary_message(world):
    case_id = world.sms("hello").case_id
    world.answer_and_close(case_id)
    world.now += timedelta(days=8)
    assert world.sms("5").case_id != case_id and world.ratings(case_id) == []


EMAIL = (
    f"From: Sofie <sofie@example.org>\r\nTo: studyhelp@{MAIL_DOMAIN}\r\nSubject: Gymnasium\r\n"
    "Message-ID: <q1@example.org>\r\n\r\nWhich gymnasium suits me?\r\n"
).encode()


@pytest.fixture
def emailed(api, desk, local_services):
    """An email case answered and closed; returns (api, case id, the survey link's path)."""
    sender = RecordingSender()
    local_services.mail = sender
    local_services.clock = lambda: T0
    assert relay(api, EMAIL).status_code == 201
    case_id = desk.find_identity(Identity("email", "sofie@example.org")).open_case_id
    deps = deps_of(desk, T0 + timedelta(minutes=5), mail=sender)
    casework.claim(deps, case_id, ANNA)
    casework.reply(deps, case_id, ANNA, "Here is what you can do.")
    last = desk.get_case(case_id, with_timeline=True).timeline[-1].id
    casework.close(deps, case_id, ANNA, "answered", seen=last)
    raw = sender.sent[-1]["raw"]
    body = BytesParser(policy=policy.default).parsebytes(raw).get_body(("plain",)).get_content()
    (link,) = re.findall(r"https?://\S+/survey/([A-Za-z0-9_-]+)", body)
    return api, case_id, f"/survey/{link}"


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def ratings_of(store, case_id):
    case = store.get_case(case_id, with_timeline=True)
    return [(e.rating, e.body, e.author) for e in case.timeline if e.status == "rating"]


def test_the_email_links_to_a_page_with_one_question_and_no_script(emailed, desk):
    api, case_id, path = emailed
    page = api.get(path)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.body.decode()
    assert "<script" not in html and html.count('type="radio"') == 5
    token = path.rsplit("/", 1)[1]
    stored = str(desk.client.scan(TableName=desk.table)["Items"])
    assert token not in stored  # kept hashed only

    done = api.post(path, body="rating=5&comment=Thank+you%21", headers=FORM)
    assert done.status_code == 200 and "Thank you" in done.body.decode()
    assert ratings_of(desk, case_id) == [(5, "Rated 5 of 5: Thank you!", "anna")]
    again = api.post(path, body="rating=1", headers=FORM)  # answering twice changes nothing
    assert again.status_code == 200 and ratings_of(desk, case_id)[0][0] == 5
    assert len(ratings_of(desk, case_id)) == 1


def test_forged_malformed_and_unknown_tokens_reveal_nothing(emailed, desk):
    api, case_id, _ = emailed
    unknown = api.get("/survey/" + "A" * 32)
    assert unknown.status_code == 404
    for forged in ("/survey/x", "/survey/" + "A" * 31 + "%00", "/survey/" + "a" * 200):
        answer = api.get(forged)
        assert answer.status_code == 404 and answer.body == unknown.body
        assert api.post(forged, body="rating=5", headers=FORM).status_code == 404
    assert ratings_of(desk, case_id) == []


@pytest.mark.parametrize(
    "form", ["rating=6", "rating=0", "rating=-1", "rating=4.5", "rating=", "", "rating=%FF"]
)
def test_out_of_range_ratings_are_refused(emailed, desk, form):
    api, case_id, path = emailed
    answer = api.post(path, body=form, headers=FORM)
    assert answer.status_code == 400 and answer.json_body["error"]["code"] in (
        "invalid_rating",
        "invalid_form",
    )
    assert ratings_of(desk, case_id) == []


def test_huge_comments_and_control_characters(emailed, desk):
    api, case_id, path = emailed
    huge = api.post(path, body="rating=3&comment=" + "x" * 1001, headers=FORM)
    assert huge.status_code == 400 and huge.json_body["error"]["code"] == "comment_too_long"
    flood = api.post(path, body="rating=3&comment=" + "x" * 20000, headers=FORM)
    assert flood.status_code == 400
    sneaky = "ok%1B%5B31m%E2%80%AEevil%00%0Afine"  # ANSI escape, RTL override, NUL, newline
    assert api.post(path, body=f"rating=3&comment={sneaky}", headers=FORM).status_code == 200
    assert ratings_of(desk, case_id) == [(3, "Rated 3 of 5: ok[31mevil\nfine", "anna")]


def test_a_caller_who_talked_to_a_practitioner_is_asked_at_the_end(api, local_services, anna):  # noqa: F811
    from tests.integration.test_voice import call, menu, said, step_of

    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")
    ended = menu(api, sid, "dialed", DialCallStatus="completed")
    gather = ended.find("Gather")
    assert "how did we do" in said(ended).lower() and step_of(gather) == "en.rate"
    assert gather.get("input") == "dtmf" and ended.find("Hangup") is not None
    bye = menu(api, sid, "rate", Digits="5")
    assert bye.find("Hangup") is not None and bye.find("Gather") is None
    menu(api, sid, "rate", Digits="1")  # Twilio repeats, or the caller tries again: kept once
    store = local_services.store
    record = store.find_identity(Identity("phone", CITIZEN_CALLER))
    case = store.get_case(record.open_case_id, with_timeline=True)
    assert [(e.rating, e.channel, e.author) for e in case.timeline if e.status == "rating"] == [
        (5, "voice", "anna")
    ]
    again, _ = call(api)  # the same case, another call: not asked twice
    menu(api, again, "topic-1", Digits="1")
    assert menu(api, again, "dialed", DialCallStatus="completed").find("Gather") is None


def test_a_call_nobody_answered_or_a_high_risk_caller_is_not_asked(api, local_services, anna):  # noqa: F811
    from chalicelib.domain.risk import Risk
    from tests.integration.test_voice import call, menu

    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")
    assert (
        menu(api, sid, "dialed", DialCallStatus="no-answer")
        .find("Gather")
        .get("action")
        .endswith("offer-no_answer-1")
    )
    store = local_services.store
    case_id = store.find_identity(Identity("phone", CITIZEN_CALLER)).open_case_id
    store.set_risk(
        case_id, Risk("high", ("pills",), "rules", "2026-11-24T09:00:00Z"), only_if_higher=True
    )
    other, _ = call(api)
    menu(api, other, "topic-1", Digits="1")
    ended = menu(api, other, "dialed", DialCallStatus="completed")
    assert ended.find("Gather") is None and ended.find("Hangup") is not None
    assert menu(api, other, "rate", Digits="5").find("Hangup") is not None  # nothing asked
    case = store.get_case(case_id, with_timeline=True)
    assert [e for e in case.timeline if e.status in ("rating", "survey-asked")] == []


# "\u0661" is another script's digit one
@pytest.mark.parametrize("pressed", ["0", "6", "9", "#", "*", "55", "", "\u0661"])
def test_a_keypress_that_is_no_rating_rates_nothing_and_ends_the_call(
    api,
    local_services,
    anna,  # noqa: F811
    pressed,
):
    from tests.integration.test_voice import call, menu

    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")
    menu(api, sid, "dialed", DialCallStatus="completed")
    bye = menu(api, sid, "rate", Digits=pressed)
    assert bye.find("Hangup") is not None
    store = local_services.store
    case_id = store.find_identity(Identity("phone", CITIZEN_CALLER)).open_case_id
    case = store.get_case(case_id, with_timeline=True)
    assert [e for e in case.timeline if e.status == "rating"] == []


def test_a_rating_for_a_call_we_never_had_rates_nothing(api, local_services, anna):  # noqa: F811
    from tests.integration.test_voice import menu
    from tests.twilio_fakes import new_sid

    forged = menu(api, new_sid("CA"), "rate", Digits="5")
    assert forged.find("Hangup") is not None
    items = local_services.store.client.scan(TableName=local_services.store.table)["Items"]
    assert not [i for i in items if i.get("status", {}).get("S") == "rating"]
