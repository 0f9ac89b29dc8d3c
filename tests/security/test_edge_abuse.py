"""Toll fraud and abuse: we text and call only the countries on the allow-list, the phone menu
takes a bounded number of callback requests, and the public routes are throttled."""

from __future__ import annotations

import json

import pytest
import responses

from chalicelib.config import load_settings
from chalicelib.domain import delivery, intake
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Identity, InboundMessage, Practitioner
from tests.conftest import bearer, deps_of
from tests.twilio_fakes import call_form, new_sid, signed

ACCOUNT = "AC" + "a" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
ABROAD = "+882100000001"  # an international premium-rate range
DANISH = "+4520000001"
VOICE = "/webhooks/twilio/voice"


def twilio_settings(**extra: str):
    return load_settings(
        {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": "secret",
            "TWILIO_FROM_NUMBER": "+4570203040",
            **extra,
        }
    )


def open_case(store, clock, number: str) -> str:
    message = InboundMessage(
        "sms", "twilio", new_sid(), Identity("phone", number), "+4570203040", "hello"
    )
    return intake.receive(deps_of(store, clock, hours=demo_hours()), message).case_id


def test_the_allow_list_defaults_to_denmark_and_is_configurable():
    assert load_settings({}).allowed_country_codes == ("+45",)
    assert load_settings({"ALLOWED_COUNTRY_CODES": "+45, 46"}).allowed_country_codes == (
        "+45",
        "+46",
    )
    with pytest.raises(ValueError):
        load_settings({"ALLOWED_COUNTRY_CODES": "+45,denmark"})


@responses.activate
def test_an_sms_to_a_refused_country_never_reaches_twilio_and_fails_visibly(moto_store, clock):
    from chalicelib.adapters.senders import sms_sender

    responses.post(MESSAGES_URL, json={"sid": "SM" + "0" * 32, "status": "queued"})
    case_id = open_case(moto_store, clock, ABROAD)
    sender = sms_sender(twilio_settings())
    sent = delivery.send_sms(deps_of(moto_store, clock, sms=sender), case_id, "Hi")
    assert sent.status == "failed"
    [reply] = [i for i in moto_store.timeline(case_id) if i.id == sent.interaction_id]
    assert (reply.status, reply.error_code) == ("failed", "rejected: country-not-allowed")
    assert len(responses.calls) == 0
    # and a number in an allowed country still goes out
    other = open_case(moto_store, clock, DANISH)
    assert delivery.send_sms(deps_of(moto_store, clock, sms=sender), other, "Hi").status == "queued"
    assert len(responses.calls) == 1


@responses.activate
def test_a_configured_country_is_texted(moto_store, clock):
    from chalicelib.adapters.senders import sms_sender

    responses.post(MESSAGES_URL, json={"sid": "SM" + "0" * 32, "status": "queued"})
    case_id = open_case(moto_store, clock, "+4670000001")
    sender = sms_sender(twilio_settings(ALLOWED_COUNTRY_CODES="+45,+46"))
    assert delivery.send_sms(deps_of(moto_store, clock, sms=sender), case_id, "Hej").status == (
        "queued"
    )


@responses.activate
def test_a_callback_to_a_refused_country_is_409_not_callable_and_never_dialled(moto_store, clock):
    from chalicelib.domain import voice
    from chalicelib.domain.errors import Conflict
    from chalicelib.domain.model import Actor
    from chalicelib.wiring import dialer

    responses.post(CALLS_URL, json={"sid": "CA" + "0" * 32, "status": "queued"})
    case_id = open_case(moto_store, clock, DANISH)
    moto_store.request_callback(case_id, ABROAD, clock())
    moto_store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    with pytest.raises(Conflict) as refused:
        voice.start_callback(
            deps_of(moto_store, clock, calls=dialer(twilio_settings())),
            case_id,
            Actor("anna", "practitioner"),
        )
    assert refused.value.code == "not_callable"
    assert len(responses.calls) == 0
    [attempt] = [i for i in moto_store.timeline(case_id) if i.channel == "voice"]
    assert (attempt.status, attempt.error_code) == ("failed", "rejected: country-not-allowed")


def test_the_callback_route_answers_409_for_a_refused_country(api, local_services, clock):
    store = local_services.store
    case_id = open_case(store, clock, DANISH)
    store.request_callback(case_id, ABROAD, clock())
    store.create_practitioner(
        Practitioner("anna", "Anna", ("general",), ("da",), 5, phone="+4540000001")
    )
    answer = api.post(f"/cases/{case_id}/callback", headers=bearer("anna", "practitioner"))
    assert answer.status_code == 409, answer.body
    assert json.loads(answer.body)["error"]["code"] == "not_callable"


# --- the phone menu -------------------------------------------------------------------------


def post(api, path: str, form: dict):
    import xml.etree.ElementTree as ET

    answer = api.post(path, **signed(path, form))
    assert answer.status_code == 200, answer.body
    return ET.fromstring(answer.body)


def said(root) -> str:
    return " ".join(e.text or "" for e in root.iter("Say"))


