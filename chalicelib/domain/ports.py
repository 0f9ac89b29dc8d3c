"""The ports: what the domain needs from storage and senders (what they may raise is in
`errors`, beside the domain's own errors).

Types only: the domain and the adapters import this module for mypy (`if TYPE_CHECKING`), never
at run time, so a cold start does not build its forty Protocol classes.

One module, organised by area, rather than one per area: the areas' ports build on each other
(mail on intake and sending, casework on mail, links on casework), `Store` combines them all,
and the adapters (which may see ports but never the domain's services, see .importlinter) are
checked against them here. Names say what the domain needs (`CaseStore`, `Blobs`, `SmsSender`);
the adapters are named for what they are (`DynamoStore`, `MemoryStore`, `S3Blobs`, `LocalBlobs`,
`TwilioSms`, `SesMail`, `TwilioVoice`, the local outboxes)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.domain.hours import OpeningHours
    from chalicelib.domain.model import (
        ActiveTime,
        Alert,
        Booking,
        CannedResponse,
        Case,
        CaseRead,
        CaseRecords,
        CaseRef,
        ChatConversation,
        ChatMessage,
        Contact,
        Delivery,
        Identity,
        IdentityRecord,
        InboundMessage,
        InboundWrite,
        InboxFilter,
        InboxQuery,
        Interaction,
        MailReads,
        Mention,
        Parked,
        PersonalData,
        Practitioner,
        Retry,
        Shift,
        StatusUpdate,
        Survey,
        Webinar,
    )
    from chalicelib.domain.risk import Held, Risk, TermList
    from chalicelib.domain.wording import TemplateVersion, Wording


# --- Intake and routing: record what came in, open a case, give it to someone ---------------------


class IntakeStore(Protocol):
    def find_identity(self, identity: Identity) -> IdentityRecord | None: ...

    def find_open_case(self, contact_id: str) -> str | None: ...

    def record_inbound(self, write: InboundWrite) -> None: ...

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None: ...

    def promote_booked(self, case_id: str, identity: Identity, at: datetime) -> CaseRef | None: ...


class RoutingStore(Protocol):
    def list_practitioners(self, on_duty_only: bool = False) -> list[Practitioner]: ...

    def get_practitioner(self, practitioner_id: str) -> Practitioner | None: ...

    def last_practitioner(self, contact_id: str) -> str | None: ...

    def assign(
        self, case: CaseRef, practitioner_id: str, now: datetime, *, require_on_duty: bool
    ) -> None: ...

    def waiting_cases(self, queue: str, limit: int = 10) -> list[CaseRef]: ...

    def unanswered_since_before(self, cutoff: datetime) -> list[CaseRef]: ...

    def to_queue(
        self, case: CaseRef, queue: str, now: datetime, *, only_if_unanswered: bool = False
    ) -> None: ...


class IntakeAndRoutingStore(IntakeStore, RoutingStore, Protocol):
    """Intake records the message, then routes a case it opened."""

    def set_case_language(self, case_id: str, language: str) -> bool:
        """False when there is no such case (the caller's menu choice, a practitioner's fix)."""
        ...

    def contact_language(self, contact_id: str) -> str | None:
        """The language the contact's next case starts in (None: not known yet)."""
        ...

    def set_contact_language(self, contact_id: str, language: str) -> bool:
        """False when there is no such contact or it was erased (a choice, a correction)."""
        ...


class HoursStore(Protocol):
    def load_hours(self) -> OpeningHours | None: ...

    def save_hours(self, hours: OpeningHours) -> None: ...


class TemplateStore(Protocol):
    """Managers' wording of the citizen-facing templates, every version kept."""

    def template_overrides(self) -> list[TemplateVersion]:
        """The latest version of every edited template."""
        ...

    def save_template(self, version: TemplateVersion) -> bool:
        """Stores `version` as the latest; False when that version number was taken (another
        manager saved meanwhile)."""
        ...

    def template_versions(self, language: str, key: str) -> list[TemplateVersion]:
        """Oldest first."""
        ...


# --- Sending: the one delivery path (`delivery`) and the providers behind it ----------------------


class SentMessage(Protocol):
    """What a provider answered: read-only, so a frozen record of it will do."""

    @property
    def provider(self) -> str: ...

    @property
    def provider_id(self) -> str: ...

    @property
    def status(self) -> str: ...


class SmsSender(Protocol):
    """Sends one SMS. `status_callback` is where the provider reports delivery."""

    def send_sms(self, to: str, body: str, status_callback: str | None) -> SentMessage: ...


