"""The SMS webhooks end to end, as Twilio calls them, against DynamoDB Local."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest

from tests.twilio_fakes import new_sid, signed, sms_form, status_form

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/sms/status"
CITIZEN = "+4520000001"


def scan_all(store) -> list[dict]:
    return store.client.scan(TableName=store.table, ConsistentRead=True)["Items"]


def messages(twiml: str) -> list[ET.Element]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root.findall("Message")


def post_sms(api, form):
    return api.post(SMS, **signed(SMS, form))


def test_first_sms_is_acknowledged_with_twiml_and_tracked(api, local_services):
    answer = post_sms(api, sms_form(CITIZEN, "Hi! Can you help me choose?"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/xml")
    [message] = messages(answer.body.decode())
    assert "counsellor will answer you here" in message.text
    callback = urlparse(message.get("action"))
    assert callback.path == STATUS and message.get("method") == "POST"
    case_id, interaction_id = parse_qs(callback.query)["ref"][0].split(".")
    timeline = local_services.store.timeline(case_id)
    assert [(i.direction, i.body) for i in timeline] == [
        ("in", "Hi! Can you help me choose?"),
        ("out", message.text),
    ]
    assert timeline[1].id == interaction_id and timeline[1].status == "queued"


def test_second_sms_gets_an_empty_response(api):
    post_sms(api, sms_form(CITIZEN, "first"))
    answer = post_sms(api, sms_form(CITIZEN, "second"))
    assert answer.status_code == 200 and messages(answer.body.decode()) == []


def test_a_retried_delivery_answers_the_same_and_stores_nothing(api, local_services):
    form = sms_form(CITIZEN, "hello", sid=new_sid())
    first = post_sms(api, form)
    items = len(scan_all(local_services.store))
    again = post_sms(api, form)
    assert again.status_code == 200 and again.body == first.body
    assert len(scan_all(local_services.store)) == items


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "bm9wZQ=="},
    ],
    ids=["missing", "wrong"],
)
def test_an_unsigned_or_badly_signed_sms_is_refused_and_nothing_is_stored(
    api, local_services, headers
):
    from urllib.parse import urlencode

    answer = api.post(SMS, body=urlencode(sms_form(CITIZEN, "hi")), headers=headers)
    assert answer.status_code == 403
    assert json.loads(answer.body)["error"]["code"] == "bad_signature"
    assert scan_all(local_services.store) == []


def test_a_signature_for_other_fields_is_refused(api, local_services):
    form = sms_form(CITIZEN, "original")
    request = signed(SMS, form)
    tampered = sms_form(CITIZEN, "tampered", sid=form["MessageSid"])
    from urllib.parse import urlencode

    request["body"] = urlencode(tampered)
    assert api.post(SMS, **request).status_code == 403
    assert scan_all(local_services.store) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"From": "not-a-number"}, "invalid_From"),
        ({"MessageSid": "", "SmsSid": ""}, "invalid_MessageSid"),
        ({"NumMedia": "many"}, "invalid_NumMedia"),
    ],
)
def test_malformed_but_signed_input_gets_a_clear_400(api, local_services, change, code):
    answer = post_sms(api, {**sms_form(CITIZEN, "hi"), **change})
    assert answer.status_code == 400
    assert json.loads(answer.body)["error"]["code"] == code
    assert scan_all(local_services.store) == []


def test_wrong_content_type_gets_our_json_error_shape(api):
    answer = api.post(SMS, body="{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 415
    error = json.loads(answer.body)["error"]
    assert error["code"] == "unsupported_media_type" and error["message"]


def test_media_is_kept(api, local_services):
    form = sms_form(
        CITIZEN,
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
        MediaContentType0="image/png",
    )
    [message] = messages(post_sms(api, form).body.decode())
    case_id = parse_qs(urlparse(message.get("action")).query)["ref"][0].split(".")[0]
    inbound = local_services.store.timeline(case_id)[0]
    assert inbound.body == "" and inbound.media[0].content_type == "image/png"


def test_stop_is_recorded_and_never_answered(api, local_services):
    post_sms(api, sms_form(CITIZEN, "hello"))
    answer = post_sms(api, sms_form(CITIZEN, "Stop", OptOutType="STOP"))
    assert messages(answer.body.decode()) == []
    from chalicelib.domain.model import Identity

    assert local_services.store.find_identity(Identity("phone", CITIZEN)).opted_out


def _ack_ref(api) -> tuple[str, str, str]:
    [message] = messages(post_sms(api, sms_form(CITIZEN, "hello")).body.decode())
    action = message.get("action")
    case_id, interaction_id = parse_qs(urlparse(action).query)["ref"][0].split(".")
    return urlparse(action).query, case_id, interaction_id


def _status(api, query: str, sid: str, status: str, **kw):
    path = f"{STATUS}?{query}"
    request = signed(path, status_form(sid, status, **kw))
    return api.post(path, **request)


def _stored_status(store, case_id, interaction_id) -> tuple[str, str | None]:
    [message] = [i for i in store.timeline(case_id) if i.id == interaction_id]
    return message.status, message.provider_id


def test_delivery_status_moves_forward_only(api, local_services):
    query, case_id, interaction_id = _ack_ref(api)
    sid = new_sid()
    store = local_services.store
    assert _status(api, query, sid, "sent").status_code == 204
    assert _stored_status(store, case_id, interaction_id) == ("sent", sid)
    assert _status(api, query, sid, "delivered").status_code == 204
    # late, repeated and out-of-order callbacks change nothing
    for late in ("queued", "sending", "sent", "delivered"):
        assert _status(api, query, sid, late).status_code == 204
    assert _stored_status(store, case_id, interaction_id) == ("delivered", sid)


def test_failed_delivery_keeps_the_error_code(api, local_services):
    query, case_id, interaction_id = _ack_ref(api)
    _status(api, query, new_sid(), "undelivered", error_code="30003")
    [message] = [i for i in local_services.store.timeline(case_id) if i.id == interaction_id]
    assert (message.status, message.error_code) == ("undelivered", "30003")


def test_status_callback_needs_a_valid_signature(api, local_services):
    query, case_id, interaction_id = _ack_ref(api)
    path = f"{STATUS}?{query}"
    request = signed(path, status_form(new_sid(), "delivered"), token="someone-else")
    assert api.post(path, **request).status_code == 403
    assert _stored_status(local_services.store, case_id, interaction_id)[0] == "queued"


def test_status_callback_for_an_unknown_message_is_acknowledged(api):
    answer = _status(api, "ref=nope.nothing", new_sid(), "delivered")
    assert answer.status_code == 204


def test_logs_hold_no_phone_number_or_message_body(api, captured_logs):
    body = "My name is Sofie and I am worried about my exams"
    post_sms(api, sms_form(CITIZEN, body))
    post_sms(api, {**sms_form(CITIZEN, body), "From": "garbage"})
    assert any('"inbound recorded"' in line for line in captured_logs)
    for line in captured_logs:
        assert CITIZEN not in line and "Sofie" not in line and "exams" not in line


def test_an_oversized_body_gets_413_and_nothing_is_stored(api, local_services):
    form = sms_form(CITIZEN, "x" * 70_000)
    answer = post_sms(api, form)
    assert answer.status_code == 413
    assert json.loads(answer.body)["error"]["code"] == "payload_too_large"
    assert scan_all(local_services.store) == []
