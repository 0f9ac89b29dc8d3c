"""The phone line end to end, as Twilio drives it: signed webhooks, TwiML parsed as XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.domain.model import Identity, Practitioner
from tests.conftest import bearer, deps_of
from tests.twilio_fakes import call_form, new_sid, recording_form, signed, sms_form

VOICE = "/webhooks/twilio/voice"
CITIZEN = "+4520000001"


def post(api, path: str, form: dict) -> ET.Element:
    answer = api.post(path, **signed(path, form))
    assert answer.status_code == 200, answer.body
    root = ET.fromstring(answer.body)
    assert root.tag == "Response"
    return root


def said(root: ET.Element) -> str:
    return " ".join(e.text or "" for e in root.iter("Say"))


def step_of(element: ET.Element) -> str:
    url = urlparse(element.get("action"))
    assert url.path == f"{VOICE}/menu"
    return parse_qs(url.query)["step"][0]


def menu(api, sid: str, step: str, sender: str = CITIZEN, **fields) -> ET.Element:
    """One answer; a step without a language is the English caller's (as `call` chooses)."""
    step = step if "." in step or step.startswith("lang") else f"en.{step}"
    path = f"{VOICE}/menu?step={step}"
    return post(api, path, call_form(sender, sid, "in-progress", **fields))


def call(api, sender: str = CITIZEN, language: str | None = "2") -> tuple[str, ET.Element]:
    """A call arrives and the caller answers the language question (2: English); the TwiML
    after it (or the question itself, `language=None`)."""
    sid = new_sid("CA")
    root = post(api, VOICE, call_form(sender, sid))
    if language is None:
        return sid, root
    return sid, menu(api, sid, "lang-1", sender=sender, Digits=language)


def case_of(store, number: str = CITIZEN):
    record = store.find_identity(Identity("phone", number))
    return store.get_case(record.open_case_id, with_timeline=True)


@pytest.fixture
def anna(local_services, clock):
    """The only practitioner on duty, serving every topic, with a phone."""
    from chalicelib.domain import staffing
    from chalicelib.domain.model import Actor

    store = local_services.store
    store.create_practitioner(
        Practitioner(
            "anna", "Anna", ("general", "education", "careers"), ("da",), 5, phone="+4540000001"
        )
    )
    staffing.set_duty(deps_of(store, clock()), Actor("anna", "practitioner"), True)
    return "anna"


def test_in_hours_the_caller_hears_the_topic_menu_and_the_call_is_on_the_case(api, local_services):
    sid, root = call(api)
    [gather] = root.findall("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    assert step_of(gather) == "en.topic-1"
    assert "Welcome to the guidance helpline" in said(root)
    assert "press 2 or say careers" in said(gather)
    case = case_of(local_services.store)
    [interaction] = case.timeline
    assert (interaction.channel, interaction.direction, interaction.provider_id) == (
        "voice",
        "in",
        sid,
    )


def test_a_caller_who_texted_earlier_lands_on_the_same_case(api, local_services):
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form(CITIZEN, "hi")))
    texted = case_of(local_services.store)
    call(api)
    case = case_of(local_services.store)
    assert case.id == texted.id and set(case.channels) == {"sms", "voice"}
    assert [i.channel for i in case.timeline if i.direction == "in"] == ["sms", "voice"]


@pytest.mark.parametrize(("minute", "open_"), [(59, True), (1, False)])
def test_a_call_just_before_and_just_after_closing(api, clock, minute, open_):
    clock.set_local(2026, 11, 23, 20 if minute == 59 else 21, minute)  # Monday closes at 21:00
    _, root = call(api)
    if open_:
        assert "closed" not in said(root) and step_of(root.find("Gather")) == "en.topic-1"
    else:
        assert "We are closed right now. We open again tomorrow at 09:00." in said(root)
        gather = root.find("Gather")
        assert step_of(gather) == "en.offer-closed-1"
        assert "voicemail, press 1" in said(gather) and "call you back, press 2" in said(gather)