class MailSender(Protocol):
    """Sends one composed email (its raw MIME) to one recipient. `ref`: the case and message it
    is (`<case>.<message>`, or the case alone before it is recorded), which the local outbox
    names its file by; SES needs none."""

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> SentMessage: ...


class ChatSender(Protocol):
    """Puts a message where a chat's long poll reads it (and, deployed, pushes it to the
    conversation's open WebSocket connections)."""

    def send_chat(self, conversation_id: str, message: ChatMessage) -> SentMessage: ...


class Dialer(Protocol):
    """Starts an outbound call joining a practitioner's phone to a citizen's."""

    def connect(
        self, practitioner_phone: str, citizen: str, status_callback: str | None
    ) -> SentMessage: ...


class OutboundStore(Protocol):
    def get_reply_identity(self, case_id: str) -> Identity | None: ...

    def find_identity(self, identity: Identity) -> IdentityRecord | None: ...

    def add_interaction(self, interaction: Interaction) -> None: ...

    def update_delivery_status(
        self, case_id: str, interaction_id: str, update: StatusUpdate
    ) -> bool: ...


class OutboxStore(OutboundStore, Protocol):
    """What `delivery` needs besides recording and updating a message: the outbox, where a
    message the provider did not take waits for its next try."""

    def add_interaction_unless_erased(self, interaction: Interaction) -> bool: ...

    def park(self, case_id: str, interaction_id: str, retry: Retry) -> bool: ...

    def due(self, now: datetime) -> list[Parked]: ...

    def claim(self, entry: Parked, lease_until: datetime) -> bool: ...

    def unpark(self, case_id: str, interaction_id: str, update: StatusUpdate) -> None: ...


# --- Mail: threading, raw messages and attachments ------------------------------------------------


class Blobs(Protocol):
    """Raw mail and attachments, by key: kept out of DynamoDB (its items are small and read
    often); `put_new` refuses to overwrite, so a provider retry cannot replace what we kept."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def put_new(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...  # FileNotFoundError when nothing is kept under key

    def delete(self, key: str) -> None: ...


class MailStore(IntakeAndRoutingStore, OutboundStore, Protocol):
    def mail_reads(self, message: InboundMessage, message_ids: tuple[str, ...]) -> MailReads:
        """An earlier delivery of the email, its sender's identity, the case its reply address
        names and the cases `message_ids` are indexed to: one request (at most 100 keys)."""
        ...

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None: ...

    def index_message_id(self, message_id: str, case_id: str, contact_id: str) -> None: ...

    def mark_undeliverable(self, identity: Identity, reason: str) -> bool: ...


# --- Casework: the inbox, answering, closing; linking cases a message pointed at ------------------


class CaseStore(MailStore, Protocol):
    """Casework: reading, claiming, transferring, answering and closing a case."""

    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def record_read(self, case_id: str, user_id: str, role: str, at: datetime) -> None: ...

    def case_reads(self, case_id: str) -> list[CaseRead]: ...

    def get_alert(self, case_id: str) -> Alert | None:
        """The case's risk alert: while it is open, the people it calls on may see the case."""
        ...

    def inbox_page(self, query: InboxQuery) -> tuple[list[Case], str | None]: ...

    def mine_page(
        self, practitioner_id: str, after: str | None, limit: int, only: InboxFilter | None = None
    ) -> tuple[list[Case], str | None]: ...

    def practitioner_page(
        self, practitioner_id: str, after: str | None, limit: int, only: InboxFilter | None = None
    ) -> tuple[Practitioner | None, list[Case], str | None]: ...

    def waiting_page(
        self,
        queues: frozenset[str],
        after: str | None,
        limit: int,
        only: InboxFilter | None = None,
    ) -> tuple[list[Case], str | None]: ...

    def count_mine(self, practitioner_id: str) -> int: ...

    def count_waiting(self, queue: str) -> int: ...

    def count_open(self) -> int: ...

    def add_note(self, note: Interaction, mentioned: tuple[str, ...]) -> None: ...

    def mentions_of(
        self, user_id: str, limit: int, after: str | None = None
    ) -> tuple[list[Mention], str | None]: ...

    def read_mentions(self, user_id: str, case_id: str) -> None: ...

    def count_mentions(self, user_id: str) -> int: ...

    def mark_presence(self, case_id: str, user_id: str, activity: str, until: datetime) -> None: ...

    def record_active_minute(
        self, case_id: str, user_id: str, channel: str, at: datetime
    ) -> None: ...

    def transfer_to(self, case: CaseRef, practitioner_id: str, now: datetime) -> None: ...

    def close(self, case: CaseRef, outcome: str, closed_by: str, now: datetime) -> None: ...

    def reopen(self, case: CaseRef, now: datetime) -> None: ...

    def add_reply(
        self, reply: Interaction, case: CaseRef, *, answered_by_assignee: bool
    ) -> None: ...


