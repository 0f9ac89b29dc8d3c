"""The citizen's language stays with them (issue 18, item 1): a choice made on the phone, on a
booking page or by a practitioner is the contact's, and their next case starts in it; one
ambiguous word ("ok", "tak") never turns them into another language's speaker."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from chalicelib.domain import staffing
from chalicelib.domain.model import Actor, Identity, Practitioner
from tests.conftest import bearer, deps_of, relay
from tests.twilio_fakes import call_form, new_sid, signed, sms_form

BOSS = bearer("boss", "manager")
JSON = {"Content-Type": "application/json"}
SMS = "/webhooks/twilio/sms"
VOICE = "/webhooks/twilio/voice"
CITIZEN = "+4520000001"
ENGLISH_ACK = "Hi! Thank you for contacting"
DANISH_ACK = "Hej! Tak for din besked til"


def text_in(api, body: str, number: str = CITIZEN) -> str:
    answer = api.post(SMS, **signed(SMS, sms_form(number, body, sid=new_sid("SM"))))
    assert answer.status_code == 200, answer.body
    [message] = ET.fromstring(answer.body.decode()).findall("Message")
    return message.text or ""


def call_and_choose(api, digits: str, number: str = CITIZEN) -> None:
    """A call whose caller answers the language question (1: dansk, 2: English), then hangs up."""
    sid = new_sid("CA")
    assert api.post(VOICE, **signed(VOICE, call_form(number, sid))).status_code == 200
    path = f"{VOICE}/menu?step=lang-1"
    chosen = api.post(path, **signed(path, call_form(number, sid, "in-progress", Digits=digits)))
    assert chosen.status_code == 200, chosen.body


def open_case(store, number: str = CITIZEN) -> str:
    return store.find_identity(Identity("phone", number)).open_case_id


def case_json(api, case_id: str) -> dict:
    answer = api.get(f"/cases/{case_id}", headers=BOSS)
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def close(api, case_id: str) -> None:
    seen = case_json(api, case_id)["timeline"][-1]["id"]
    body = json.dumps({"outcome": "answered", "seen": seen})
    answer = api.post(f"/cases/{case_id}/close", body=body, headers={**JSON, **BOSS})
    assert answer.status_code == 200, answer.body


def correct(api, case_id: str, language: object):
    body = json.dumps({"language": language})
    return api.put(f"/cases/{case_id}/language", body=body, headers={**JSON, **BOSS})


def error_of(answer) -> str:
    return json.loads(answer.body)["error"]["code"]


def test_a_caller_who_chose_english_gets_an_english_answer_to_ok_days_later(
    api, local_services, clock
):
    store = local_services.store
    call_and_choose(api, "2")
    first = open_case(store)
    assert case_json(api, first)["contact"]["language"] == "en"
    close(api, first)
    clock.set_local(2026, 11, 27, 10, 0)  # Friday, open
    reply = text_in(api, "ok")
    assert reply.startswith(ENGLISH_ACK)
    second = case_json(api, open_case(store))
    assert second["id"] != first
    assert (second["language"], second["contact"]["language"]) == ("en", "en")


def test_sure_words_of_another_language_change_the_contacts_language(api, local_services):
    store = local_services.store
    call_and_choose(api, "1")
    close(api, open_case(store))
    assert text_in(api, "Hi, which education fits me?").startswith(ENGLISH_ACK)
    close(api, open_case(store))
    assert text_in(api, "ok").startswith(ENGLISH_ACK)  # the contact speaks English now


def test_a_practitioners_correction_sticks_for_the_next_case(api, local_services):
    store = local_services.store
    assert text_in(api, "tak").startswith(DANISH_ACK)  # a first case: the contact's language
    first = open_case(store)
    assert case_json(api, first)["contact"]["language"] == "da"
    corrected = correct(api, first, "en")
    assert corrected.status_code == 200, corrected.body
    assert case_json(api, first)["contact"]["language"] == "en"
    close(api, first)
    assert text_in(api, "tak").startswith(ENGLISH_ACK)  # one word does not undo the correction
    assert case_json(api, open_case(store))["language"] == "en"


def test_a_caller_choosing_again_changes_the_contacts_language(api, local_services):
    """A number with a known language is still asked; the answer is the contact's from then."""
    store = local_services.store
    call_and_choose(api, "2")
    close(api, open_case(store))
    call_and_choose(api, "1")
    case = case_json(api, open_case(store))
    assert (case["language"], case["contact"]["language"]) == ("da", "da")


def test_a_known_caller_who_says_nothing_stays_in_their_language(api, local_services):
    store = local_services.store
    call_and_choose(api, "2")
    close(api, open_case(store))
    sid = new_sid("CA")
    assert api.post(VOICE, **signed(VOICE, call_form(CITIZEN, sid))).status_code == 200
    for attempt in (1, 2, 3):  # asked three times, never answered
        path = f"{VOICE}/menu?step=lang-{attempt}"
        answer = api.post(path, **signed(path, call_form(CITIZEN, sid, "in-progress")))
        assert answer.status_code == 200, answer.body
    assert "Welcome to the guidance helpline" in answer.body.decode()
    case = case_json(api, open_case(store))
    assert (case["language"], case["contact"]["language"]) == ("en", "en")


