"""Plain domain objects: what every channel is parsed into and what the store returns."""

from __future__ import annotations

import unicodedata
from dataclasses import field
from datetime import datetime
from typing import Any, Literal

from chalicelib.domain.ids import interaction_id
from chalicelib.domain.records import record
from chalicelib.domain.risk import Risk

Channel = Literal["sms", "voice", "email", "webinar", "note", "chat"]
Direction = Literal["in", "out", "internal"]
Keyword = Literal["stop", "start", "help"]

DEFAULT_QUEUE = "general"


@record
class Identity:
    """How a citizen reaches us: a phone number in E.164 or a lower-cased email address."""

    # anonymous: a withheld caller id, per call; chat: one web chat conversation (its id)
    kind: Literal["phone", "email", "anonymous", "chat"]
    value: str


@record
class Media:
    """A picture, file or recording the provider holds (an MMS attachment, a voicemail): its URL."""

    url: str
    content_type: str


@record
class Attachment:
    """An attachment's facts; its bytes live in the blob store under `key`, never in DynamoDB."""

    filename: str
    content_type: str
    size: int
    key: str | None = None
    inline: bool = False


@record
class EmailDetails:
    """What only email has: threading headers, the mailbox written to, and what to flag."""

    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    mailbox: str = ""  # the local part written to, without the +token: sets the queue
    reply_token: str | None = None  # from <mailbox>+<token>@<domain>
    quoted: str = ""  # earlier replies quoted below the new text
    attachments: tuple[Attachment, ...] = ()
    auto_reply: bool = False  # auto-replies, bulk mail and bounces: recorded, never answered
    quarantine: str | None = None  # "spam" or "virus": kept, not routed
    needs_review: str | None = None  # why a person must look (malformed, too large)
    raw_key: str | None = None  # where the raw message is kept
    # SES's SPF/DKIM/DMARC (and spam/virus) verdicts, e.g. {"dmarc": "FAIL"}; empty when the
    # message came by the relay, which vouches for none of them (unknown, not "pass").
    verdicts: dict[str, str] = field(default_factory=dict)
    # A case this message pointed at (its headers, reply address, or forged-looking From) that
    # its sender may not join: (case id, reason). A practitioner confirms or dismisses it.
    possible_link: tuple[str, str] | None = None
    # False when another message already holds this Message-ID: it is not indexed again, so a
    # sender cannot repoint someone else's thread to their own case.
    new_message_id: bool = True


@record
class InboundMessage:
    """One message from a citizen, whatever the provider sent it as."""

    channel: Channel
    provider: str
    provider_id: str
    sender: Identity
    recipient: str
    body: str
    media: tuple[Media, ...] = ()
    keyword: Keyword | None = None
    queue: str = DEFAULT_QUEUE
    email: EmailDetails | None = None
    # False for a sender we may not text back (a country off the allow-list): the message is
    # recorded like any other, but no automatic reply goes out to it.
    answerable: bool = True
    language: str | None = None  # chosen by the citizen (a booking page); else detected


@record
class IdentityRecord:
    """A stored identity. `open_case_id` is a read shortcut; the open-case pointer is the truth."""

    identity: Identity
    contact_id: str
    open_case_id: str | None
    opted_out: bool
    undeliverable: str | None = None  # an email address that bounced or complained
    # the open case holds bookings only: the citizen's next message makes it a case to answer
    open_case_booked: bool = False


@record
class Interaction:
    """One entry of a case timeline."""

    id: str
    case_id: str
    at: datetime
    channel: Channel
    direction: Direction
    body: str
    provider: str | None = None
    provider_id: str | None = None
    status: str | None = None
    media: tuple[Media, ...] = ()
    automated: bool = False
    to: str | None = None
    error_code: str | None = None
    author: str | None = None  # the practitioner who wrote a reply or a note
    duration_seconds: int | None = None  # calls and voicemails
    email: EmailDetails | None = None  # subject, threading, attachments and flags of an email
    contact_id: str | None = None  # on inbound interactions
    answered: bool | None = None  # on calls: whether a practitioner picked up
    # on calls: when the caller started waiting for a practitioner (we returned the <Dial>), and
    # when that wait ended (a practitioner answered, or the <Dial> ended unanswered)
    waiting_at: datetime | None = None
    waited_until: datetime | None = None
    canned_id: str | None = None  # on replies: the canned response it was written from
    rating: int | None = None  # on a satisfaction answer (status "rating"): 1-5
    # A message recorded before it is sent: due in the outbox from then unless its status
    # arrives first (the send died with its Lambda). Written with the record, never read back.
    lease_until: datetime | None = None