class CannedStore(Protocol):
    """Canned responses: shared ones (`owner` None) and each practitioner's own."""

    def save_canned(self, canned: CannedResponse) -> None: ...

    def replace_canned(self, canned: CannedResponse) -> bool: ...

    def canned_of(self, owner: str | None) -> list[CannedResponse]: ...

    def get_canned(self, owner: str | None, canned_id: str) -> CannedResponse | None: ...

    def delete_canned(self, owner: str | None, canned_id: str) -> bool: ...


class LinkStore(CaseStore, Protocol):
    def confirm_link(self, source: Case, target: Case, note: Interaction) -> None: ...

    def dismiss_link(self, case_id: str, target_id: str) -> None: ...


# --- Calls ----------------------------------------------------------------------------------------


class VoiceStore(IntakeAndRoutingStore, OutboundStore, Protocol):
    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def set_waiting_queue(self, case_id: str, queue: str) -> bool: ...

    def request_callback(self, case_id: str, number: str, now: datetime) -> None: ...

    def clear_callback(self, case_id: str) -> None: ...

    def count_callback_request(self, number: str, now: datetime, limit: int) -> bool: ...

    def mark_call_answered(self, case_id: str, interaction_id: str, answered: bool) -> None: ...

    def mark_call_wait(self, case_id: str, call_id: str, at: datetime, ended: bool) -> None: ...

    def add_interaction_once(self, interaction: Interaction) -> bool: ...


# --- Staffing: practitioners and their shifts -----------------------------------------------------


class StaffingStore(RoutingStore, Protocol):
    def create_practitioner(self, practitioner: Practitioner) -> bool: ...

    def update_practitioner(
        self, practitioner_id: str, changes: dict[str, Any]
    ) -> Practitioner | None: ...

    def go_on_duty(self, practitioner_id: str, now: datetime) -> bool: ...

    def go_off_duty(self, practitioner: Practitioner, now: datetime) -> Shift | None: ...

    def shifts(self, practitioner_id: str) -> list[Shift]: ...


# --- Safeguarding: risk on cases, the term list, alerts to supervisors ---------------------------


class SafeguardingStore(Protocol):
    def set_risk(
        self, case_id: str, risk: Risk, *, only_if_higher: bool, held: Held | None = None
    ) -> Case | None:
        """Store the case's risk (with `only_if_higher`, only above the stored level; with
        `held`, only while the case is as its caller read it: see `Held`) and, in the same
        atomic write, put a waiting high-risk case first in its queue (a lowered one back in
        its place); the case as it is afterwards, or None when nothing changed (or no such
        case)."""
        ...

    def load_risk_terms(self) -> dict[str, Any] | None: ...

    def save_risk_terms(self, terms: dict[str, Any], expected_version: int) -> bool:
        """Only over the version given (0: none saved yet); False when another save won."""
        ...

    def get_alert(self, case_id: str) -> Alert | None: ...

    def put_alert(self, alert: Alert, expected_version: int | None) -> bool:
        """Write the alert if the stored one is at `expected_version` (None: there is none)."""
        ...

    def alerts_due(self, now: datetime) -> list[Alert]: ...

    def claim_alert_sms(
        self, practitioner_id: str, case_id: str | None, now: datetime, cutoff: datetime
    ) -> tuple[str, ...]:
        """The cases to text this supervisor about now. When her last alert SMS was at or before
        `cutoff` (or never), her window is claimed (from `now`) and the cases batched since come
        back with `case_id`; otherwise `case_id` is batched for her next one and () comes back.
        Without `case_id` (the every-minute job): the batch, when her window is open."""
        ...

    def add_interaction(self, interaction: Interaction) -> None: ...

    def list_practitioners(self, on_duty_only: bool = False) -> list[Practitioner]: ...

    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def audit(
        self, action: str, contact_id: str, by: str, now: datetime, counts: dict[str, int]
    ) -> None: ...


# --- Webinars: sessions, bookings, waitlists, reminders -------------------------------------------


