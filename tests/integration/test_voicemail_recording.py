"""Listening to a voicemail in the web app (issue: Twilio's media URL needs the account's
credentials): our route fetches it from Twilio with them (Twilio intercepted at the HTTP level),
for whoever may read the case, recorded as a read; a recording SID that is not a voicemail of
that case is a 404 that asks Twilio nothing; erasure deletes the recording at Twilio."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
import responses

from chalicelib.domain.model import Identity, Practitioner
from tests.conftest import AUTH_TOKEN, bearer
from tests.twilio_fakes import call_form, new_sid, recording_form, signed

ACCOUNT = "AC" + "1" * 32
RECORDINGS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings"
VOICE = "/webhooks/twilio/voice"
ANNA = bearer("anna", "practitioner")
BOSS = bearer("boss", "manager")
MP3 = b"ID3\x04\x00" + bytes(range(256)) * 4


@pytest.fixture
def twilio(local_services):
    """Our Twilio account; every request to Twilio goes to `responses` (none is real)."""
    local_services.settings = replace(local_services.settings, twilio_account_sid=ACCOUNT)
    queues = ("general", "education", "careers")
    local_services.store.create_practitioner(Practitioner("anna", "Anna", queues, ("da",), 5))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def voicemail(api, store, number: str) -> tuple[str, str]:
    """A caller leaves a voicemail: (case id, recording SID)."""
    call = new_sid("CA")
    assert api.post(VOICE, **signed(VOICE, call_form(number, call))).status_code == 200
    form = recording_form(number, call)
    path = f"{VOICE}/recording"
    assert api.post(path, **signed(path, form)).status_code == 204
    case_id = store.find_identity(Identity("phone", number)).open_case_id
    return case_id, form["RecordingSid"]


def test_a_practitioner_hears_the_voicemail_through_our_route_and_the_read_is_recorded(
    api, local_services, twilio
):
    case_id, sid = voicemail(api, local_services.store, "+4520000011")
    twilio.get(f"{RECORDINGS}/{sid}.mp3", body=MP3, content_type="audio/mpeg")

    case = json.loads(api.get(f"/cases/{case_id}", headers=ANNA).body)
    [entry] = [e for e in case["timeline"] if e["status"] == "voicemail"]
    assert entry["media"] == [
        {"url": f"/cases/{case_id}/recordings/{sid}", "content_type": "audio/mpeg"}
    ]
    heard = api.get(entry["media"][0]["url"], headers={**ANNA, "Accept": "audio/mpeg"})

    assert heard.status_code == 200 and heard.body == MP3
    assert heard.headers["Content-Type"] == "audio/mpeg"
    assert heard.headers["Content-Disposition"] == f'inline; filename="voicemail-{sid}.mp3"'
    [asked] = twilio.calls
    expected = base64.b64encode(f"{ACCOUNT}:{AUTH_TOKEN}".encode()).decode()
    assert asked.request.headers["Authorization"] == f"Basic {expected}"
    reads = json.loads(api.get(f"/cases/{case_id}/reads", headers=BOSS).body)["reads"]
    assert [r["user_id"] for r in reads].count("anna") == 2  # the case, then its voicemail


def test_a_recording_of_another_case_or_a_made_up_one_is_404_and_twilio_is_not_asked(
    api, local_services, twilio
):
    mine, _ = voicemail(api, local_services.store, "+4520000012")
    _, theirs = voicemail(api, local_services.store, "+4520000013")

    for sid in (theirs, new_sid("RE"), "RE..%2F..%2Fevil", "x" * 300):
        answer = api.get(f"/cases/{mine}/recordings/{sid}", headers=ANNA)
        assert answer.status_code == 404, sid
        assert json.loads(answer.body)["error"]["code"] == "not_found"
    assert [c.request.url for c in twilio.calls] == []
    nobody = api.get(f"/cases/{mine}/recordings/{theirs}")
    assert nobody.status_code == 401


def test_a_recording_url_off_twilio_is_refused_at_the_webhook(api, local_services, twilio):
    call = new_sid("CA")
    assert api.post(VOICE, **signed(VOICE, call_form("+4520000014", call))).status_code == 200
    path = f"{VOICE}/recording"
    for url in (
        "https://169.254.169.254/latest/meta-data",
        "https://api.twilio.com.evil.example/x",
    ):
        form = {**recording_form("+4520000014", call), "RecordingUrl": url}
        answer = api.post(path, **signed(path, form))
        assert answer.status_code == 400
        assert json.loads(answer.body)["error"]["code"] == "invalid_recording"


def test_erasure_deletes_the_recording_at_twilio_and_the_route_is_404_after(
    api, local_services, twilio
):
    case_id, sid = voicemail(api, local_services.store, "+4520000015")
    twilio.delete(f"{RECORDINGS}/{sid}.json", status=204)
    contact = local_services.store.get_case(case_id).contact_id

    erased = api.post(f"/contacts/{contact}/erase", headers=BOSS)

    assert erased.status_code == 200 and json.loads(erased.body)["recordings"] == 1
    assert [c.request.method for c in twilio.calls] == ["DELETE"]
    after = api.get(f"/cases/{case_id}/recordings/{sid}", headers=BOSS)
    assert after.status_code == 404
    assert len(twilio.calls) == 1  # nothing fetched for an erased case


def test_twilio_failing_to_delete_fails_the_erasure_so_it_is_repeated(api, local_services, twilio):
    case_id, sid = voicemail(api, local_services.store, "+4520000016")
    twilio.delete(f"{RECORDINGS}/{sid}.json", status=500)
    contact = local_services.store.get_case(case_id).contact_id

    failed = api.post(f"/contacts/{contact}/erase", headers=BOSS)
    assert failed.status_code == 502

    twilio.replace(responses.DELETE, f"{RECORDINGS}/{sid}.json", status=404)  # deleted meanwhile
    again = api.post(f"/contacts/{contact}/erase", headers=BOSS)
    assert again.status_code == 200
    assert api.get(f"/cases/{case_id}/recordings/{sid}", headers=BOSS).status_code == 404
