"""Sending SMS through the sender interface: the local outbox and Twilio's REST API over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import pytest
import responses

from chalicelib.adapters.senders import LocalOutbox, TwilioSms, sms_sender
from chalicelib.config import load_settings
from chalicelib.domain import intake, outbound
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Identity, InboundMessage
from tests.conftest import deps_of

CITIZEN = Identity("phone", "+4520000001")
ACCOUNT = "AC" + "a" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def callback(ref: str) -> str:
    return f"https://helpline.example.org/webhooks/twilio/sms/status?ref={ref}"


def open_case(store, clock, body="hello", sid="SM" + "1" * 32) -> str:
    message = InboundMessage("sms", "twilio", sid, CITIZEN, "+4570203040", body)
    return intake.receive(deps_of(store, clock, hours=demo_hours()), message).case_id


def twilio_settings():
    return load_settings(
        {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": "secret",
            "TWILIO_FROM_NUMBER": "+4570203040",
        }
    )


def test_without_an_account_messages_go_to_the_local_outbox(moto_store, clock):
    assert isinstance(sms_sender(load_settings({"TWILIO_AUTH_TOKEN": "x"})), LocalOutbox)
    case_id = open_case(moto_store, clock)
    sent = outbound.send_sms(
        case_id, "We can talk at 14:00", moto_store, LocalOutbox(), clock, callback
    )
    assert sent.status == "local"
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.direction, reply.body, reply.status, reply.to) == (
        "out",
        "We can talk at 14:00",
        "local",
        CITIZEN.value,
    )
    assert reply.provider_id.startswith("LOCAL")


@responses.activate
def test_with_an_account_twilio_rest_is_called_with_the_status_callback(moto_store, clock):
    responses.post(
        MESSAGES_URL,
        status=201,
        json={"sid": "SM" + "f" * 32, "status": "queued", "to": CITIZEN.value, "body": "Hi"},
    )
    case_id = open_case(moto_store, clock)
    sender = sms_sender(twilio_settings())
    assert isinstance(sender, TwilioSms)
    sent = outbound.send_sms(case_id, "Hi", moto_store, sender, clock, callback)

    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == [CITIZEN.value] and form["From"] == ["+4570203040"]
    assert form["Body"] == ["Hi"]
    assert form["StatusCallback"] == [callback(f"{case_id}.{sent.interaction_id}")]
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.provider_id) == ("queued", "SM" + "f" * 32)


@responses.activate
def test_a_provider_failure_parks_the_message_and_retries_then_gives_up(moto_store, clock):
    """Twilio answers 500 (injected at the HTTP level): the reply waits in the outbox, the
    retry job sends it once Twilio is back, or fails it visibly after the last attempt."""
    from datetime import timedelta

    from chalicelib.domain import outbox

    case_id = open_case(moto_store, clock)
    sender = sms_sender(twilio_settings())
    responses.post(MESSAGES_URL, status=500, json={"code": 20500, "message": "Internal"})
    sent = outbound.send_sms(case_id, "Hi", moto_store, sender, clock, callback)
    assert sent.status == "retrying"
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.body) == ("retrying", "Hi")
    assert outbox.retry_due(moto_store, sender, None, None, clock(), callback) == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }  # not due yet: one minute of back-off
    later = clock() + timedelta(minutes=2)
    responses.replace(
        responses.POST, MESSAGES_URL, status=201, json={"sid": "SM" + "b" * 32, "status": "queued"}
    )
    assert outbox.retry_due(moto_store, sender, None, None, later, callback)["sent"] == 1
    assert outbox.retry_due(moto_store, sender, None, None, later, callback)["sent"] == 0
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.provider_id) == ("queued", "SM" + "b" * 32)

    responses.replace(responses.POST, MESSAGES_URL, status=503, json={"code": 1})
    failing = outbound.send_sms(case_id, "Again", moto_store, sender, clock, callback)
    now = clock()
    for _ in range(outbox.MAX_ATTEMPTS):
        now += timedelta(hours=1)
        outbox.retry_due(moto_store, sender, None, None, now, callback)
    [gone] = [i for i in moto_store.timeline(case_id) if i.id == failing.interaction_id]
    assert gone.status == "failed" and gone.error_code.startswith("gave up")
    attempts = [c for c in responses.calls if c.request.body and "Again" in c.request.body]
    assert len(attempts) == outbox.MAX_ATTEMPTS


@responses.activate
def test_a_number_twilio_will_never_take_fails_at_once_and_is_not_retried(moto_store, clock):
    """Twilio's 400 (21211: not a valid number) is final: the case shows it now, not after an
    hour of retries."""
    from datetime import timedelta

    from chalicelib.domain import outbox

    case_id = open_case(moto_store, clock)
    sender = sms_sender(twilio_settings())
    responses.post(
        MESSAGES_URL,
        status=400,
        json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400},
    )
    sent = outbound.send_sms(case_id, "Hi", moto_store, sender, clock, callback)
    assert sent.status == "failed"
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.error_code) == ("failed", "rejected: twilio-21211")
    later = clock() + timedelta(hours=2)
    assert outbox.retry_due(moto_store, sender, None, None, later, callback)["sent"] == 0
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize(
    ("twilio_status", "error_code", "expected"),
    [(500, 20500, (502, "provider_unavailable")), (400, 21211, (409, "not_callable"))],
)
def test_a_callback_twilio_does_not_place_fails_on_the_case_and_stays_pending(
    moto_store, clock, twilio_status, error_code, expected
):
    from chalicelib.adapters.senders import dialer
    from chalicelib.domain import voice
    from chalicelib.domain.errors import ServiceError
    from chalicelib.domain.model import Actor, Practitioner

    calls_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    responses.post(calls_url, status=twilio_status, json={"code": error_code, "message": "x"})
    case_id = open_case(moto_store, clock)
    moto_store.request_callback(case_id, CITIZEN.value, clock())
    moto_store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    with pytest.raises(ServiceError) as refused:
        voice.start_callback(
            case_id,
            Actor("anna", "practitioner"),
            moto_store,
            dialer(twilio_settings()),
            clock,
            callback,
        )
    assert (refused.value.status, refused.value.code) == expected
    [attempt] = [i for i in moto_store.timeline(case_id) if i.channel == "voice"]
    assert (attempt.direction, attempt.status) == ("out", "failed")
    assert moto_store.get_case(case_id).callback_number == CITIZEN.value  # still to do


def test_an_opted_out_number_is_never_sent_to(moto_store, clock):
    case_id = open_case(moto_store, clock)
    stop = InboundMessage(
        "sms", "twilio", "SM" + "2" * 32, CITIZEN, "+4570203040", "STOP", keyword="stop"
    )
    intake.receive(deps_of(moto_store, clock, hours=demo_hours()), stop)
    with responses.RequestsMock() as http:  # any HTTP call would fail the test
        with pytest.raises(Conflict) as refused:
            outbound.send_sms(
                case_id, "Hi", moto_store, sms_sender(twilio_settings()), clock, callback
            )
        assert not http.calls
    assert refused.value.code == "opted_out"


def test_unknown_case(moto_store, clock):
    with pytest.raises(NotFound):
        outbound.send_sms("nope", "Hi", moto_store, LocalOutbox(), clock, callback)


def test_status_reports_move_forward_only(moto_store, clock):
    case_id = open_case(moto_store, clock)
    sent = outbound.send_sms(case_id, "Hi", moto_store, LocalOutbox(), clock, callback)
    ref = f"{case_id}.{sent.interaction_id}"
    assert outbound.record_status(moto_store, ref, "sent", "SM1", None)
    assert outbound.record_status(moto_store, ref, "delivered", "SM1", None)
    assert not outbound.record_status(moto_store, ref, "sent", "SM1", None)
    assert not outbound.record_status(moto_store, ref, "delivered", "SM1", None)
    assert not outbound.record_status(moto_store, ref, "made-up", "SM1", None)
    assert not outbound.record_status(moto_store, "garbage", "sent", "SM1", None)
    assert not outbound.record_status(moto_store, f"{case_id}.missing", "sent", "SM1", None)
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert reply.status == "delivered"


@responses.activate
def test_a_callback_through_twilio_rings_the_practitioner_then_bridges_the_citizen(
    moto_store, clock
):
    from chalicelib.adapters.senders import dialer
    from chalicelib.domain import voice
    from chalicelib.domain.model import Actor, Practitioner

    calls_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    responses.post(calls_url, status=201, json={"sid": "CA" + "e" * 32, "status": "queued"})
    case_id = open_case(moto_store, clock)
    moto_store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    made = voice.start_callback(
        case_id,
        Actor("anna", "practitioner"),
        moto_store,
        dialer(twilio_settings()),
        clock,
        callback,
    )
    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == ["+4540000001"] and form["From"] == ["+4570203040"]
    dial = ET.fromstring(form["Twiml"][0]).find("Dial")
    assert dial.text == CITIZEN.value and dial.get("callerId") == "+4570203040"
    assert form["StatusCallback"] == [callback(f"{case_id}.{made.id}")]
    assert (made.status, made.provider_id) == ("queued", "CA" + "e" * 32)