class WebinarStore(IntakeAndRoutingStore, Protocol):
    def get_webinar(self, webinar_id: str) -> Webinar | None: ...

    def create_webinar(self, webinar: Webinar) -> bool: ...

    def update_webinar(self, webinar_id: str, changes: dict[str, Any]) -> Webinar | None: ...

    def cancel_webinar(self, webinar_id: str) -> bool: ...

    def webinars_between(self, start: datetime, end: datetime) -> list[Webinar]: ...

    def bookings_of(self, webinar_id: str) -> list[Booking]: ...

    def get_booking(self, webinar_id: str, booking_id: str) -> Booking | None: ...

    def booking_for_token(self, token_hash: str) -> Booking | None: ...

    def waitlist(self, webinar_id: str, limit: int | None = None) -> list[Booking]: ...

    def waitlist_position(self, webinar_id: str, waitlisted_at: str) -> int: ...

    def cancel_booking(self, booking: Booking, promote: Booking | None, now: datetime) -> None: ...

    def recount_booker(self, booker: str, now: datetime) -> bool: ...

    def release_session(self, booker: str, webinar_id: str) -> None: ...

    def count_booking_message(self, booker: str, now: datetime, most: int) -> bool: ...

    def held_booking(self, webinar_id: str, holder: str) -> str | None: ...

    def release_holder(self, webinar_id: str, holder: str, booking_id: str) -> None: ...

    def add_booking_token(self, booking: Booking, token_hash: str) -> None: ...

    def mark_reminded(self, booking: Booking, which: str, now: datetime) -> bool: ...

    def set_attendance(self, booking: Booking, attended: bool) -> None: ...

    def add_interaction(self, interaction: Interaction) -> None: ...


# --- Privacy: export, erasure and retention -------------------------------------------------------


class PrivacyStore(Protocol):
    """What export and erasure need from storage: domain objects only."""

    def contact(self, contact_id: str) -> Contact | None: ...

    def personal_data(self, contact: Contact, bookings: list[tuple[str, str]]) -> PersonalData: ...

    def identities_of(self, contact: Contact) -> list[Identity]: ...

    def erase_identity(self, identity: Identity) -> None: ...

    def case_records(self, case_id: str) -> CaseRecords: ...

    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def close(self, case: CaseRef, outcome: str, closed_by: str, now: datetime) -> None: ...

    def cancel_parked(self, case_id: str, interaction_id: str) -> bool: ...

    def forget_threading(self, case_id: str, message_ids: list[str], token: str | None) -> None: ...

    def tombstone_delivery(self, provider: str, provider_id: str) -> None: ...

    def forget_delivery(self, provider: str, provider_id: str) -> None: ...

    def forget_contact(self, contact_id: str) -> None: ...

    def mark_case_erased(self, case_id: str, now: datetime) -> None: ...

    def forget_survey(self, case_id: str) -> None: ...  # its open satisfaction question, if any

    def scrub_case(self, case_id: str) -> None: ...

    def scrub_event(
        self, case_id: str, event_id: str, forget_provider_id: bool = False
    ) -> None: ...

    def scrub_booking(self, webinar_id: str, booking_id: str) -> None: ...

    def tombstone_contact(self, contact_id: str, now: datetime) -> Contact | None: ...

    def audit(
        self, action: str, contact_id: str, by: str, now: datetime, counts: dict[str, int]
    ) -> None: ...


class RetentionStore(PrivacyStore, Protocol):
    """What the daily retention job needs on top."""

    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[Case], list[Interaction], list[Shift]]: ...

    def remove_media(self, case_id: str, event_id: str) -> None: ...

    def forget_records_between(self, start: datetime, end: datetime) -> int: ...

    def find_open_case(self, contact_id: str) -> str | None: ...


# --- Reports --------------------------------------------------------------------------------------


class ReportStore(Protocol):
    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def active_time(self, start: datetime, end: datetime) -> list[ActiveTime]: ...

    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[Case], list[Interaction], list[Shift]]: ...

    def list_practitioners(self, on_duty_only: bool = False) -> list[Practitioner]: ...

    def webinars_between(self, start: datetime, end: datetime) -> list[Webinar]: ...

    def bookings_of(self, webinar_id: str) -> list[Booking]: ...

    def get_report(self, week: str) -> dict[str, Any] | None: ...

    def save_report(self, week: str, figures: dict[str, Any]) -> None: ...

    def claim_report_email(self, week: str, now: datetime) -> bool: ...


