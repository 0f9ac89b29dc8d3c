"""The chat "sender": a message to a web chat is written into its conversation, where the long
poll (`GET /chat/conversations/{token}/messages`) reads it, and, when the deployed stage has a
WebSocket API (`CHAT_WEBSOCKET_ENDPOINT`), pushed to the conversation's open connections too.
The push is a courtesy: a connection that is gone is forgotten, any other failure is logged, and
the widget's long poll still delivers the message."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.senders import Sent

if TYPE_CHECKING:
    from chalicelib.domain.model import ChatMessage
    from chalicelib.domain.ports import ChatStore

log = logging.getLogger("contact-centre")


class ChatOutbox:
    def __init__(
        self,
        store: ChatStore,
        sockets: Any = None,
        render: Callable[[ChatMessage], str] | None = None,
    ) -> None:
        """`sockets`: an `apigatewaymanagementapi` client (deployed), `render`: a message as
        the widget reads it (JSON)."""
        self._store = store
        self._sockets = sockets
        self._render = render

    def send_chat(self, conversation_id: str, message: ChatMessage) -> Sent:
        message = self._store.add_chat_message(conversation_id, message)
        if self._sockets is not None and self._render is not None:
            self._push(conversation_id, self._render(message))
        return Sent("chat", "CHAT" + secrets.token_hex(8), "delivered")

    def _push(self, conversation_id: str, data: str) -> None:
        sockets = self._sockets
        for connection_id in self._store.chat_connections(conversation_id):
            try:
                sockets.post_to_connection(ConnectionId=connection_id, Data=data.encode())
            except sockets.exceptions.GoneException:
                self._store.remove_chat_connection(connection_id)
            except Exception as error:
                log.warning("chat push failed", extra={"error": type(error).__name__})
