"""The web chat's WebSocket API (deployed only): a widget connects with its token
(`wss://...?token=...`) and gets new messages pushed; the REST long poll stays the contract
everywhere (local stack, tests, any proxy), and is what a widget falls back to."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

bp = Blueprint(__name__)


@bp.on_ws_connect()
def chat_socket_connect(event: Any) -> dict[str, int]:
    from chalicelib.domain import chat
    from chalicelib.domain.errors import ServiceError
    from chalicelib.wiring import services

    token = (event.to_dict().get("queryStringParameters") or {}).get("token") or ""
    try:
        chat.connect(services(), token[:256], event.connection_id)
    except ServiceError:
        return {"statusCode": 403}  # unknown or ended: the connection is refused
    return {"statusCode": 200}


@bp.on_ws_message()
def chat_socket_message(event: Any) -> None:
    """Nothing is taken over the socket: messages are POSTed (validated, rate-limited)."""


@bp.on_ws_disconnect()
def chat_socket_disconnect(event: Any) -> None:
    from chalicelib.domain import chat
    from chalicelib.wiring import services

    chat.disconnect(services(), event.connection_id)