def new_entry(
    case_id: str, at: datetime, channel: Channel, direction: Direction, body: str, **more: Any
) -> Interaction:
    """A timeline entry written at `at` under a fresh time-ordered id; `more`: its optional
    fields (provider, status, author, ...)."""
    return Interaction(interaction_id(at), case_id, at, channel, direction, body, **more)


def closing_note(case_id: str, outcome: str, closed_by: str, now: datetime) -> Interaction:
    """The note a close leaves on the timeline, written by the store in the same write as the
    close itself (so every store writes this same one)."""
    note_id, body = interaction_id(now) + "c", f"Closed: {outcome}"
    return Interaction(
        note_id, case_id, now, "note", "internal", body, status="closed", author=closed_by
    )


@record
class CaseOpening:
    """The fields of a case that a first message creates."""

    case_id: str
    contact_id: str
    queue: str
    channel: Channel
    opened_at: datetime
    reply_token: str = ""  # unguessable: the case's own reply address <mailbox>+<token>@<domain>
    language: str | None = None  # `wording.LANGUAGES`: what the service speaks to the citizen
    # the rules' flag on the first message: written with the case, its place in the queue too
    risk: Risk | None = None


@record
class InboundWrite:
    """Everything one inbound message changes, written by the store as one transaction."""

    identity: Identity
    contact_id: str
    new_contact: bool
    case_id: str
    opening: CaseOpening | None
    interactions: tuple[Interaction, ...]
    reply: str | None
    link_identity: bool
    opted_out: bool | None = None
    provider: str = ""
    provider_id: str = ""
    new_identity: bool = False  # a new address of a known contact (an email threaded to a case)
    booking: BookingPlan | None = None
    contact_language: str | None = None  # the contact's language from now on (None: as it is)

    @property
    def reply_ref(self) -> str | None:
        """`<case id>.<interaction id>` of the recorded automatic reply (it follows the message);
        messages recorded as answers after it (a booking's confirmation) are not the reply."""
        recorded = self.reply is not None and len(self.interactions) > 1
        return f"{self.case_id}.{self.interactions[1].id}" if recorded else None


@record
class Delivery:
    """What an earlier delivery of the same provider message produced (for retries). After an
    erasure only a tombstone is left: no case (`case_id` empty), no reply."""

    case_id: str
    reply: str | None
    reply_ref: str | None
    interaction_id: str | None = None


@record
class MailReads:
    """Everything an inbound email's threading reads, read at once (one BatchGetItem): an
    earlier delivery of it, the sender's identity, the case its reply address names, and the
    cases its Message-IDs are indexed to (by id). Reads only: the write's conditions decide."""

    delivery: Delivery | None
    identity: IdentityRecord | None
    by_token: CaseRef | None
    by_message_id: dict[str, CaseRef]


@record
class CannedResponse:
    """A reply text practitioners start from: shared (managed by managers, `owner` None) or
    one practitioner's own. Its body may hold the placeholders of `domain.canned`."""

    id: str
    title: str
    body: str
    owner: str | None = None


@record
class Mention:
    """A note that names a practitioner (`@id`): it is in their mentions view."""

    user_id: str
    case_id: str
    note_id: str
    author: str
    at: datetime
    read: bool = False  # set once the mentioned practitioner opens the case


@record
class Presence:
    """A practitioner viewing or writing on a case; it lapses by itself at `until`."""

    user_id: str
    activity: str  # viewing | writing
    until: datetime


