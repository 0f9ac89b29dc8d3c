"""Danish and English in words the service chooses: what citizens read follows their language,
and managers change the wording over the API without a deployment (issue 18)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from chalicelib.domain.model import Identity
from tests.conftest import bearer
from tests.twilio_fakes import new_sid, signed, sms_form

BOSS = bearer("boss", "manager")
ANNA = bearer("anna", "practitioner")
JSON = {"Content-Type": "application/json"}
SMS = "/webhooks/twilio/sms"
# The clock is Tuesday 24 November 2026, 10:00 in Copenhagen; closed until Thursday.
CLOSED_UNTIL_THURSDAY = {
    "timezone": "Europe/Copenhagen",
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "closed_dates": ["2026-11-24", "2026-11-25"],
}


def text_in(api, number: str, body: str) -> str:
    answer = api.post(SMS, **signed(SMS, sms_form(number, body, sid=new_sid("SM"))))
    assert answer.status_code == 200, answer.body
    [message] = ET.fromstring(answer.body.decode()).findall("Message")
    return message.text or ""


def put_template(api, language: str, key: str, body: object, headers: dict = BOSS):
    payload = body if isinstance(body, str) else json.dumps(body)
    return api.put(f"/templates/{language}/{key}", body=payload, headers={**JSON, **headers})


def preview(api, body: dict, headers: dict = BOSS):
    return api.post("/templates/preview", body=json.dumps(body), headers={**JSON, **headers})


def error_of(answer) -> str:
    return json.loads(answer.body)["error"]["code"]


def test_a_danish_first_sms_gets_a_danish_answer_naming_the_next_opening_in_danish(
    api, local_services
):
    hours = api.put("/hours", body=json.dumps(CLOSED_UNTIL_THURSDAY), headers={**JSON, **BOSS})
    assert hours.status_code == 200, hours.body
    reply = text_in(api, "+4520000001", "Hej, jeg ved ikke hvilken uddannelse jeg skal vælge")
    assert reply.startswith("Hej! Tak for din besked til Vejledningen.")
    assert "Vi har lukket nu, men åbner torsdag den 26. november kl. 9.00." in reply
    english = text_in(api, "+4520000002", "Hi, which education fits me?")
    assert "We open again on Thursday 26 November at 09:00." in english
    store = local_services.store
    languages = [
        store.get_case(store.find_identity(Identity("phone", number)).open_case_id).language
        for number in ("+4520000001", "+4520000002")
    ]
    assert languages == ["da", "en"]


def test_a_template_edited_through_the_api_is_what_the_next_citizen_receives(api):
    text = "Hej! Tak fordi du skrev til {service_name}. Vi svarer dig snart her."
    edited = put_template(api, "da", "sms.ack_open", {"text": text})
    assert edited.status_code == 200, edited.body
    assert json.loads(edited.body)["version"] == 1
    renamed = put_template(api, "da", "service_name", {"text": "UU-chatten"})
    assert renamed.status_code == 200, renamed.body
    reply = text_in(api, "+4520000003", "Hej, kan I hjælpe mig?")
    assert reply == "Hej! Tak fordi du skrev til UU-chatten. Vi svarer dig snart her."
    listed = json.loads(api.get("/templates", headers=BOSS).body)
    entry = listed["templates"]["da"]["sms.ack_open"]
    assert (entry["text"], entry["version"], entry["edited_by"]) == (text, 1, "boss")
    assert entry["default"].startswith("Hej! Tak for din besked")
    assert listed["templates"]["en"]["sms.ack_open"]["version"] == 0


def test_every_edit_is_a_version_and_audited(api, local_services, clock):
    for text in ("Hej fra {service_name}.", "Hej igen fra {service_name}."):
        assert put_template(api, "da", "sms.resubscribed", {"text": text}).status_code == 200
    answer = api.get("/templates/da/sms.resubscribed/versions", headers=BOSS)
    versions = json.loads(answer.body)["versions"]
    assert [(v["version"], v["text"], v["by"]) for v in versions] == [
        (1, "Hej fra {service_name}.", "boss"),
        (2, "Hej igen fra {service_name}.", "boss"),
    ]
    audits = local_services.store.audits(clock().strftime("%Y-%m"))
    assert [(a["action"], a["contact_id"], a["by"]) for a in audits] == [
        ("template_edit", "da/sms.resubscribed", "boss")
    ] * 2


def test_a_save_over_a_colleagues_newer_version_is_a_409_and_changes_nothing(api):
    """Two managers open version 0; the second to save is told, not silently overwritten."""
    first = {"text": "Hej fra {service_name}.", "version": 0}
    assert put_template(api, "da", "sms.resubscribed", first).status_code == 200
    second = put_template(api, "da", "sms.resubscribed", {"text": "Andet forslag", "version": 0})
    assert second.status_code == 409, second.body
    assert error_of(second) == "conflict"
    current = json.loads(api.get("/templates", headers=BOSS).body)["templates"]["da"]
    assert (current["sms.resubscribed"]["version"], current["sms.resubscribed"]["text"]) == (
        1,
        "Hej fra {service_name}.",
    )
    reread = {"text": "Andet forslag", "version": 1}
    assert put_template(api, "da", "sms.resubscribed", reread).status_code == 200


REFUSED = [  # (language, key, text, error code)
    ("da", "sms.ack_open", "Hej {first_name}!", "unknown_placeholder"),
    ("da", "sms.ack_open", "Vi åbner {next_opening}.", "unknown_placeholder"),
    ("da", "service_name", "{service_name}", "unknown_placeholder"),
    ("da", "sms.ack_open", "{service_name.__class__}", "invalid_placeholder"),
    ("da", "sms.ack_open", "{0}", "invalid_placeholder"),
    ("da", "sms.ack_open", "Hej {", "invalid_placeholder"),
    ("da", "sms.ack_open", "Hej\u202efra os", "invalid_template"),
    ("da", "sms.ack_open", "Hej\x07", "invalid_template"),
    ("da", "date.weekdays", "mandag tirsdag", "invalid_template"),
    ("de", "sms.ack_open", "Hallo", "unknown_language"),
    ("da", "sms.nonsense", "Hej", "unknown_template"),
]


@pytest.mark.parametrize(("language", "key", "text", "code"), REFUSED)
def test_a_template_with_an_unknown_placeholder_language_or_key_is_refused(
    api, language, key, text, code
):
    answer = put_template(api, language, key, {"text": text})
    assert answer.status_code == 400, answer.body
    assert error_of(answer) == code
    assert (
        json.loads(api.get("/templates", headers=BOSS).body)["templates"]["da"]["sms.ack_open"][
            "version"
        ]
        == 0
    )


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x" * 1601},
        {"text": ""},
        {"text": "   "},
        {"text": ["Hej"]},
        {"text": "Hej", "extra": 1},
        {"text": "Hej", "version": -1},
        {"text": "Hej", "version": "1"},
        "[" * 40 + "]" * 40,
        "not json",
    ],
)
def test_bad_bodies_are_a_400(api, body):
    answer = put_template(api, "da", "sms.ack_open", body)
    assert answer.status_code == 400, answer.body


def test_only_managers_read_or_change_the_wording(api):
    assert put_template(api, "da", "sms.ack_open", {"text": "Hej"}, ANNA).status_code == 403
    assert api.get("/templates", headers=ANNA).status_code == 403
    assert preview(api, {"language": "da", "key": "sms.ack_open"}, ANNA).status_code == 403
    assert api.get("/templates/da/sms.ack_open/versions", headers=ANNA).status_code == 403
    assert put_template(api, "da", "sms.ack_open", {"text": "Hej"}, {}).status_code == 401


def test_a_preview_renders_sample_values_and_counts_sms_segments(api):
    danish = json.loads(preview(api, {"language": "da", "key": "sms.ack_closed"}).body)
    assert "Vejledningen" in danish["text"] and "{" not in danish["text"]
    assert danish["sms"]["encoding"] == "GSM-7" and danish["sms"]["segments"] == 1
    emoji = {"language": "da", "key": "sms.ack_open", "text": "Hej 👋 " + "å" * 70}
    counted = json.loads(preview(api, emoji).body)["sms"]
    # the emoji is two UTF-16 units
    assert (counted["encoding"], counted["length"], counted["segments"]) == ("UCS-2", 77, 2)
    euros = {"language": "en", "key": "sms.ack_open", "text": "€" * 80}
    counted = json.loads(preview(api, euros).body)["sms"]
    assert (counted["encoding"], counted["length"], counted["segments"]) == ("GSM-7", 160, 1)
    assert "sms" not in json.loads(preview(api, {"language": "en", "key": "voice.topics"}).body)


def test_a_preview_value_is_never_read_as_a_placeholder(api):
    body = {
        "language": "en",
        "key": "webinar.confirmed",
        "values": {"title": "{service_name} {join_url.__class__}"},
    }
    rendered = json.loads(preview(api, body).body)["text"]
    assert '"{service_name} {join_url.__class__}"' in rendered


def test_a_practitioner_corrects_a_case_language_and_the_timeline_says_who(api, local_services):
    text_in(api, "+4520000004", "Hej, jeg har et spørgsmål")
    store = local_services.store
    case_id = store.find_identity(Identity("phone", "+4520000004")).open_case_id
    stranger = api.put(  # a practitioner who may not see the case (no profile, no queues)
        f"/cases/{case_id}/language", body=json.dumps({"language": "en"}), headers={**JSON, **ANNA}
    )
    assert stranger.status_code == 403
    answer = api.put(
        f"/cases/{case_id}/language", body=json.dumps({"language": "en"}), headers={**JSON, **BOSS}
    )
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["language"] == "en"
    case = json.loads(api.get(f"/cases/{case_id}", headers=BOSS).body)
    assert case["language"] == "en"
    assert case["timeline"][-1]["body"] == "Language: da -> en"
    assert case["timeline"][-1]["author"] == "boss"
    refused = api.put(
        f"/cases/{case_id}/language", body=json.dumps({"language": "xx"}), headers={**JSON, **BOSS}
    )
    assert (refused.status_code, error_of(refused)) == (400, "unknown_language")


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        (None, "Booket: Vælg uddannelse", "torsdag den 26. november kl. 15.00"),
        ("en", "Booked: Vælg uddannelse", "on Thursday 26 November at 15:00"),
    ],
)
def test_a_booking_is_confirmed_in_the_booking_page_language(
    api, local_services, outbox, language, subject, words
):
    from datetime import UTC, datetime

    from chalicelib.domain.model import Webinar

    starts = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    webinar = Webinar(
        "w1", "Vælg uddannelse", starts, 60, 25, 20, "education", "https://meet.example.org/w1"
    )
    local_services.store.create_webinar(webinar)
    body = {"email": "sofie@example.com", "consent": True}
    answer = api.post(
        "/webinars/w1/bookings",
        headers=JSON,
        body=json.dumps({**body, "language": language} if language else body),
    )
    assert answer.status_code == 202, answer.body
    confirmation = outbox.last()
    assert confirmation["Subject"] == subject
    assert words in confirmation.get_body(("plain",)).get_content()
