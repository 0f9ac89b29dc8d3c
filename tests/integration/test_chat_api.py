"""Web chat over HTTP (Chalice's test client) against DynamoDB Local: a citizen's conversation is
a case like any other, answered from the inbox with the same reply route."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain import casework
from chalicelib.domain.model import Actor, Practitioner
from tests.conftest import bearer, seen
from tests.twilio_fakes import signed, sms_form

ANNA = bearer("anna", "practitioner")
JSON = {"Content-Type": "application/json"}


def post(api: Any, path: str, body: dict[str, Any] | None = None, headers: dict | None = None):
    data = json.dumps(body) if body is not None else None
    extra = {**(JSON if body is not None else {}), **(headers or {})}
    answer = api.post(path, body=data, headers=extra) if data else api.post(path, headers=extra)
    return answer.status_code, json.loads(answer.body) if answer.body else None


def get(api: Any, path: str):
    answer = api.get(path)
    return answer.status_code, json.loads(answer.body)


def start(api: Any, **body: Any) -> dict[str, Any]:
    status, answer = post(api, "/chat/conversations", body)
    assert status == 201, answer
    return answer


def chat_case(store: Any) -> dict[str, Any]:
    items = store.client.scan(TableName=store.table)["Items"]
    [case] = [
        i for i in items if i.get("type", {}).get("S") == "case" and i["channel"]["S"] == "chat"
    ]
    return {k: next(iter(v.values())) for k, v in case.items()}


@pytest.fixture
def anna(local_services):
    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da", "en"), 60))
    store.go_on_duty("anna", local_services.clock())


def test_a_chat_is_a_case_answered_from_the_inbox_with_the_same_reply_route(
    api, anna, local_services
):
    started = start(api, language="en", body="Hi, I want to become a nurse")
    token = started["token"]
    assert started["open_now"] is True and started["next_opening"] is None
    assert len(token) >= 40 and started["message"]["from"] == "citizen"

    status, seen_by_citizen = get(api, f"/chat/conversations/{token}/messages?wait=0")
    assert status == 200
    assert [(m["from"], m["body"]) for m in seen_by_citizen["messages"]] == [
        ("citizen", "Hi, I want to become a nurse"),
        ("service", seen_by_citizen["messages"][1]["body"]),
    ]
    assert "counsellor" in seen_by_citizen["messages"][1]["body"]  # in the chosen language

    case = chat_case(local_services.store)
    assert case["assignee"] == "anna" and case["language"] == "en"
    inbox = json.loads(api.get("/inbox?channel=chat", headers=ANNA).body)
    assert [c["id"] for c in inbox["cases"]] == [case["id"]]
    status, reply = post(
        api,
        f"/cases/{case['id']}/replies",
        {"body": "Hello! <b>Sure</b>", "seen": seen(case["id"])},
        ANNA,
    )
    assert status == 201 and reply["status"] == "delivered"

    last = seen_by_citizen["messages"][-1]["seq"]
    status, new = get(api, f"/chat/conversations/{token}/messages?after={last}&wait=0")
    assert [(m["from"], m["body"]) for m in new["messages"]] == [
        ("practitioner", "Hello! <b>Sure</b>")
    ]
    assert new["messages"][0]["id"] == reply["id"]  # the case's timeline entry and the chat's line

    status, said = post(api, f"/chat/conversations/{token}/messages", {"body": "Thanks"})
    assert status == 201 and set(said) == {"id", "at"}
    detail = json.loads(api.get(f"/cases/{case['id']}", headers=ANNA).body)
    assert [(e["channel"], e["direction"]) for e in detail["timeline"]] == [
        ("chat", "in"),
        ("chat", "out"),
        ("chat", "out"),
        ("chat", "in"),
    ]


def test_an_ended_or_unknown_token_is_404_and_says_nothing_more(api, anna):
    token = start(api, body="hello")["token"]
    assert post(api, f"/chat/conversations/{token}/end")[0] == 204
    answers = []
    for probe in (token, "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        for method, path in (
            ("GET", f"/chat/conversations/{probe}/messages?wait=0"),
            ("POST", f"/chat/conversations/{probe}/messages"),
            ("POST", f"/chat/conversations/{probe}/typing"),
            ("POST", f"/chat/conversations/{probe}/end"),
        ):
            if method == "GET":
                answers.append(get(api, path))
            else:
                body = {"body": "hi"} if path.endswith("/messages") else None
                answers.append(post(api, path, body))
    assert {status for status, _ in answers} == {404}
    assert {json.dumps(body) for _, body in answers} == {
        json.dumps({"error": {"code": "not_found", "message": "No such conversation."}})
    }


def test_out_of_hours_the_chat_says_when_it_opens_in_the_citizens_language(api, anna, clock):
    clock.set_local(2026, 11, 24, 22, 0)  # Tuesday evening: closed until Wednesday morning
    started = start(api, language="da", body="Hej, er der nogen?")
    assert started["open_now"] is False and started["next_opening"].startswith("2026-11-25T")
    assert "i morgen" in started["notice"]
    _, seen_by_citizen = get(api, f"/chat/conversations/{started['token']}/messages?wait=0")
    assert "i morgen" in seen_by_citizen["messages"][-1]["body"]
    assert seen_by_citizen["messages"][-1]["from"] == "service"


def test_a_retried_out_of_hours_notice_is_still_from_the_service(
    api, anna, clock, local_services, monkeypatch
):
    from chalicelib.adapters.chat import ChatOutbox
    from chalicelib.domain import delivery

    clock.set_local(2026, 11, 24, 22, 0)
    sends = ChatOutbox.send_chat
    down = [True]

    def fails_once(self, conversation_id, message):
        if down.pop() if down else False:
            raise ConnectionError("the store's endpoint timed out")
        return sends(self, conversation_id, message)

    monkeypatch.setattr(ChatOutbox, "send_chat", fails_once)
    token = start(api, language="da", body="Hej, er der nogen?")["token"]
    clock.at += timedelta(minutes=2)
    assert delivery.retry_due(local_services)["sent"] == 1
    _, seen_by_citizen = get(api, f"/chat/conversations/{token}/messages?wait=0")
    [notice] = [m for m in seen_by_citizen["messages"] if "i morgen" in m["body"]]
    assert notice["from"] == "service"


def test_a_reply_wakes_a_waiting_long_poll_well_before_its_deadline(api, anna, local_services):
    token = start(api, body="Is anyone there?")["token"]
    _, first = get(api, f"/chat/conversations/{token}/messages?wait=0")
    last = first["messages"][-1]["seq"]
    case_id = chat_case(local_services.store)["id"]
    woke: dict[str, Any] = {}

    def wait_for_it() -> None:
        began = time.monotonic()
        woke["answer"] = get(api, f"/chat/conversations/{token}/messages?after={last}&wait=15")
        woke["seconds"] = time.monotonic() - began

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(1.0)
    # the practitioner's reply in another "Lambda" (the test client serves one request at a time)
    anna_ = Actor("anna", "practitioner")
    casework.reply(local_services, case_id, anna_, "Yes, I am here", seen=seen(case_id))
    waiter.join(20)
    status, answer = woke["answer"]
    assert status == 200 and [m["body"] for m in answer["messages"]] == ["Yes, I am here"]
    assert 1.0 <= woke["seconds"] < 3.0


def test_a_poll_with_nothing_new_is_held_no_longer_than_the_deployment_allows(api, local_services):
    # a conversation opened without a first message has nothing to answer: the poll waits
    local_services.settings = replace(local_services.settings, chat_poll_seconds=0.5)
    token = start(api)["token"]
    for query in ("", "?wait=20", "?after=0&wait=20"):
        began = time.monotonic()
        status, answer = get(api, f"/chat/conversations/{token}/messages{query}")
        assert status == 200 and answer == {"messages": [], "typing": False}
        assert 0.2 <= time.monotonic() - began < 2.0, query


def test_each_side_sees_the_other_typing_for_a_few_seconds(api, anna, local_services, clock):
    token = start(api, body="hi")["token"]
    case_id = chat_case(local_services.store)["id"]
    _, before = get(api, f"/chat/conversations/{token}/messages?wait=0")
    last = before["messages"][-1]["seq"]
    assert before["typing"] is False
    assert post(api, f"/chat/conversations/{token}/typing")[0] == 204
    assert post(api, f"/cases/{case_id}/presence", {"activity": "writing"}, ANNA)[0] == 200
    _, during = get(api, f"/chat/conversations/{token}/messages?after={last}&wait=0")
    assert during == {"messages": [], "typing": True}
    detail = json.loads(api.get(f"/cases/{case_id}", headers=ANNA).body)
    assert detail["others"] == [{"user_id": "citizen", "activity": "writing"}]
    clock.at += timedelta(seconds=6)
    _, after = get(api, f"/chat/conversations/{token}/messages?after={last}&wait=0")
    assert after["typing"] is False


def test_a_practitioner_starting_to_write_wakes_a_waiting_long_poll_and_so_does_stopping(
    api, anna, local_services, clock
):
    token = start(api, body="Is anyone there?")["token"]
    _, first = get(api, f"/chat/conversations/{token}/messages?wait=0")
    poll = f"/chat/conversations/{token}/messages?after={first['messages'][-1]['seq']}&wait=15"
    case_id = chat_case(local_services.store)["id"]
    woke: dict[str, Any] = {}

    def wait_for_it() -> None:
        began = time.monotonic()
        woke["answer"] = get(api, poll + "&typing=false")  # the widget shows no typing yet
        woke["seconds"] = time.monotonic() - began

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(1.0)
    casework.mark_presence(local_services, case_id, Actor("anna", "practitioner"), "writing")
    waiter.join(20)
    assert woke["answer"] == (200, {"messages": [], "typing": True})
    assert woke["seconds"] < 3.0  # not held to its 15 s: typing lasts only 5 s
    clock.at += timedelta(seconds=6)
    began = time.monotonic()
    assert get(api, poll + "&typing=true") == (200, {"messages": [], "typing": False})
    assert time.monotonic() - began < 3.0


def test_out_of_hours_with_consent_the_answer_goes_by_sms_and_the_reply_threads_back(
    api, anna, local_services, clock
):
    clock.set_local(2026, 11, 24, 22, 0)
    token = start(api, language="da", body="Kan I skrive til mig i morgen?")["token"]
    case_id = chat_case(local_services.store)["id"]
    before = json.loads(api.get(f"/cases/{case_id}", headers=ANNA).body)["reply_to"]
    assert before == {"channel": "chat", "address": None}  # never the conversation's id
    refused = post(api, f"/chat/conversations/{token}/follow-up", {"sms": "+4520001234"})
    assert refused[0] == 400  # no consent, no address kept
    assert (
        post(
            api, f"/chat/conversations/{token}/follow-up", {"consent": True, "sms": "+4520001234"}
        )[0]
        == 204
    )
    after = json.loads(api.get(f"/cases/{case_id}", headers=ANNA).body)["reply_to"]
    assert after == {"channel": "sms", "address": "+4520001234"}  # the practitioner sees where

    clock.set_local(2026, 11, 25, 9, 30)
    status, reply = post(
        api, f"/cases/{case_id}/replies", {"body": "Godmorgen!", "seen": seen(case_id)}, ANNA
    )
    assert status == 201 and reply["status"] == "local"  # sent as an SMS (the local outbox)
    api.post(
        "/webhooks/twilio/sms",
        **signed("/webhooks/twilio/sms", sms_form("+4520001234", "Tak for svaret")),
    )
    detail = json.loads(api.get(f"/cases/{case_id}", headers=ANNA).body)
    assert [(e["channel"], e["direction"], e["body"]) for e in detail["timeline"]][-2:] == [
        ("sms", "out", "Godmorgen!"),
        ("sms", "in", "Tak for svaret"),
    ]


def test_a_number_someone_already_uses_never_joins_or_reveals_their_case(
    api, anna, local_services, clock
):
    api.post(
        "/webhooks/twilio/sms",
        **signed("/webhooks/twilio/sms", sms_form("+4520009999", "Mit eget spørgsmål")),
    )
    token = start(api, language="da", body="Hej")["token"]
    answer = post(
        api, f"/chat/conversations/{token}/follow-up", {"consent": True, "sms": "+4520009999"}
    )
    assert answer == (204, None)  # the same answer as for a new number
    api.post(
        "/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form("+4520009999", "Igen"))
    )
    chat_case_id = chat_case(local_services.store)["id"]
    detail = json.loads(api.get(f"/cases/{chat_case_id}", headers=ANNA).body)
    assert "Igen" not in [e["body"] for e in detail["timeline"]]
    _, seen_by_citizen = get(api, f"/chat/conversations/{token}/messages?wait=0")
    assert "Mit eget" not in json.dumps(seen_by_citizen) and "Igen" not in json.dumps(
        seen_by_citizen
    )


@pytest.mark.parametrize(
    "body",
    [
        {"consent": True, "sms": "+4520001234", "email": "a@example.com"},
        {"consent": True},
        {"consent": False, "email": "a@example.com"},
        {"consent": True, "email": "not an address"},
        {"consent": True, "sms": "20001234"},
        {"consent": True, "email": "a@example.com\nBcc: b@example.com"},
    ],
)
def test_a_follow_up_without_consent_or_with_a_bad_address_is_a_400(api, body):
    token = start(api, body="hi")["token"]
    assert post(api, f"/chat/conversations/{token}/follow-up", body)[0] == 400


def test_a_number_abroad_is_refused_for_a_follow_up(api):
    token = start(api, body="hi")["token"]
    status, answer = post(
        api, f"/chat/conversations/{token}/follow-up", {"consent": True, "sms": "+8821234567"}
    )
    assert status == 400 and answer["error"]["code"] == "country_not_allowed"


def test_erasing_a_chat_citizen_erases_the_widgets_copy_too(api, anna, local_services):
    token = start(api, body="Mit navn er Sofie og jeg bor i Vejle")["token"]
    contact = chat_case(local_services.store)["contact_id"]
    assert (
        api.post(f"/contacts/{contact}/erase", headers=bearer("boss", "manager")).status_code == 200
    )
    table = json.dumps(local_services.store.client.scan(TableName=local_services.store.table))
    assert "Sofie" not in table
    _, answer = get(api, f"/chat/conversations/{token}/messages?wait=0")
    assert "Sofie" not in json.dumps(answer)


def test_out_of_hours_a_chat_at_risk_gets_the_crisis_lines_in_the_conversation(
    api, anna, clock, local_services
):
    clock.set_local(2026, 11, 24, 23, 0)  # closed: nobody will read it before morning
    started = start(api, language="da", body="jeg har samlet piller og vil tage dem alle i aften")
    _, seen_by_citizen = get(api, f"/chat/conversations/{started['token']}/messages?wait=0")
    said = [m["body"] for m in seen_by_citizen["messages"] if m["from"] == "service"]
    assert any("ring 112" in body and "Livslinien 70 201 201" in body for body in said)
    assert chat_case(local_services.store)["risk"]["level"]["S"] == "high"
