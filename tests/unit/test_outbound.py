"""Sending SMS through the sender interface: the local outbox and Twilio's REST API over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import pytest
import responses

from chalicelib.adapters.senders import LocalOutbox, TwilioSms, sms_sender
from chalicelib.config import load_settings
from chalicelib.domain import delivery, intake
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Identity, InboundMessage
from tests.conftest import deps_of
from tests.sending import Fixed, by_ref

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


def test_without_an_account_messages_go_to_the_local_outbox(memory_store, clock):
    assert isinstance(sms_sender(load_settings({"TWILIO_AUTH_TOKEN": "x"})), LocalOutbox)
    case_id = open_case(memory_store, clock)
    sent = delivery.send_sms(
        deps_of(memory_store, clock, sms=LocalOutbox()), case_id, "We can talk at 14:00"
    )
    assert sent.status == "local"
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.direction, reply.body, reply.status, reply.to) == (
        "out",
        "We can talk at 14:00",
        "local",
        CITIZEN.value,
    )
    assert reply.provider_id.startswith("LOCAL")


@responses.activate
def test_with_an_account_twilio_rest_is_called_with_the_status_callback(memory_store, clock):
    responses.post(
        MESSAGES_URL,
        status=201,
        json={"sid": "SM" + "f" * 32, "status": "queued", "to": CITIZEN.value, "body": "Hi"},
    )
    case_id = open_case(memory_store, clock)
    sender = sms_sender(twilio_settings())
    assert isinstance(sender, TwilioSms)
    sent = delivery.send_sms(deps_of(memory_store, clock, sms=sender), case_id, "Hi")

    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == [CITIZEN.value] and form["From"] == ["+4570203040"]
    assert form["Body"] == ["Hi"]
    assert form["StatusCallback"] == [callback(f"{case_id}.{sent.interaction_id}")]
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.provider_id) == ("queued", "SM" + "f" * 32)


@responses.activate
def test_a_provider_failure_parks_the_message_and_retries_then_gives_up(memory_store, clock):
    """Twilio answers 500 (injected at the HTTP level): the reply waits in the outbox, the
    retry job sends it once Twilio is back, or fails it visibly after the last attempt."""
    from datetime import timedelta

    case_id = open_case(memory_store, clock)
    sender = sms_sender(twilio_settings())
    responses.post(MESSAGES_URL, status=500, json={"code": 20500, "message": "Internal"})
    sent = delivery.send_sms(deps_of(memory_store, clock, sms=sender), case_id, "Hi")
    assert sent.status == "retrying"
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.body) == ("retrying", "Hi")
    assert delivery.retry_due(deps_of(memory_store, Fixed(clock()), sms=sender)) == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }  # not due yet: one minute of back-off
    later = clock() + timedelta(minutes=2)
    responses.replace(
        responses.POST, MESSAGES_URL, status=201, json={"sid": "SM" + "b" * 32, "status": "queued"}
    )
    assert delivery.retry_due(deps_of(memory_store, Fixed(later), sms=sender))["sent"] == 1
    assert delivery.retry_due(deps_of(memory_store, Fixed(later), sms=sender))["sent"] == 0
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.provider_id) == ("queued", "SM" + "b" * 32)

    responses.replace(responses.POST, MESSAGES_URL, status=503, json={"code": 1})
    failing = delivery.send_sms(deps_of(memory_store, clock, sms=sender), case_id, "Again")
    now = clock()
    for _ in range(delivery.MAX_ATTEMPTS):
        now += timedelta(hours=1)
        delivery.retry_due(deps_of(memory_store, Fixed(now), sms=sender))
    [gone] = [i for i in memory_store.timeline(case_id) if i.id == failing.interaction_id]
    assert gone.status == "failed" and gone.error_code.startswith("gave up")
    attempts = [c for c in responses.calls if c.request.body and "Again" in c.request.body]
    assert len(attempts) == delivery.MAX_ATTEMPTS


@responses.activate
def test_a_number_twilio_will_never_take_fails_at_once_and_is_not_retried(memory_store, clock):
    """Twilio's 400 (21211: not a valid number) is final: the case shows it now, not after an
    hour of retries."""
    from datetime import timedelta

    case_id = open_case(memory_store, clock)
    sender = sms_sender(twilio_settings())
    responses.post(
        MESSAGES_URL,
        status=400,
        json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400},
    )
    sent = delivery.send_sms(deps_of(memory_store, clock, sms=sender), case_id, "Hi")
    assert sent.status == "failed"
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.error_code) == ("failed", "rejected: twilio-21211")
    later = clock() + timedelta(hours=2)
    assert delivery.retry_due(deps_of(memory_store, Fixed(later), sms=sender))["sent"] == 0
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize(
    ("twilio_status", "error_code", "expected"),
    [(500, 20500, (502, "provider_unavailable")), (400, 21211, (409, "not_callable"))],
)
def test_a_callback_twilio_does_not_place_fails_on_the_case_and_stays_pending(
    memory_store, clock, twilio_status, error_code, expected
):
    from chalicelib.domain import voice
    from chalicelib.domain.errors import ServiceError
    from chalicelib.domain.model import Actor, Practitioner
    from chalicelib.wiring import dialer

    calls_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    responses.post(calls_url, status=twilio_status, json={"code": error_code, "message": "x"})
    case_id = open_case(memory_store, clock)
    memory_store.request_callback(case_id, CITIZEN.value, clock())
    memory_store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    with pytest.raises(ServiceError) as refused:
        voice.start_callback(
            deps_of(memory_store, clock, urls=by_ref(callback), calls=dialer(twilio_settings())),
            case_id,
            Actor("anna", "practitioner"),
        )
    assert (refused.value.status, refused.value.code) == expected
    [attempt] = [i for i in memory_store.timeline(case_id) if i.channel == "voice"]
    assert (attempt.direction, attempt.status) == ("out", "failed")
    assert memory_store.get_case(case_id).callback_number == CITIZEN.value  # still to do


def test_an_opted_out_number_is_never_sent_to(memory_store, clock):
    case_id = open_case(memory_store, clock)
    stop = InboundMessage(
        "sms", "twilio", "SM" + "2" * 32, CITIZEN, "+4570203040", "STOP", keyword="stop"
    )
    intake.receive(deps_of(memory_store, clock, hours=demo_hours()), stop)
    with responses.RequestsMock() as http:  # any HTTP call would fail the test
        with pytest.raises(Conflict) as refused:
            delivery.send_sms(
                deps_of(memory_store, clock, sms=sms_sender(twilio_settings())), case_id, "Hi"
            )
        assert not http.calls
    assert refused.value.code == "opted_out"


def test_unknown_case(memory_store, clock):
    with pytest.raises(NotFound):
        delivery.send_sms(deps_of(memory_store, clock, sms=LocalOutbox()), "nope", "Hi")


def test_status_reports_move_forward_only(memory_store, clock):
    case_id = open_case(memory_store, clock)
    sent = delivery.send_sms(deps_of(memory_store, clock, sms=LocalOutbox()), case_id, "Hi")
    ref = f"{case_id}.{sent.interaction_id}"
    deps = deps_of(memory_store, clock)
    assert delivery.record_status(deps, ref, "sent", "SM1", None)
    assert delivery.record_status(deps, ref, "delivered", "SM1", None)
    assert not delivery.record_status(deps, ref, "sent", "SM1", None)
    assert not delivery.record_status(deps, ref, "delivered", "SM1", None)
    assert not delivery.record_status(deps, ref, "made-up", "SM1", None)
    assert not delivery.record_status(deps, "garbage", "sent", "SM1", None)
    assert not delivery.record_status(deps, f"{case_id}.missing", "sent", "SM1", None)
    [reply] = [i for i in memory_store.timeline(case_id) if i.id == sent.interaction_id]
    assert reply.status == "delivered"


@responses.activate
def test_a_callback_through_twilio_rings_the_practitioner_then_bridges_the_citizen(
    memory_store, clock
):
    from chalicelib.domain import voice
    from chalicelib.domain.model import Actor, Practitioner
    from chalicelib.wiring import dialer

    calls_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    responses.post(calls_url, status=201, json={"sid": "CA" + "e" * 32, "status": "queued"})
    case_id = open_case(memory_store, clock)
    memory_store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    made = voice.start_callback(
        deps_of(memory_store, clock, urls=by_ref(callback), calls=dialer(twilio_settings())),
        case_id,
        Actor("anna", "practitioner"),
    )
    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == ["+4540000001"] and form["From"] == ["+4570203040"]
    dial = ET.fromstring(form["Twiml"][0]).find("Dial")
    assert dial.text == CITIZEN.value and dial.get("callerId") == "+4570203040"
    assert form["StatusCallback"] == [callback(f"{case_id}.{made.id}")]
    assert (made.status, made.provider_id) == ("queued", "CA" + "e" * 32)