def test_a_returning_english_writer_gets_an_english_email_acknowledgement_to_ok(
    api, local_services, outbox
):
    from tests.integration.test_email import email

    store = local_services.store
    assert relay(api, email(body="Hi, I need help with my education")).status_code == 201
    close(api, store.find_identity(Identity("email", "sofie@example.com")).open_case_id)
    assert relay(api, email(subject="", body="ok", mid="<q2@example.com>")).status_code == 201
    sent = outbox.last()
    assert sent["Subject"] == "Re: Your message to the guidance helpline"
    assert sent.get_body(("plain",)).get_content().startswith("Hi,")


def test_a_returning_english_speaker_is_routed_to_a_practitioner_who_speaks_english(
    api, local_services, clock
):
    store = local_services.store
    call_and_choose(api, "2")
    close(api, open_case(store))
    # Mads speaks only Danish and has the more room; Emma speaks English.
    store.create_practitioner(Practitioner("mads", "Mads", ("general",), ("da",), 9))
    store.create_practitioner(Practitioner("emma", "Emma", ("general",), ("en",), 1))
    for who in ("mads", "emma"):
        staffing.set_duty(deps_of(store, clock()), Actor(who, "practitioner"), True)
    text_in(api, "ok")
    case = case_json(api, open_case(store))
    assert (case["language"], case["assignee"]) == ("en", "emma")


def test_the_export_shows_the_contacts_language_and_erasure_removes_it(api, local_services):
    store = local_services.store
    call_and_choose(api, "2")
    contact_id = case_json(api, open_case(store))["contact"]["id"]
    export = api.get(f"/contacts/{contact_id}/export", headers=BOSS)
    assert json.loads(export.body)["contact"]["language"] == "en"
    assert api.post(f"/contacts/{contact_id}/erase", headers=BOSS).status_code == 200
    assert "language" not in store.contact_record(contact_id)
    assert store.contact_language(contact_id) is None
    call_and_choose(api, "2")  # the same number again: a new contact, not the erased one
    assert store.contact_language(contact_id) is None


def test_a_booking_pages_language_is_the_contacts(api, local_services, clock):
    from datetime import UTC, datetime

    from chalicelib.domain.model import Webinar

    store = local_services.store
    starts = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    store.create_webinar(Webinar("w1", "CV", starts, 60, 25, 20, "education", "https://m.dk/w1"))
    booking = {"phone": CITIZEN, "consent": True, "language": "en"}
    answer = api.post("/webinars/w1/bookings", headers=JSON, body=json.dumps(booking))
    assert answer.status_code == 202, answer.body
    contact_id = store.find_identity(Identity("phone", CITIZEN)).contact_id
    assert store.contact_language(contact_id) == "en"


FORGED = ["xx", "EN", "en\n", "../en", "", 2, None, ["en"]]


@pytest.mark.parametrize("language", FORGED)
def test_a_forged_language_is_refused_and_changes_no_contact(api, local_services, language):
    store = local_services.store
    call_and_choose(api, "2")
    case_id = open_case(store)
    refused = correct(api, case_id, language)
    assert refused.status_code == 400, refused.body
    assert error_of(refused) in ("unknown_language", "invalid_field")
    assert case_json(api, case_id)["contact"]["language"] == "en"


@pytest.mark.parametrize("language", ["xx", "de"])  # the schema refuses what is not [a-z]{2,3}
def test_a_booking_in_a_language_we_do_not_speak_is_refused(api, local_services, language):
    from datetime import UTC, datetime

    from chalicelib.domain.model import Webinar

    store = local_services.store
    starts = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    store.create_webinar(Webinar("w1", "CV", starts, 60, 25, 20, "education", "https://m.dk/w1"))
    booking = {"phone": CITIZEN, "consent": True, "language": language}
    answer = api.post("/webinars/w1/bookings", headers=JSON, body=json.dumps(booking))
    assert (answer.status_code, error_of(answer)) == (400, "unknown_language")
    assert store.find_identity(Identity("phone", CITIZEN)) is None  # nothing booked, no contact


def test_a_stranger_booking_with_a_citizens_number_does_not_change_their_language(
    api, local_services, clock
):
    """A booking page is unverified: whoever types the citizen's number cannot re-language them."""
    from datetime import UTC, datetime

    from chalicelib.domain.model import Webinar

    store = local_services.store
    call_and_choose(api, "1")  # the citizen chose Danish on the phone
    contact_id = store.find_identity(Identity("phone", CITIZEN)).contact_id
    close(api, open_case(store))
    starts = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    store.create_webinar(Webinar("w1", "CV", starts, 60, 25, 20, "education", "https://m.dk/w1"))
    booking = {"phone": CITIZEN, "consent": True, "language": "en"}
    answer = api.post("/webinars/w1/bookings", headers=JSON, body=json.dumps(booking))
    assert answer.status_code == 202, answer.body
    assert store.contact_language(contact_id) == "da"
