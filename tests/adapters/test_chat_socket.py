"""The chat's WebSocket handlers (deployed only), driven by synthetic API Gateway events through
Chalice's own WebSocket handler, against DynamoDB Local; the push goes to a stubbed
`apigatewaymanagementapi` client (botocore's Stubber), so nothing leaves the machine."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from chalice import Chalice
from chalice.app import WebsocketEvent, WebsocketEventSourceHandler

from chalicelib.domain import casework, chat
from chalicelib.domain.model import Actor, Identity
from chalicelib.routes import chat_socket
from chalicelib.wiring import reset_services

ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/api"


def event(route: str, connection_id: str, token: str | None = None) -> dict[str, Any]:
    """What API Gateway sends a WebSocket route's Lambda."""
    return {
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "stage": "api",
            "apiId": "abc123",
        },
        "queryStringParameters": {"token": token} if token is not None else None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def sockets(local_services, monkeypatch):
    """The services with a WebSocket endpoint and a stubbed management client; the handlers."""
    client = boto3.client("apigatewaymanagementapi", region_name="eu-west-1", endpoint_url=ENDPOINT)
    stub = Stubber(client)
    services = replace(
        local_services, settings=replace(local_services.settings, chat_websocket_endpoint=ENDPOINT)
    )
    services._sockets = client
    reset_services(services)
    app = Chalice("socket-test")
    app.experimental_feature_flags.update(["WEBSOCKETS"])
    app.register_blueprint(chat_socket.bp)

    def call(route: str, connection_id: str, token: str | None = None) -> Any:
        handler = app.websocket_handlers[route].handler_function
        if not isinstance(handler, WebsocketEventSourceHandler):
            handler = WebsocketEventSourceHandler(handler, WebsocketEvent, app.websocket_api)
        return handler(event(route, connection_id, token), None)

    with stub:
        yield services, stub, call
    reset_services(None)


def test_a_reply_is_pushed_to_the_open_socket_and_a_gone_one_is_forgotten(sockets):
    services, stub, call = sockets
    started = chat.start(services, "198.51.100.1", "da", "hej")
    assert call("$connect", "conn-1", started.token) == {"statusCode": 200}
    assert call("$connect", "conn-2", started.token) == {"statusCode": 200}
    case_id = services.store.find_identity(
        Identity("chat", chat.find(services, started.token).id)
    ).open_case_id
    stub.add_response("post_to_connection", {}, {"ConnectionId": "conn-1", "Data": ANY})
    stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
    latest = services.store.get_case(case_id, with_timeline=True).timeline[-1].id
    casework.reply(services, case_id, Actor("boss", "manager"), "Hej med dig", seen=latest)
    stub.assert_no_pending_responses()
    conversation = chat.find(services, started.token).id
    assert services.store.chat_connections(conversation) == ["conn-1"]  # conn-2 was gone


def test_an_unknown_or_ended_token_cannot_connect_and_a_disconnect_forgets_it(sockets):
    services, _, call = sockets
    assert call("$connect", "conn-x", "not-a-token") == {"statusCode": 403}
    assert call("$connect", "conn-y", None) == {"statusCode": 403}
    started = chat.start(services, "198.51.100.2", "da", None)
    conversation = chat.find(services, started.token).id
    assert call("$connect", "conn-z", started.token) == {"statusCode": 200}
    call("$disconnect", "conn-z")
    assert services.store.chat_connections(conversation) == []
    chat.end(services, started.token)
    assert call("$connect", "conn-w", started.token) == {"statusCode": 403}


def test_what_is_pushed_is_what_the_long_poll_answers(sockets):
    services, stub, call = sockets
    started = chat.start(services, "198.51.100.3", "en", "hi")
    call("$connect", "conn-1", started.token)
    pushed: list[bytes] = []
    client = services._sockets
    client.meta.events.register(
        "before-parameter-build.apigatewaymanagementapi.PostToConnection",
        lambda params, **_: pushed.append(params["Data"]),
    )
    stub.add_response("post_to_connection", {})
    case_id = services.store.find_identity(
        Identity("chat", chat.find(services, started.token).id)
    ).open_case_id
    latest = services.store.get_case(case_id, with_timeline=True).timeline[-1].id
    casework.reply(services, case_id, Actor("boss", "manager"), "<b>Hello</b>", seen=latest)
    [message] = json.loads(pushed[0])["messages"] if pushed else [None]
    found, _ = chat.messages(services, started.token, None, 0)
    assert message == {
        "id": found[-1].id,
        "seq": found[-1].seq,  # the poll's cursor, as the long poll numbers it
        "at": message["at"],
        "from": "practitioner",
        "body": "<b>Hello</b>",
    }
