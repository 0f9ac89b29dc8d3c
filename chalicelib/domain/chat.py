"""Web chat for citizens: anonymous conversations that are cases like any other.

A conversation is known to its browser only by an unguessable token (stored as its hash, so a
table read reveals no live token); its citizen is the identity `chat#<conversation id>`, a new
contact that can never reach another case. Every citizen message goes through `intake.receive`
like an SMS (routing, automatic answer, and whatever intake assesses), and every answer through
`delivery.send` (the chat "sender" writes it where the long poll reads it). Limits are
conditional counters in the store, since Lambda containers share no memory.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import autoreplies, delivery, intake
from chalicelib.domain.destinations import destination_allowed
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import (
    ChatConversation,
    ChatMessage,
    Identity,
    InboundMessage,
    new_entry,
)
from chalicelib.domain.records import record

if TYPE_CHECKING:
    from chalicelib.domain.ports import ChatStore, Deps

MAX_OPEN_PER_SOURCE = 3  # open conversations one address may hold
OPENS_PER_SOURCE_PER_HOUR = 10
MESSAGES_PER_CONVERSATION_PER_MINUTE = 20
MESSAGES_PER_SOURCE_PER_MINUTE = 60
CONVERSATION_LIFETIME = timedelta(days=1)  # an abandoned chat stops counting against its address
TYPING_SECONDS = 5
POLL_FIRST, POLL_MOST = 0.1, 0.5  # the long poll's back-off between Queries, in seconds
GONE = "No such conversation."  # unknown and ended tokens alike: nothing to tell them apart


@record
class Started:
    token: str
    language: str
    open_now: bool
    next_opening: datetime | None
    first: ChatMessage | None
    notice: str | None = None  # out of hours: when we open, in the chat's language


def source_of(address: str) -> str:
    """What the store keeps of an address: a digest, so counters hold nothing personal."""
    return hashlib.sha256(f"chat-source|{address}".encode()).hexdigest()[:32]


def _hash(token: str) -> str:
    return hashlib.sha256(f"chat-token|{token}".encode()).hexdigest()


def start(deps: Deps, address: str, language: str | None, body: str | None) -> Started:
    """A new conversation (429 beyond the address's limits), and its first message if given."""
    store: ChatStore = deps.store
    now, source = deps.clock(), source_of(address)
    _count(deps, f"opens#{source}", now, 3600, OPENS_PER_SOURCE_PER_HOUR)
    words = deps.wording()
    conversation = ChatConversation(new_id(), words.language(language), source, now)
    token = secrets.token_urlsafe(32)
    if not store.open_chat(
        conversation, _hash(token), MAX_OPEN_PER_SOURCE, now + CONVERSATION_LIFETIME
    ):
        raise TooManyRequests(
            "Too many open chats from this address; end one first.", code="too_many_chats"
        )
    hours = deps.hours()
    open_now = hours.is_open(now)
    first = _post(deps, conversation, body) if body else None
    opening = None if open_now else hours.next_opening(now)
    notice = None
    if not open_now:
        when = autoreplies.next_opening(words, conversation.language, hours, now)
        notice = words.say(conversation.language, "chat.closed_notice", next_opening=when or "")
    return Started(token, conversation.language, open_now, opening, first, notice)


def find(deps: Deps, token: str) -> ChatConversation:
    """The open conversation the token names; 404 with one same answer for unknown and ended.
    It is looked up by the token's digest: no comparison with a stored secret happens here, so
    its timing tells nothing about any live token."""
    store: ChatStore = deps.store
    found = store.chat_for_token(_hash(token))
    if found is None:
        raise NotFound(GONE)
    return found


def post(deps: Deps, token: str, body: str) -> ChatMessage:
    """The citizen's message, within the conversation's and the address's rates."""
    return _post(deps, find(deps, token), body)


def _post(deps: Deps, conversation: ChatConversation, body: str) -> ChatMessage:
    now = deps.clock()
    _count(deps, f"msgs#{conversation.id}", now, 60, MESSAGES_PER_CONVERSATION_PER_MINUTE)
    _count(deps, f"msgs#{conversation.source}", now, 60, MESSAGES_PER_SOURCE_PER_MINUTE)
    message = InboundMessage(
        channel="chat",
        provider="chat",
        provider_id=new_id(),
        sender=Identity("chat", conversation.id),
        recipient="chat",
        body=body,
        language=conversation.language,
    )
    outcome = intake.receive(deps, message)
    assert outcome.interaction_id is not None  # a new message is always recorded
    said = deps.store.add_chat_message(
        conversation.id, ChatMessage(outcome.interaction_id, now, "citizen", body)
    )
    if outcome.reply is not None and outcome.reply_ref is not None:
        recorded = delivery.parse_reference(outcome.reply_ref)
        delivery.send(
            deps,
            delivery.Outgoing(
                outcome.case_id,
                "chat",
                conversation.id,
                outcome.reply,
                automated=True,
                interaction_id=recorded[1] if recorded else None,
            ),
        )
    return said


def messages(
    deps: Deps,
    token: str,
    after: int | None,
    wait: float | None,
    shown: bool | None = None,
) -> tuple[list[ChatMessage], bool]:
    """What is new after the message numbered `after` (its `seq`: ids are times, and may land
    out of their order), oldest first, and whether a practitioner is typing; waits up to `wait`
    seconds (None: as long as the deployment allows, `settings.chat_poll_seconds`, which also
    caps it) for something new, one Query per look, with a
    back-off between looks. Wall time, not `deps.clock()`: this bounds a request, not a rule.
    `shown` is the typing the widget shows now: a change from it is news too, or a practitioner's
    few seconds of typing would mostly pass inside one held poll, unseen."""
    conversation = find(deps, token)
    store: ChatStore = deps.store
    most = deps.settings.chat_poll_seconds
    deadline = time.monotonic() + max(0.0, most if wait is None else min(wait, most))
    pause = POLL_FIRST
    while True:
        found, typing = store.chat_since(conversation.id, after, deps.clock())
        if found or (shown is not None and typing != shown) or time.monotonic() + pause > deadline:
            return found, typing
        time.sleep(pause)
        pause = min(POLL_MOST, pause * 1.5)


def typing(deps: Deps, token: str) -> None:
    """The citizen is typing: shown to practitioners as the case's presence (user `citizen`,
    `writing`), which lapses after TYPING_SECONDS unless repeated."""
    conversation = find(deps, token)
    until = deps.clock() + timedelta(seconds=TYPING_SECONDS)
    known = deps.store.find_identity(Identity("chat", conversation.id))
    if known is not None and known.open_case_id is not None:
        deps.store.mark_presence(known.open_case_id, "citizen", "writing", until)


def practitioner_typing(deps: Deps, conversation_id: str) -> None:
    """A practitioner writes on the chat's case (their `writing` presence): the citizen's next
    poll says so, for TYPING_SECONDS."""
    until = deps.clock() + timedelta(seconds=TYPING_SECONDS)
    deps.store.set_chat_typing(conversation_id, "practitioner", until)


def end(deps: Deps, token: str) -> None:
    """The chat ends for its browser (its token is 404 from now on); the case stays open for
    the practitioner, like any other case, until they close it."""
    conversation = find(deps, token)
    if not deps.store.end_chat(conversation, _hash(token)):
        raise NotFound(GONE)


def follow_up(deps: Deps, token: str, kind: str, address: str) -> bool:
    """With the citizen's consent (the route requires it), the chat's case is answered by SMS
    or email from now on: practitioners' replies go there by the same reply route. An address
    new to us leads to this case, so the citizen's answer from it threads here; one we know
    already keeps leading where it did (True/False says which), so typing someone's number
    never reveals or joins their case. A few a conversation an hour."""
    conversation = find(deps, token)
    now = deps.clock()
    _count(deps, f"follow-up#{conversation.id}", now, 3600, 3)
    if kind == "sms" and not destination_allowed(address, deps.settings.allowed_country_codes):
        raise InvalidInput("We can only text numbers in this country.", code="country_not_allowed")
    identity = Identity("phone" if kind == "sms" else "email", address.strip().lower())
    known = deps.store.find_identity(Identity("chat", conversation.id))
    if known is None or known.open_case_id is None:
        raise Conflict("Write your message first.", code="no_message")
    linked = deps.store.link_follow_up(known.open_case_id, known.contact_id, identity, now)
    how = "SMS" if kind == "sms" else "email"
    note = f"The citizen agreed to be answered by {how} (chat closed)."
    deps.store.add_note(new_entry(known.open_case_id, now, "note", "internal", note), ())
    return linked


def connect(deps: Deps, token: str, connection_id: str) -> None:
    """A widget opened a WebSocket (deployed only) with its token: new messages are pushed to
    it too. An unknown or ended token is refused like everywhere (404)."""
    conversation = find(deps, token)
    expires = deps.clock() + CONVERSATION_LIFETIME
    deps.store.add_chat_connection(conversation.id, connection_id, expires)


def disconnect(deps: Deps, connection_id: str) -> None:
    deps.store.remove_chat_connection(connection_id)


def _count(deps: Deps, key: str, now: datetime, seconds: int, most: int) -> None:
    """One more in this fixed window of `seconds`; 429 with the seconds left once `most`."""
    window = int(now.timestamp()) // seconds
    ends = (window + 1) * seconds
    store: ChatStore = deps.store
    expires = datetime.fromtimestamp(ends + seconds, tz=now.tzinfo)
    if not store.count_rate(key, f"{seconds}#{window}", most, expires):
        error = TooManyRequests("Too many messages; wait a moment.", code="rate_limited")
        error.details["retry_after"] = max(1, ends - int(now.timestamp()))
        raise error


PAGE_TEXTS = (
    "chat.ui_title",
    "chat.ui_leave",
    "chat.ui_send",
    "chat.ui_label",
    "chat.ui_end",
    "chat.ui_typing",
    "chat.ui_follow_up",
    "chat.ui_consent",
    "chat.ui_address",
    "chat.ui_follow_up_send",
    "chat.ui_follow_up_done",
    "chat.ended",
    "survey.comment",  # the satisfaction card's words, the same as the email's page
    "survey.send",
    "survey.thanks",
)


def texts(deps: Deps, language: str | None) -> tuple[str, dict[str, str]]:
    """The chat page's words in `language` (else the default), with managers' edits."""
    words = deps.wording()
    chosen = words.language(language)
    return chosen, {key: words.say(chosen, key) for key in PAGE_TEXTS}