@record
class Case:
    """A case as practitioners see it; `timeline` is filled only when asked for."""

    id: str
    contact_id: str
    status: str  # queued | assigned | closed
    queue: str
    channel: Channel
    channels: tuple[str, ...]
    opened_at: datetime
    last_activity_at: datetime
    assignee: str | None = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    language: str | None = None
    reply_to: Identity | None = None  # where replies go: the citizen's latest message's sender
    callback_number: str | None = None  # a callback the citizen asked for and nobody made yet
    callback_requested_at: datetime | None = None
    reply_token: str | None = None
    email_subject: str | None = None
    email_thread: tuple[str, ...] = ()  # Message-IDs of the case's emails, oldest first
    possible_link: tuple[str, str] | None = None  # (case id, reason): see EmailDetails
    linked_to: str | None = None  # the case a practitioner confirmed this one belongs with
    inbound_count: int | None = None  # the citizen's messages so far: a close is conditional on it
    timeline: tuple[Interaction, ...] = field(default=())
    erased_at: datetime | None = None  # its citizen was erased: it stays closed for good
    preview: str | None = None  # the citizen's latest message, as `preview_of` cut it
    last_inbound_channel: str | None = None  # the channel of the citizen's latest message
    # the citizen's oldest message since our last reply (None: nothing waits for an answer)
    waiting_since: datetime | None = None
    presence: tuple[Presence, ...] = ()  # who said they are on the case, until when
    last_inbound_at: datetime | None = None  # the citizen's latest message or booking
    last_read: tuple[tuple[str, datetime], ...] = ()  # (user, their latest read), by user
    unread: bool = False  # for whoever looks: the citizen wrote after their latest read
    risk: Risk | None = None  # safeguarding: the rules' flag or a practitioner's judgement
    contact_language: str | None = None  # the citizen's own, when the case is opened to read
    rating: int | None = None  # the citizen's satisfaction answer (1-5), whenever it came

    @property
    def needs_reply(self) -> bool:
        """A citizen's message came after our last reply: what a practitioner answers first."""
        return self.waiting_since is not None


PREVIEW_CHARS = 140


