"""Web chat: one partition per conversation (`CHAT#<id>`: `META`, `MSG#<id>` in time order,
`TYPING#<who>`), so the long poll's every look is one Query on it; the token is stored only as
its hash (`CHATTOKEN#<sha256>`), and each source's open conversations and rates are conditional
counters that expire (DynamoDB's TTL on `expires_at`)."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, delete, put, update
from chalicelib.adapters.dynamodb.codec import (
    case_key,
    contact_key,
    dump,
    identity_key,
    iso,
    parse_iso,
)
from chalicelib.adapters.dynamodb.inbound import NOT_ERASED
from chalicelib.domain.errors import Busy
from chalicelib.domain.model import ChatConversation, ChatMessage, Identity

TYPING = "TYPING#"
MAX_SEQ_ATTEMPTS = 20  # writers of one conversation racing for its next number


# The conversation's own item, its token's (by digest) and its source's count of open chats.
KEYS = {"chat": ("CHAT", "META"), "token": ("CHATTOKEN", "TOKEN"), "source": ("CHATSOURCE", "OPEN")}


def key(kind: str, name: str) -> dict[str, str]:
    prefix, sort = KEYS[kind]
    return {"pk": f"{prefix}#{name}", "sk": sort}


def _conversation(item: dict[str, Any]) -> ChatConversation:
    opened = parse_iso(item["opened_at"])
    assert opened is not None
    return ChatConversation(
        item["conversation_id"], item["language"], item["source"], opened, item["status"]
    )


class DynamoChat(StoreBase):
    def open_chat(
        self, conversation: ChatConversation, token_hash: str, most_open: int, expires: datetime
    ) -> bool:
        fields = {
            "conversation_id": conversation.id,
            "language": conversation.language,
            "source": conversation.source,
            "opened_at": iso(conversation.opened_at),
            "status": "open",
            "expires_at": int(expires.timestamp()),
            "type": "chat",
        }
        try:
            self._transact(
                [
                    (
                        "chat",
                        put(self.table, {**key("chat", conversation.id), "type": "chat", **fields}),
                    ),
                    ("token", put(self.table, {**key("token", token_hash), **fields})),
                    (
                        "source",
                        update(
                            self.table,
                            key("source", conversation.source),
                            "ADD #open :one SET expires_at = :expires, #type = :type",
                            {
                                ":one": 1,
                                ":most": most_open,
                                ":expires": int(expires.timestamp()),
                                ":type": "chat_source",
                            },
                            "attribute_not_exists(#open) OR #open < :most",
                            {"#open": "open", "#type": "type"},
                        ),
                    ),
                ]
            )
        except Cancelled as lost:
            if "source" in lost.failed:
                return False
            raise
        return True

    def chat_for_token(self, token_hash: str) -> ChatConversation | None:
        item = self._get(key("token", token_hash))
        return _conversation(item) if item and item["status"] == "open" else None

    def chat_is_open(self, conversation_id: str, now: datetime) -> bool:
        """Its browser has not ended it, and it has not lapsed (TTL deletes within days)."""
        item = self._get(key("chat", conversation_id))
        return bool(item and item["status"] == "open" and int(item["expires_at"]) > now.timestamp())

    def end_chat(self, conversation: ChatConversation, token_hash: str) -> bool:
        """The token is deleted (so it is 404 from now on) and the source's count freed, once."""
        try:
            self._transact(
                [
                    (
                        "token",
                        delete(
                            self.table,
                            key("token", token_hash),
                            "conversation_id = :id",
                            {":id": conversation.id},
                        ),
                    ),
                    (
                        "chat",
                        update(
                            self.table,
                            key("chat", conversation.id),
                            "SET #status = :ended",
                            {":ended": "ended"},
                            None,
                            {"#status": "status"},
                        ),
                    ),
                    (
                        "source",
                        update(
                            self.table,
                            key("source", conversation.source),
                            "ADD #open :minus",
                            {":minus": -1, ":zero": 0},
                            "#open > :zero",
                            {"#open": "open"},
                        ),
                    ),
                ]
            )
        except Cancelled as lost:
            if "token" in lost.failed:
                return False
            if "source" in lost.failed:  # its count lapsed already: end it all the same
                self._delete(
                    key("token", token_hash), "conversation_id = :id", {":id": conversation.id}
                )
                return True
            raise
        return True

    def add_chat_message(self, conversation_id: str, message: ChatMessage) -> ChatMessage:
        """The message under the conversation's next sequence number, in one transaction that
        also moves the conversation's `seq` from the number before: so number n is visible
        only once 1..n-1 are, and a poll `after` its cursor can never skip one that lands late
        (ids are times, and two writers' clocks disagree). A message written already (a retry
        of its send) keeps its number (`ID#<id>`)."""
        pk = f"CHAT#{conversation_id}"
        expires = int(message.at.timestamp()) + 2 * 86400  # the widget's copy, a day or two:
        # the case's timeline is the record, kept and scrubbed by retention like any other
        for attempt in range(MAX_SEQ_ATTEMPTS):
            head = self._get(key("chat", conversation_id)) or {}
            last = int(head.get("seq", 0))
            seq = last + 1
            try:
                self._transact(
                    [
                        ("seq", _next_seq(self.table, conversation_id, last)),
                        (
                            "id",
                            put(
                                self.table,
                                {
                                    "pk": pk,
                                    "sk": f"ID#{message.id}",
                                    "seq": seq,
                                    "expires_at": expires,
                                },
                            ),
                        ),
                        (
                            "message",
                            put(
                                self.table,
                                {
                                    "pk": pk,
                                    "sk": f"MSG#{seq:010d}",
                                    "type": "chat_message",
                                    "id": message.id,
                                    "seq": seq,
                                    "at": iso(message.at),
                                    "from": message.sender,
                                    "body": message.body,
                                    "card": message.card,
                                    "expires_at": expires,
                                },
                            ),
                        ),
                    ]
                )
            except Cancelled as lost:
                if "id" in lost.failed:
                    kept = self._get({"pk": pk, "sk": f"ID#{message.id}"}) or {}
                    return replace(message, seq=int(kept.get("seq", 0)) or None)
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # another writer's turn
                continue
            return replace(message, seq=seq)
        raise Busy("The conversation is busy; try again.")

    def chat_since(
        self, conversation_id: str, after: int | None, now: datetime
    ) -> tuple[list[ChatMessage], bool]:
        """One Query: `MSG#<after>` < sk takes the newer messages and the typing flags (which
        sort after them), never the conversation's own item nor the `ID#` items."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk > :after",
            ExpressionAttributeValues={
                ":pk": {"S": f"CHAT#{conversation_id}"},
                ":after": {"S": f"MSG#{after:010d}" if after else "MSG#"},
            },
            ConsistentRead=True,
        )
        messages, typing = [], False
        for item in items:
            if item["sk"].startswith(TYPING):
                typing = typing or (item["sk"] != TYPING + "citizen" and item["until"] > iso(now))
            elif item["sk"].startswith("MSG#") and "seq" in item:
                # (one written before messages were numbered has no cursor: it expires in 2 days)
                at = parse_iso(item["at"])
                assert at is not None
                seq = int(item["seq"])
                card = item.get("card")
                messages.append(ChatMessage(item["id"], at, item["from"], item["body"], seq, card))
        return messages, typing

    def set_chat_typing(self, conversation_id: str, who: str, until: datetime) -> None:
        self._put(
            {
                "pk": f"CHAT#{conversation_id}",
                "sk": TYPING + who,
                "type": "chat_typing",
                "until": iso(until),
                "expires_at": int(until.timestamp()) + 3600,
            }
        )

    def count_rate(self, key: str, window: str, most: int, expires: datetime) -> bool:
        return self._update(
            {"pk": f"RATE#{key}", "sk": window},
            "ADD hits :one SET expires_at = :expires, #type = :type",
            {":one": 1, ":most": most, ":expires": int(expires.timestamp()), ":type": "rate"},
            "attribute_not_exists(hits) OR hits < :most",
            {"#type": "type"},
        )

    def link_follow_up(
        self, case_id: str, contact_id: str, identity: Identity, at: datetime
    ) -> bool:
        name = f"{identity.kind}#{identity.value}"
        answer_there = update(
            self.table,
            case_key(case_id),
            "SET reply_to = :to",
            {":to": {"kind": identity.kind, "value": identity.value}, ":closed": "closed"},
            "attribute_exists(pk) AND #status <> :closed",
            {"#status": "status"},
        )
        identity_item = {
            **identity_key(identity),
            "type": "identity",
            "kind": identity.kind,
            "value": identity.value,
            "contact_id": contact_id,
            "open_case_id": case_id,
            "opted_out": False,
            "created_at": iso(at),
        }
        try:
            self._transact(
                [
                    ("case", answer_there),
                    ("identity", put(self.table, identity_item)),
                    (
                        "contact",
                        update(
                            self.table,
                            contact_key(contact_id),
                            "SET identities = list_append(if_not_exists(identities, :none), :new)",
                            {":none": [], ":new": [name]},
                            NOT_ERASED,
                        ),
                    ),
                ]
            )
        except Cancelled as lost:
            if lost.failed != {"identity"}:
                raise
            self._transact([("case", answer_there)])
            return False
        return True

    def add_chat_connection(
        self, conversation_id: str, connection_id: str, expires: datetime
    ) -> None:
        """An open WebSocket of the conversation (`CONN#` sorts before `MSG#`: the long poll's
        Query never reads it), and the way back from the connection id for its disconnect."""
        lapse = int(expires.timestamp())
        self._transact(
            [
                (
                    "conversation",
                    put(
                        self.table,
                        {
                            "pk": f"CHAT#{conversation_id}",
                            "sk": f"CONN#{connection_id}",
                            "type": "chat_connection",
                            "expires_at": lapse,
                        },
                        None,
                    ),
                ),
                (
                    "connection",
                    put(
                        self.table,
                        {
                            "pk": f"WSCONN#{connection_id}",
                            "sk": "CONN",
                            "type": "chat_connection",
                            "conversation_id": conversation_id,
                            "expires_at": lapse,
                        },
                        None,
                    ),
                ),
            ]
        )

    def chat_connections(self, conversation_id: str) -> list[str]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :conn)",
            ExpressionAttributeValues={
                ":pk": {"S": f"CHAT#{conversation_id}"},
                ":conn": {"S": "CONN#"},
            },
        )
        return [item["sk"].removeprefix("CONN#") for item in items]

    def remove_chat_connection(self, connection_id: str) -> None:
        key = {"pk": f"WSCONN#{connection_id}", "sk": "CONN"}
        item = self._get(key)
        if item is None:
            return
        chat = {"pk": f"CHAT#{item['conversation_id']}", "sk": f"CONN#{connection_id}"}
        for gone in (chat, key):
            self.client.delete_item(TableName=self.table, Key=dump(gone))


def _next_seq(table: str, conversation_id: str, last: int) -> dict[str, Any]:
    """The conversation's `seq` from `last` to `last + 1`, only if nobody moved it meanwhile."""
    condition = "#seq = :last" if last else "attribute_not_exists(#seq)"
    return update(
        table,
        key("chat", conversation_id),
        "SET #seq = :next",
        {":last": last, ":next": last + 1} if last else {":next": 1},
        condition,
        {"#seq": "seq"},
    )
