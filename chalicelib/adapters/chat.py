"""The chat "sender": a message to a web chat is written into its conversation, where the long
poll (`GET /chat/conversations/{token}/messages`) reads it, and, when the deployed stage has a
WebSocket API (`CHAT_WEBSOCKET_ENDPOINT`), pushed to the conversation's open connections too."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from chalicelib.adapters.senders import Sent

if TYPE_CHECKING:
    from chalicelib.domain.model import ChatMessage
    from chalicelib.domain.ports import ChatStore


class ChatOutbox:
    def __init__(self, store: ChatStore) -> None:
        self._store = store

    def send_chat(self, conversation_id: str, message: ChatMessage) -> Sent:
        self._store.add_chat_message(conversation_id, message)
        return Sent("chat", "CHAT" + secrets.token_hex(8), "delivered")