def ask_for_callback(api, caller: str, digits: str):
    """An English-speaking caller (the steps carry `en`) asks to be called back on `digits`."""
    sid = new_sid("CA")
    post(api, VOICE, call_form(caller, sid))
    post(
        api,
        f"{VOICE}/menu?step=en.offer-closed-1",
        call_form(caller, sid, "in-progress", Digits="2"),
    )
    return post(
        api,
        f"{VOICE}/menu?step=en.callback-1",
        call_form(caller, sid, "in-progress", Digits=digits),
    )


def case_of(store, number: str):
    record = store.find_identity(Identity("phone", number))
    return store.get_case(record.open_case_id, with_timeline=True)


def test_the_phone_menu_refuses_a_callback_to_another_country(api, local_services, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    bye = ask_for_callback(api, DANISH, ABROAD.removeprefix("+"))
    assert "only call back numbers in our own country" in said(bye)
    assert bye.find("Hangup") is not None
    case = case_of(local_services.store, DANISH)
    assert case.callback_number is None
    assert not [i for i in case.timeline if i.status == "callback-requested"]


def test_a_foreign_caller_cannot_book_a_callback_on_their_own_number(api, local_services, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    bye = ask_for_callback(api, ABROAD, "1")
    assert "only call back numbers in our own country" in said(bye)
    assert case_of(local_services.store, ABROAD).callback_number is None


def test_a_case_holds_one_pending_callback_request(api, local_services, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    assert "will call you back" in said(ask_for_callback(api, DANISH, "1"))
    again = ask_for_callback(api, DANISH, "4531313131")
    assert "already have your callback request" in said(again)
    case = case_of(local_services.store, DANISH)
    assert case.callback_number == DANISH
    assert len([i for i in case.timeline if i.status == "callback-requested"]) == 1


def test_a_number_gets_at_most_three_callback_requests_a_day(api, local_services, clock):
    clock.set_local(2026, 11, 23, 22, 0)
    target = "4531313131"
    callers = [f"+452000010{n}" for n in range(5)]
    answers = [said(ask_for_callback(api, caller, target)) for caller in callers]
    assert [("will call you back" in a) for a in answers] == [True, True, True, False, False]
    assert "more callback requests for this number today" in answers[3]
    assert case_of(local_services.store, callers[3]).callback_number is None
    clock.set_local(2026, 11, 25, 22, 0)  # a new day
    assert "will call you back" in said(ask_for_callback(api, "+4520000200", target))


# --- API Gateway throttling -----------------------------------------------------------------

from tests.integration.test_package import deployed, template  # noqa: E402, F401  (fixtures)


def test_the_public_routes_have_their_own_tighter_throttles():
    import app as application
    from scripts.package import DEFAULT_THROTTLE, PUBLIC_THROTTLES, merged_infra

    settings = merged_infra()["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    by_path = {(s["HttpMethod"], s["ResourcePath"]): s for s in settings}
    assert by_path[("*", "/*")]["ThrottlingRateLimit"] == DEFAULT_THROTTLE[0]
    for (method, path), (rate, burst) in PUBLIC_THROTTLES.items():
        assert method in application.app.routes[path], path  # a real route, not a typo
        setting = by_path[(method, "/" + path.replace("/", "~1"))]
        assert (setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]) == (rate, burst)
        assert rate <= DEFAULT_THROTTLE[0] and burst <= DEFAULT_THROTTLE[1]
    for path in ("/webinars/{webinar_id}/bookings", "/bookings/{token}/cancel"):
        assert PUBLIC_THROTTLES[("POST", path)][0] <= 5


def test_the_deployed_stage_carries_the_throttles(deployed):  # noqa: F811
    stages = [
        r["Properties"]
        for r in deployed["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Stage"
    ]
    [stage] = stages
    paths = {s["ResourcePath"]: s for s in stage["MethodSettings"]}
    booking = paths["/~1webinars~1{webinar_id}~1bookings"]
    assert (booking["HttpMethod"], booking["ThrottlingRateLimit"]) == ("POST", 2)
    assert paths["/*"]["ThrottlingBurstLimit"] == 100


def test_an_sms_from_a_refused_country_is_recorded_but_gets_no_automatic_reply(api, local_services):
    import xml.etree.ElementTree as ET

    from tests.twilio_fakes import sms_form

    path = "/webhooks/twilio/sms"
    answer = api.post(path, **signed(path, sms_form(ABROAD, "hello from abroad")))
    assert answer.status_code == 200, answer.body
    assert ET.fromstring(answer.body).findall("Message") == []
    case = case_of(local_services.store, ABROAD)
    assert [(i.direction, i.body) for i in case.timeline] == [("in", "hello from abroad")]
    # a Danish number still gets its acknowledgement
    danish = api.post(path, **signed(path, sms_form(DANISH, "hej")))
    assert len(ET.fromstring(danish.body).findall("Message")) == 1


def test_a_deployment_sets_its_countries_as_a_stack_parameter():
    """A service outside Denmark (or one that also texts Sweden) must not need a code change:
    the allow-list is a parameter of the stack, and every function receives it."""
    from scripts.package import merged_infra

    infra = merged_infra()
    assert infra["Parameters"]["AllowedCountryCodes"]["Default"] == ""  # empty: +45
    variables = infra["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ALLOWED_COUNTRY_CODES"] == {"Ref": "AllowedCountryCodes"}