def preview_of(body: str) -> str:
    """What an inbox entry shows of a message: plain text on one line, at most 140 characters.
    Control and format characters (bidi overrides, zero-width, line separators) go, so a
    message cannot reorder or hide what a practitioner reads beside it."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in body
        if unicodedata.category(ch) != "Cf"
    )
    text = " ".join(kept.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


@record
class InboxFilter:
    """What an inbox page keeps of the cases it reads: no index key holds a case by its channel
    or by whether it needs a reply, so the store applies this after reading (docs/inbox.md)."""

    channel: str | None = None  # the channel of the citizen's latest message
    needs_reply: bool | None = None


@record
class InboxQuery:
    """What one page of the managers' views (or of one's closed cases) asks for; the store reads
    it from the open cases' shards, or the closed cases' key (docs/inbox.md)."""

    closed: bool
    statuses: frozenset[str]
    queues: frozenset[str] | None = None  # None: any queue
    assignee: str | None = None
    mine_or_waiting_in: tuple[str, frozenset[str]] | None = None  # (me, my queues)
    limit: int = 25
    cursor: str | None = None
    only: InboxFilter | None = None


@record
class CaseRef:
    """What a write needs to know about a case (not its timeline): enough to route it, and to
    make the write fail if the case changed since it was read."""

    id: str
    queue: str
    language: str | None
    contact_id: str
    assignee: str | None = None
    waiting_since: str | None = None  # sorts oldest first
    inbound_count: int | None = None  # as read; set when a write must fail if a message lands
    risk: str | None = None  # the risk level: a high one goes to `safeguarding` practitioners first


@record
class Actor:
    """Who is acting: a signed-in practitioner or manager (their user name is their id)."""

    user_id: str
    role: Literal["practitioner", "manager"]

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@record
class Practitioner:
    """Who answers: the queues and languages they serve, and how many cases they may hold."""

    id: str
    display_name: str
    queues: tuple[str, ...]
    languages: tuple[str, ...]
    max_active_cases: int
    on_duty: bool = False
    active_cases: int = 0
    last_assigned_at: datetime | None = None
    phone: str | None = None
    shift_started_at: datetime | None = None
    skills: tuple[str, ...] = ()  # e.g. "safeguarding"; "supervisor": gets risk alerts on duty
    email: str | None = None  # where a supervisor's risk alerts go, beside `phone`

    def serves(self, queue: str, language: str | None) -> bool:
        return queue in self.queues and (language is None or language in self.languages)

    @property
    def has_room(self) -> bool:
        return self.active_cases < self.max_active_cases


@record
class Alert:
    """A high-risk case's alert to supervisors, until someone acknowledges it; and its crisis
    answer to the citizen, due when nobody has taken the case by `answer_at`. `version`: each
    change is written on condition that the stored alert is the one read (one job at a time)."""

    case_id: str
    raised_at: datetime
    version: int = 0
    stage: int = 0  # 0: the on-duty supervisor; each escalation: the next one (managers once)
    notified: tuple[str, ...] = ()  # practitioner ids alerted so far
    escalate_at: datetime | None = None  # None once acknowledged
    answer_at: datetime | None = None  # None once answered (or taken) or when not needed
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    crisis_answered_at: datetime | None = None
    managers_told: bool = False  # MANAGER_EMAILS are told once per alert
    resolved_by: str | None = None  # the practitioner whose lowering ended it (a human decided)
    resolved_at: datetime | None = None

    @property
    def next_look(self) -> datetime | None:
        """When the scheduled job must look at it again (None: it is done)."""
        times = [t for t in (self.escalate_at, self.answer_at) if t is not None]
        return min(times) if times else None


@record
class ActiveTime:
    """The minutes of one clock hour (UTC) in which a practitioner's app said they were on a
    case (viewing or writing, `POST /cases/{id}/presence`): text channels' handle time."""

    case_id: str
    user_id: str
    channel: str  # the case's channel, the one it was opened on
    hour: datetime
    minutes: int


@record
class Shift:
    """One spell on duty, for the weekly report's staffed hours."""

    practitioner_id: str
    start: datetime
    end: datetime


@record
class CaseRead:
    """Who opened a case and when: the case's access log."""

    case_id: str
    user_id: str
    role: str
    at: datetime


@record
class Webinar:
    """A group session citizens book a seat in; `waitlist_size` more may wait for a seat."""

    id: str
    title: str
    starts_at: datetime
    duration_minutes: int
    capacity: int
    waitlist_size: int
    queue: str
    join_url: str
    description: str = ""
    host: str | None = None  # a practitioner id
    status: str = "scheduled"  # scheduled | cancelled
    seats_taken: int = 0
    waitlist_taken: int = 0

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)


@record
class BookingPlan:
    """A booking written in the same transaction as its case interaction: a seat (only while
    seats_taken < capacity) or a waitlist place (only while the waitlist has room), under the
    person's own limits: one booking of a session at a time (`holder`), at most `max_active`
    upcoming bookings and `max_per_day` booking messages a day (`booker`)."""

    webinar_id: str
    booking_id: str  # our own id: a booking cancelled and booked again is a new booking
    mode: Literal["seat", "waitlist"]
    token_hash: str
    email: str | None
    phone: str | None
    first_name: str | None
    at: datetime
    holder: str = ""  # digest of (session, person): one live booking per person and session
    booker: str = ""  # digest of the person: their limits across sessions
    ends_at: datetime | None = None  # the session's end: the booking counts until then
    max_active: int = 5
    max_per_day: int = 10
    also_told: tuple[str, ...] = ()  # other people (a phone beside the email) messaged: their limit
    language: str | None = None  # the booking page's: what the booking's messages are in


@record
class Booking:
    """A seat (or a waitlist place) in a webinar, and the case it is recorded on."""

    webinar_id: str
    id: str
    status: str  # confirmed | waitlisted | cancelled
    email: str | None
    phone: str | None
    first_name: str | None
    created_at: datetime
    case_id: str | None = None
    contact_id: str | None = None
    waitlisted_at: str | None = None  # sorts the waitlist in arrival order
    attended: bool | None = None
    holder: str | None = None  # see BookingPlan: released when the booking is cancelled
    booker: str | None = None
    language: str | None = None  # see BookingPlan (None: booked before languages, the default)