def test_a_withheld_number_is_never_offered_a_callback(api, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    _, root = call(api, sender="+266696687")
    assert "press 1" in said(root) and "press 2" not in said(root)


def test_a_choice_sets_the_queue_and_dials_an_on_duty_practitioner(api, local_services, anna):
    sid, _ = call(api)
    root = menu(api, sid, "topic-1", Digits="2")
    [dial] = root.findall("Dial")
    assert dial.find("Number").text == "+4540000001" and dial.get("timeout") == "20"
    assert step_of(dial) == "en.dialed"
    case = case_of(local_services.store)
    assert (case.queue, case.assignee) == ("careers", "anna")


def test_speech_works_like_digits(api, local_services, anna):
    sid, _ = call(api)
    menu(api, sid, "topic-1", SpeechResult="I want to talk about jobs")
    assert case_of(local_services.store).queue == "careers"


def test_a_choice_not_on_the_menu_repeats_it_at_most_twice(api, local_services):
    sid, _ = call(api)
    first = menu(api, sid, "topic-1", Digits="9")
    assert "Sorry, I did not get that" in said(first)
    assert step_of(first.find("Gather")) == "en.topic-2"
    second = menu(api, sid, "topic-2")  # nothing pressed
    assert step_of(second.find("Gather")) == "en.topic-3"
    third = menu(api, sid, "topic-3", Digits="7")
    assert "busy" in said(third) and step_of(third.find("Gather")) == "en.offer-busy-1"
    assert case_of(local_services.store).queue == "general"


def test_voicemail_when_the_only_practitioner_does_not_answer(api, local_services, anna):
    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")
    missed = menu(api, sid, "dialed", DialCallStatus="no-answer")
    assert "could not answer" in said(missed)
    assert step_of(missed.find("Gather")) == "en.offer-no_answer-1"
    root = menu(api, sid, "offer-no_answer-1", Digits="1")
    [record] = root.findall("Record")
    assert record.get("maxLength") == "120" and step_of(record) == "en.recorded"
    assert urlparse(record.get("recordingStatusCallback")).path == f"{VOICE}/recording"
    recording = recording_form(CITIZEN, sid)
    path = f"{VOICE}/recording"
    for _ in range(2):  # Twilio retries: still one voicemail
        assert api.post(path, **signed(path, recording)).status_code == 204
    voicemails = [i for i in case_of(local_services.store).timeline if i.status == "voicemail"]
    assert len(voicemails) == 1
    assert voicemails[0].duration_seconds == 34 and voicemails[0].media[0].url.endswith("RE1")
    bye = menu(api, sid, "recorded")
    assert bye.find("Hangup") is not None


def test_a_callback_request_is_kept_on_the_case_and_made_by_a_practitioner(
    api, local_services, clock
):
    clock.set_local(2026, 11, 23, 22, 0)
    sid, _ = call(api)
    ask = menu(api, sid, "offer-closed-1", Digits="2")
    assert "ending in 0 1" in said(ask) and ask.find("Gather").get("finishOnKey") == "#"
    bye = menu(api, sid, "callback-1", Digits="1")
    assert "call you back" in said(bye) and bye.find("Hangup") is not None
    case = case_of(local_services.store)
    assert case.callback_number == CITIZEN
    store = local_services.store
    store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    answer = api.post(f"/cases/{case.id}/callback", headers=bearer("anna", "practitioner"))
    assert answer.status_code == 201, answer.body
    made = json.loads(answer.body)
    assert (made["channel"], made["direction"], made["status"]) == ("voice", "out", "local")
    assert case_of(local_services.store).callback_number is None


def test_another_number_can_be_given_for_the_callback(api, local_services, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    sid, _ = call(api)
    menu(api, sid, "offer-closed-1", Digits="2")
    retry = menu(api, sid, "callback-1", Digits="12")
    assert step_of(retry.find("Gather")) == "en.callback-2"
    menu(api, sid, "callback-2", Digits="4531313131")
    assert case_of(local_services.store).callback_number == "+4531313131"


def test_call_status_never_moves_back_nor_counts_minutes_twice(api, local_services):
    sid, _ = call(api)
    path = f"{VOICE}/status"
    for status, duration in [
        ("completed", "65"),
        ("in-progress", None),
        ("completed", "65"),
        ("ringing", None),
        ("completed", "120"),
    ]:
        form = call_form(CITIZEN, sid, status, **({"CallDuration": duration} if duration else {}))
        assert api.post(path, **signed(path, form)).status_code == 204
    [interaction] = case_of(local_services.store).timeline
    assert (interaction.status, interaction.duration_seconds) == ("completed", 65)


def test_a_repeated_call_webhook_is_stored_once(api, local_services):
    sid = new_sid("CA")
    first = api.post(VOICE, **signed(VOICE, call_form(CITIZEN, sid)))
    again = api.post(VOICE, **signed(VOICE, call_form(CITIZEN, sid)))
    assert first.status_code == again.status_code == 200
    assert len(case_of(local_services.store).timeline) == 1


def test_a_badly_signed_call_is_refused_and_stores_nothing(api, local_services):
    from urllib.parse import urlencode

    answer = api.post(
        VOICE,
        body=urlencode(call_form(CITIZEN)),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "bm9wZQ==",
        },
    )
    assert answer.status_code == 403
    store = local_services.store
    assert store.client.scan(TableName=store.table)["Items"] == []


def speech(root: ET.Element) -> set[tuple[str | None, str | None]]:
    """The (language, voice) of everything said."""
    return {(e.get("language"), e.get("voice")) for e in root.iter("Say")}


def test_the_caller_is_first_asked_their_language_in_danish_and_english(api):
    _, root = call(api, language=None)
    [gather] = root.findall("Gather")
    assert step_of(gather) == "lang-1" and gather.get("language") == "da-DK"
    assert "english" in gather.get("hints") and "dansk" in gather.get("hints")
    says = [(e.get("language"), e.get("voice"), e.text) for e in gather.iter("Say")]
    assert says == [
        ("da-DK", "Polly.Naja", "Tryk 1 for dansk."),
        ("en-GB", "Polly.Amy", "Press 2 for English."),
    ]


@pytest.mark.parametrize("answer", [{"Digits": "2"}, {"SpeechResult": "English please"}])
def test_a_caller_choosing_english_hears_english_to_the_end_and_gets_an_english_speaker(
    api, local_services, clock, answer
):
    from chalicelib.domain import staffing
    from chalicelib.domain.model import Actor

    store = local_services.store
    # Mads has room to spare but speaks only Danish; Emma speaks English.
    store.create_practitioner(
        Practitioner("mads", "Mads", ("general",), ("da",), 9, phone="+4540000002")
    )
    store.create_practitioner(
        Practitioner("emma", "Emma", ("general",), ("da", "en"), 1, phone="+4540000003")
    )
    for who in ("mads", "emma"):
        staffing.set_duty(deps_of(store, clock()), Actor(who, "practitioner"), True)
    sid, _ = call(api, language=None)
    welcome = menu(api, sid, "lang-1", **answer)
    connect = menu(api, sid, step_of(welcome.find("Gather")), Digits="3")
    assert connect.find("Dial").find("Number").text == "+4540000003"
    missed = menu(api, sid, step_of(connect.find("Dial")), DialCallStatus="no-answer")
    voicemail = menu(api, sid, step_of(missed.find("Gather")), Digits="1")
    bye = menu(api, sid, step_of(voicemail.find("Record")))
    heard = [welcome, connect, missed, voicemail, bye]
    assert set().union(*(speech(root) for root in heard)) == {("en-GB", "Polly.Amy")}
    assert "Welcome to the guidance helpline" in said(welcome)
    assert "Thank you, we have your message. Goodbye." in said(bye)
    case = case_of(store)
    assert (case.language, case.assignee) == ("en", "emma")


def test_a_danish_caller_hears_danish_with_a_danish_voice_and_the_opening_in_danish(api, clock):
    clock.set_local(2026, 11, 29, 20, 0)  # Sunday evening: we open again on Monday at 9
    sid, root = call(api, language="1")
    assert speech(root) == {("da-DK", "Polly.Naja")}
    assert "Vi har lukket lige nu. Vi åbner i morgen kl. 9.00." in said(root)
    assert step_of(root.find("Gather")) == "da.offer-closed-1"
    ask = menu(api, sid, "da.offer-closed-1", Digits="2")
    assert "nummeret, der slutter på 0 1" in said(ask)


def test_a_language_step_that_is_not_ours_falls_back_to_the_default(api):
    sid, _ = call(api, language=None)
    root = menu(api, sid, "xx.topic-1", Digits="9")
    assert speech(root) == {("da-DK", "Polly.Naja")}
    assert step_of(root.find("Gather")) == "da.topic-2"


def test_the_first_words_tell_a_caller_in_danger_to_hang_up_and_call_112(api, clock):
    for moment in ((2026, 11, 24, 10, 0), (2026, 11, 24, 23, 0)):  # in and out of hours
        clock.set_local(*moment)
        _, root = call(api, language=None)
        says = [(e.get("language"), e.text) for e in root.iter("Say")]
        assert says[:2] == [
            ("da-DK", "Er du i fare lige nu, så læg på og ring 112."),
            ("en-GB", "If you are in danger right now, hang up and call 112."),
        ]


def test_a_caller_at_risk_hears_the_crisis_lines_then_reaches_safeguarding_first(
    api, local_services, anna, clock
):
    from chalicelib.domain import staffing
    from chalicelib.domain.model import Actor

    store = local_services.store
    store.create_practitioner(
        Practitioner(
            "sara", "Sara", ("general",), ("da",), 5, phone="+4540000002", skills=("safeguarding",)
        )
    )
    staffing.set_duty(deps_of(store, clock()), Actor("sara", "practitioner"), True)
    sid, _ = call(api, language="1")
    root = menu(api, sid, "da.topic-1", SpeechResult="jeg vil slå mig selv ihjel")
    assert "ring 112" in said(root) and "Livslinien 70 201 201" in said(root)
    [dial] = root.findall("Dial")
    assert [n.text for n in dial.iter("Number")] == ["+4540000002"]
    case = case_of(store)
    assert case.risk.level == "high" and case.assignee == "sara"


def test_a_calls_wait_runs_from_the_dial_to_the_answer_and_twilio_retries_change_nothing(
    api, local_services, anna, clock
):
    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")  # the <Dial>: the caller waits from here
    dialled_at = clock.at
    clock.at += timedelta(seconds=95)  # Anna picked up after 15 s and they talked for 80
    menu(api, sid, "dialed", DialCallStatus="completed", DialCallDuration="80")
    clock.at += timedelta(seconds=30)
    menu(api, sid, "dialed", DialCallStatus="completed", DialCallDuration="80")  # a retry
    [entry] = [i for i in case_of(local_services.store).timeline if i.channel == "voice"]
    assert entry.answered is True
    assert abs((entry.waiting_at - dialled_at).total_seconds()) < 0.01
    assert round((entry.waited_until - entry.waiting_at).total_seconds()) == 15


def test_a_dial_duration_that_is_not_a_number_is_a_400(api, anna):
    sid, _ = call(api)
    menu(api, sid, "topic-1", Digits="1")
    path = f"{VOICE}/menu?step=en.dialed"
    form = call_form(CITIZEN, sid, "in-progress", DialCallStatus="completed", DialCallDuration="٣٠")
    assert api.post(path, **signed(path, form)).status_code == 400
