"""The public chat routes as an attacker sees them: every refusal a clear 4xx, limits counted on
API Gateway's source address (never on a header the sender writes), tokens that reveal nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.domain import chat
from tests.integration.test_chat_api import get, post, start

CHAT = "/chat/conversations"


@pytest.fixture
def source(monkeypatch):
    """Sets the address API Gateway reports for the next requests."""

    def use(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   "},
        {"body": "x" * 2001},
        {"body": "hi\u0000there"},
        {"body": "bell\u0007"},
        {"body": "esc \u001b[31m red"},
        {"body": "line\u2028separator"},
        {"body": ["a list"]},
        {"body": {"nested": {"deeper": "x"}}},
        {"body": "ok", "html": "<script>"},
        {},
    ],
)
def test_a_message_that_is_not_plain_text_within_the_limit_is_a_400(api, body):
    token = start(api)["token"]
    status, answer = post(api, f"{CHAT}/{token}/messages", body)
    assert status == 400, answer
    assert answer["error"]["code"] in ("invalid_field", "invalid_json")


def test_deeply_nested_or_huge_bodies_are_refused_before_anything_runs(api):
    token = start(api)["token"]
    deep = '{"body":' * 40 + '"x"' + "}" * 40
    answer = api.post(
        f"{CHAT}/{token}/messages", body=deep, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    huge = json.dumps({"body": "x" * 3_000_000})
    answer = api.post(
        f"{CHAT}/{token}/messages", body=huge, headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500
    status, _ = post(api, CHAT, {"language": "klingon"})
    assert status == 400


def test_line_breaks_and_markup_are_kept_as_text(api):
    token = start(api)["token"]
    status, _ = post(api, f"{CHAT}/{token}/messages", {"body": "<img src=x onerror=alert(1)>\nok"})
    assert status == 201
    _, seen = get(api, f"{CHAT}/{token}/messages?wait=0")
    assert seen["messages"][0]["body"] == "<img src=x onerror=alert(1)>\nok"


def test_tokens_are_unguessable_and_stored_only_as_a_hash(api, local_services):
    tokens = {start(api)["token"] for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 43 for t in tokens)
    table = json.dumps(local_services.store.client.scan(TableName=local_services.store.table))
    assert not any(token in table for token in tokens)


def test_open_conversations_per_address_are_bounded_and_ending_one_frees_a_place(api, source):
    source("203.0.113.7")
    tokens = [start(api)["token"] for _ in range(chat.MAX_OPEN_PER_SOURCE)]
    status, answer = post(api, CHAT, {})
    assert status == 429 and answer["error"]["code"] == "too_many_chats"
    source("203.0.113.8")  # another address is not affected
    assert post(api, CHAT, {})[0] == 201
    source("203.0.113.7")
    assert post(api, f"{CHAT}/{tokens[0]}/end")[0] == 204
    assert post(api, f"{CHAT}/{tokens[0]}/end")[0] == 404  # twice frees nothing more
    assert post(api, CHAT, {})[0] == 201
    assert post(api, CHAT, {})[0] == 429


def test_a_spoofed_forwarded_for_header_changes_nothing(api, source):
    source("198.51.100.1")
    for n in range(chat.MAX_OPEN_PER_SOURCE):
        headers = {"X-Forwarded-For": f"10.0.0.{n}", "X-Real-IP": f"10.0.1.{n}"}
        assert post(api, CHAT, {}, headers)[0] == 201
    refused = api.post(
        CHAT,
        body="{}",
        headers={"Content-Type": "application/json", "X-Forwarded-For": "10.9.9.9"},
    )
    assert refused.status_code == 429


def test_a_conversation_that_writes_too_fast_gets_429_with_retry_after(api):
    token = start(api)["token"]
    for n in range(chat.MESSAGES_PER_CONVERSATION_PER_MINUTE):
        assert post(api, f"{CHAT}/{token}/messages", {"body": f"m{n}"})[0] == 201
    answer = api.post(
        f"{CHAT}/{token}/messages",
        body=json.dumps({"body": "one more"}),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 429
    assert json.loads(answer.body)["error"]["code"] == "rate_limited"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60


def test_an_address_is_limited_across_its_conversations(api, source, monkeypatch):
    monkeypatch.setattr(chat, "MESSAGES_PER_SOURCE_PER_MINUTE", 5)
    source("192.0.2.44")
    tokens = [start(api)["token"] for _ in range(2)]
    sent: list[Any] = [
        post(api, f"{CHAT}/{tokens[n % 2]}/messages", {"body": "hi"})[0] for n in range(6)
    ]
    assert sent == [201] * 5 + [429]


def test_new_conversations_per_address_per_hour_are_limited(api, source, monkeypatch):
    monkeypatch.setattr(chat, "OPENS_PER_SOURCE_PER_HOUR", 2)
    source("192.0.2.99")
    for _ in range(2):
        token = start(api)["token"]
        assert post(api, f"{CHAT}/{token}/end")[0] == 204
    status, answer = post(api, CHAT, {})
    assert status == 429 and answer["error"]["code"] == "rate_limited"


def test_the_page_on_another_origin_may_call_the_chat_routes_without_credentials(api):
    answer = api.post(
        CHAT, body="{}", headers={"Content-Type": "application/json", "Origin": "https://x.example"}
    )
    assert answer.status_code == 201
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    inbox = api.get("/inbox", headers={"Origin": "https://x.example"})
    assert "Access-Control-Allow-Origin" not in inbox.headers  # staff routes stay same-origin