@record
class StatusUpdate:
    """A message's new delivery status, ranked so that it only moves forward, and what the
    provider said with it (a field left None keeps what is stored)."""

    status: str
    rank: int  # delivery.RANKS: a later status of the same or a lower rank changes nothing
    provider_id: str | None = None  # the provider's id of the message or call
    provider: str | None = None
    error_code: str | None = None  # why it failed: the provider's code, or ours ("gave up: ...")
    duration_seconds: int | None = None  # a finished call's length


@record
class Retry:
    """Why a message the provider did not take waits, and until when: its next try."""

    attempts: int  # the tries so far
    at: datetime
    error: str
    raw_key: str | None = None  # an email's bytes, kept in the blob store for the retry


@record
class Parked:
    """A message waiting in the outbox for its next try."""

    case_id: str
    interaction_id: str
    channel: str
    to: str
    body: str
    attempts: int
    slot: str  # where it waits: claimed by a conditional write before each retry
    raw_key: str | None = None
    automated: bool = False  # the service's own message: a retry still comes from the service


# --- one citizen's data, as export, erasure and retention see it ---------------------------


@record
class Contact:
    """A citizen under a pseudonymous id: the cases opened for them and their known addresses
    (phone numbers, email addresses), as the contact record lists them."""

    id: str
    cases: tuple[str, ...] = ()
    identities: tuple[Identity, ...] = ()
    erased_at: datetime | None = None
    language: str | None = None  # what a later case of theirs starts in (`wording.LANGUAGES`)


@record
class StoredMessage:
    """One message of a case's timeline, as erasure and retention see it: what names the sender
    and where its bytes live, not its body."""

    id: str
    direction: str | None = None
    status: str | None = None
    provider: str | None = None
    provider_id: str | None = None
    message_id: str | None = None  # an email's Message-ID
    files: tuple[str, ...] = ()  # blobs: a received email and its attachments, parked bytes
    personal: bool = False  # still holds a body, an address, an email or a recording


@record
class CaseRecords:
    """A case as erasure and retention see it: what it is indexed under, and its messages."""

    id: str
    email_thread: tuple[str, ...] = ()  # Message-IDs of its emails, the citizen's and ours
    reply_token: str | None = None
    messages: tuple[StoredMessage, ...] = ()


@record
class PersonalData:
    """Everything stored about one citizen, as plain JSON-ready documents (no storage keys, no
    secrets): what a data-subject export hands over."""

    contact: dict[str, Any]
    identities: list[dict[str, Any]]
    cases: list[dict[str, Any]]  # each with its "timeline"
    bookings: list[dict[str, Any]]


@record
class Survey:
    """One satisfaction question asked on a closed case, found by how the answer comes back:
    `phone#<E.164>` (an SMS reply) or `token#<SHA-256 of the link's token>` (the web page)."""

    case_id: str
    channel: str  # where it was asked: sms, email, voice, chat
    asked_at: datetime
    practitioner: str | None = None  # who handled the case: the rating is theirs too
    language: str | None = None
    rating: int | None = None
    answered_by: str | None = None  # the provider's id of the answer (a retry changes nothing)


@record
class ChatConversation:
    """One web chat: anonymous, known only by its conversation id (the case's `chat` identity)
    and the hash of the token its browser holds."""

    id: str
    language: str
    source: str  # a digest of the address it was opened from (never the address)
    opened_at: datetime
    status: str = "open"  # open | ended


@record
class ChatMessage:
    """One line of a chat as its citizen sees it: `sender` is citizen, practitioner or service."""

    id: str
    at: datetime
    sender: str
    body: str
    seq: int | None = None  # its place in the conversation, the poll's cursor (set when stored)
    card: str | None = None  # "survey": the widget shows the rating question as a card