class SurveyStore(Protocol):
    """Satisfaction questions: asked once per case, answered once."""

    def start_survey(self, key: str, survey: Survey, expires: datetime) -> bool:
        """Keep `survey` under `key` (replacing an older question under the same key), unless
        its case was asked before: False, nothing written."""
        ...

    def find_survey(self, key: str, now: datetime) -> Survey | None: ...  # None once expired

    def answer_survey(self, key: str, rating: int, answered_by: str, comment: Interaction) -> bool:
        """The rating, once: False (nothing written) when it was answered already; else the
        answer and `comment` (the rating's entry on the case) are written together."""
        ...

    def find_identity(self, identity: Identity) -> IdentityRecord | None: ...

    def find_open_case(self, contact_id: str) -> str | None: ...


# --- Web chat -----------------------------------------------------------------------------------


class ChatStore(Protocol):
    """Conversations, their messages and typing flags, one partition each; tokens by hash only."""

    def open_chat(
        self, conversation: ChatConversation, token_hash: str, most_open: int, expires: datetime
    ) -> bool:
        """False when the source already holds `most_open` open conversations."""
        ...

    def chat_for_token(self, token_hash: str) -> ChatConversation | None: ...

    def end_chat(self, conversation: ChatConversation, token_hash: str) -> bool: ...

    def chat_is_open(self, conversation_id: str, now: datetime) -> bool: ...

    def add_chat_message(self, conversation_id: str, message: ChatMessage) -> ChatMessage:
        """Stored under the conversation's next `seq` (returned with it), visible only after
        every message numbered before it; the same message again keeps its number."""
        ...

    def chat_since(
        self, conversation_id: str, after: int | None, now: datetime
    ) -> tuple[list[ChatMessage], bool]:
        """Messages numbered after `after`, in order, and whether a practitioner is typing."""
        ...

    def set_chat_typing(self, conversation_id: str, who: str, until: datetime) -> None: ...

    def add_chat_connection(
        self, conversation_id: str, connection_id: str, expires: datetime
    ) -> None: ...

    def chat_connections(self, conversation_id: str) -> list[str]: ...

    def remove_chat_connection(self, connection_id: str) -> None: ...

    def link_follow_up(
        self, case_id: str, contact_id: str, identity: Identity, at: datetime
    ) -> bool:
        """The case is answered at `identity` from now on; True when the address was new to us
        and now leads to this case (a reply from it threads here), False when it is known
        already (it keeps leading where it did: nobody claims another's case)."""
        ...

    def count_rate(self, key: str, window: str, most: int, expires: datetime) -> bool:
        """One more under `key` in `window`; False once `most` were counted."""
        ...


# --- All of it: what `Deps.store` is --------------------------------------------------------------


class Store(
    SurveyStore,
    SafeguardingStore,
    LinkStore,
    CannedStore,
    VoiceStore,
    WebinarStore,
    StaffingStore,
    OutboxStore,
    HoursStore,
    TemplateStore,
    RetentionStore,
    ReportStore,
    ChatStore,
    Protocol,
):
    """Everything the domain stores: each area's port above (the most specific ones; the rest
    come with them), so an adapter (`DynamoStore`,
    `MemoryStore`) is checked against all of them at once, and each module names the one it
    uses."""


class Recordings(Protocol):
    """Voicemail recordings at the provider, by recording SID (see adapters/recordings.py)."""

    def fetch(self, recording_sid: str) -> bytes | None: ...  # None: the provider has none

    def delete(self, recording_sid: str) -> None: ...  # one gone already is fine


class Deps(Protocol):
    """The one set of dependencies every domain entry point takes as its first argument, built
    once per Lambda container by `chalicelib.wiring` (tests build theirs, with fakes or DynamoDB
    Local): storage, senders, blobs, time, the opening hours, settings and our public URLs.

    Time comes only from `clock()`, so a test (or the local scheduler) moves it for everyone.
    The parts are read-only here (properties), so any implementation of a port will do."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def sms(self) -> SmsSender: ...

    @property
    def calls(self) -> Dialer: ...

    @property
    def mail(self) -> MailSender: ...

    @property
    def blobs(self) -> Blobs: ...

    @property
    def chat(self) -> ChatSender: ...

    @property
    def recordings(self) -> Recordings: ...

    def clock(self) -> datetime: ...

    def hours(self) -> OpeningHours: ...

    def wording(self) -> Wording:
        """Every citizen-facing text: the default templates with managers' edits."""
        ...

    def risk_terms(self) -> TermList:
        """The risk terms managers maintain (or the shipped defaults), cached like the hours."""
        ...

    def public_url(self, path: str) -> str:
        """Our URL for `path` (status callbacks, cancel links): what Twilio calls and signs."""
        ...
