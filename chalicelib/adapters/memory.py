"""An in-memory store: the fake of the storage ports, for fast domain unit tests.

It keeps domain objects, not items, and honours the conditions the domain relies on, as the
DynamoDB store does: a provider id is recorded once, an identity and a contact's open case are
created once, a message is appended only to an open case and never to an erased contact, every
multi-item change either applies whole or raises the same `WriteRejected` subclass, a delivery
status only moves forward, and the waiting, unanswered and outbox indexes follow each change.
tests/contract/test_store_contract.py runs one suite over this store and DynamoDB Local, so the
two cannot drift apart.

Covered: intake (identities, contacts, the open-case pointer, deliveries, `record_inbound`
without bookings, `mark_undeliverable`), routing and case work (`assign`, `to_queue`,
`transfer_to`, `close`, `reopen`, `add_reply`, `set_waiting_queue`, reads, callbacks,
practitioners and duty), outbound messages and the outbox, opening hours, and what the weekly
report reads (`week_items`, saved reports), email threading's indexes (reply tokens and
Message-IDs: `mail_reads`, `index_message_id`). Not covered yet: links, `update_practitioner`,
the inbox page, webinars and bookings (export and erasure here know no bookings); those raise
AttributeError here, so a test that needs them says so at once.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain import model, positions
from chalicelib.domain.errors import (
    CaseChanged,
    CaseNotOpen,
    DuplicateDelivery,
    IdentityTaken,
    InvalidCursor,
    OpenCaseExists,
    PractitionerUnavailable,
    WriteConflict,
    WriteRejected,
)
from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.risk import RANK, Held, Risk, prioritised, queue_position
from chalicelib.domain.wording import TemplateVersion

if TYPE_CHECKING:
    from chalicelib.domain.ports import (
        Blobs,
        CannedStore,
        Dialer,
        HoursStore,
        IntakeAndRoutingStore,
        MailSender,
        OutboxStore,
        RetentionStore,
        SafeguardingStore,
        SmsSender,
        VoiceStore,
    )

OUTBOX_FAILED_RANK = 4  # as the DynamoDB store ranks a cancelled parked message


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Contact:
    id: str
    identities: list[model.Identity] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    erased_at: datetime | None = None
    last_practitioner: str | None = None
    language: str | None = None


@dataclass
class _Event:
    interaction: model.Interaction
    rank: int | None = None
    attempts: int = 0
    slot: str | None = None  # in the outbox, ordered by the next try
    raw_key: str | None = None


def _recorded(interaction: model.Interaction) -> _Event:
    """A timeline entry as stored: one recorded before it is sent is in the outbox until its
    lease ends, as DynamoDB's `interaction_item` writes it (the lease itself is not read back)."""
    lease = interaction.lease_until
    slot = None if lease is None else f"{_iso(lease)}#{interaction.case_id}#{interaction.id}"
    stored = replace(interaction, lease_until=None)
    return _Event(stored, rank=0 if interaction.status else None, slot=slot)


# --- one citizen's data: export, erasure, retention ----------------------------------------


class _PrivacyMixin:
    """Erasure, export and retention over MemoryStore's dictionaries."""

    _lock: threading.RLock
    _identities: dict[model.Identity, model.IdentityRecord]
    _contacts: dict[str, _Contact]
    _open_cases: dict[str, str]
    _deliveries: dict[tuple[str, str], model.Delivery]
    _mail_tokens: dict[str, model.CaseRef]
    _message_ids: dict[str, model.CaseRef]
    _cases: dict[str, model.Case]
    _events: dict[str, dict[str, _Event]]
    _reads: dict[str, list[model.CaseRead]]
    _audits: list[dict[str, Any]]

    def _as_contact(self, held: _Contact) -> model.Contact:
        return model.Contact(
            held.id, tuple(held.cases), tuple(held.identities), held.erased_at, held.language
        )

    def contact(self, contact_id: str) -> model.Contact | None:
        held = self._contacts.get(contact_id)
        return self._as_contact(held) if held else None

    def tombstone_contact(self, contact_id: str, now: datetime) -> model.Contact | None:
        with self._lock:
            held = self._contacts.get(contact_id)
            if held is None:
                return None
            held.erased_at = held.erased_at or now
            return self._as_contact(held)

    def identities_of(self, contact: model.Contact) -> list[model.Identity]:
        return [
            identity
            for identity in contact.identities
            if (record := self._identities.get(identity)) is not None
            and record.contact_id == contact.id
        ]

    def erase_identity(self, identity: model.Identity) -> None:
        self._identities.pop(identity, None)

    def forget_contact(self, contact_id: str) -> None:
        with self._lock:
            self._open_cases.pop(contact_id, None)
            if contact_id in self._contacts:
                self._contacts[contact_id].identities = []
                self._contacts[contact_id].language = None

    def case_records(self, case_id: str) -> model.CaseRecords:
        case = self._cases.get(case_id)
        events = self._events.get(case_id, {})
        return model.CaseRecords(
            id=case_id,
            email_thread=case.email_thread if case else (),
            reply_token=case.reply_token if case else None,
            messages=tuple(_stored(events[i]) for i in sorted(events)),
        )

    def personal_data(
        self, contact: model.Contact, bookings: list[tuple[str, str]]
    ) -> model.PersonalData:
        held = self._contacts.get(contact.id)
        cases = []
        for case_id in contact.cases:
            case = self._cases.get(case_id)
            events = self._events.get(case_id, {})
            head = _document(replace(case, timeline=())) if case else {"id": case_id}
            head.pop("timeline", None)
            cases.append(
                {**head, "timeline": [_document(events[i].interaction) for i in sorted(events)]}
            )
        return model.PersonalData(
            contact={
                "id": contact.id,
                "cases": list(contact.cases),
                "identities": [f"{i.kind}#{i.value}" for i in (held.identities if held else [])],
                **({"language": held.language} if held and held.language else {}),
            },
            identities=[
                {"kind": i.kind, "value": i.value, "contact_id": contact.id}
                for i in self.identities_of(contact)
            ],
            cases=cases,
            bookings=[],  # bookings are not in the in-memory store yet
        )

    def forget_threading(self, case_id: str, message_ids: list[str], token: str | None) -> None:
        with self._lock:
            tokens = [token] if token else []
            for index, keys in ((self._message_ids, message_ids), (self._mail_tokens, tokens)):
                for key in keys:
                    if key in index and index[key].id == case_id:  # another case's stays
                        del index[key]

    def tombstone_delivery(self, provider: str, provider_id: str) -> None:
        with self._lock:
            if (provider, provider_id) in self._deliveries:
                self._deliveries[(provider, provider_id)] = model.Delivery("", None, None, None)

    def forget_delivery(self, provider: str, provider_id: str) -> None:
        self._deliveries.pop((provider, provider_id), None)

    def scrub_case(self, case_id: str) -> None:
        with self._lock:
            case = self._cases.get(case_id)
            if case is not None:
                self._cases[case_id] = replace(
                    case,
                    reply_to=None,
                    reply_token=None,
                    email_subject=None,
                    email_thread=(),
                    callback_number=None,
                    callback_requested_at=None,
                    preview=None,
                    risk=replace(case.risk, reasons=(), note=None) if case.risk else None,
                )

    def scrub_event(self, case_id: str, event_id: str, forget_provider_id: bool = False) -> None:
        with self._lock:
            event = self._events.get(case_id, {}).get(event_id)
            if event is None:
                return
            changes: dict[str, Any] = {"body": "", "to": None, "media": (), "email": None}
            if forget_provider_id:
                changes["provider_id"] = None
            event.interaction = replace(event.interaction, **changes)
            event.raw_key = None

    def scrub_booking(self, webinar_id: str, booking_id: str) -> None:
        """Nothing to do: bookings are not in the in-memory store yet."""

    def remove_media(self, case_id: str, event_id: str) -> None:
        with self._lock:
            event = self._events.get(case_id, {}).get(event_id)
            if event is not None:
                event.interaction = replace(event.interaction, media=())

    def audit(
        self, action: str, contact_id: str, by: str, now: datetime, counts: dict[str, int]
    ) -> None:
        self._audits.append(
            {"action": action, "contact_id": contact_id, "by": by, "at": now, "counts": counts}
        )

    def audits(self, month: str) -> list[dict[str, Any]]:
        return [a for a in self._audits if _iso(a["at"]).startswith(month)]

    def forget_records_between(self, start: datetime, end: datetime) -> int:
        """Deletes the case-read and audit records written in [start, end); how many."""
        with self._lock:
            forgotten = 0
            for case_id, reads in self._reads.items():
                kept = [r for r in reads if not start <= r.at < end]
                forgotten += len(reads) - len(kept)
                self._reads[case_id] = kept
                case = self._cases.get(case_id)
                if case is not None:  # a marker goes with the read it marks
                    marks = tuple((u, at) for u, at in case.last_read if not start <= at < end)
                    self._cases[case_id] = replace(case, last_read=marks)
            kept_audits = [a for a in self._audits if not start <= a["at"] < end]
            forgotten += len(self._audits) - len(kept_audits)
            self._audits[:] = kept_audits
            return forgotten


def _stored(event: _Event) -> model.StoredMessage:
    interaction = event.interaction
    email = interaction.email
    files = [
        email.raw_key if email else None,
        *(a.key for a in (email.attachments if email else ())),
        event.raw_key,
    ]
    return model.StoredMessage(
        id=interaction.id,
        direction=interaction.direction,
        status=interaction.status,
        provider=interaction.provider,
        provider_id=interaction.provider_id,
        message_id=email.message_id if email else None,
        files=tuple(f for f in files if f),
        personal=bool(interaction.body or interaction.to or email or interaction.media),
    )


def _after(
    entries: list[tuple[str, model.Case]],
    after: str | None,
    limit: int,
    only: model.InboxFilter | None,
) -> tuple[list[model.Case], str | None]:
    """The entries past `after` in position order that pass the filters, up to `limit`; the
    position the next page starts after (None: no more)."""
    positions.checked(after, positions.CASE)
    rest = sorted(
        (
            entry
            for entry in entries
            if (after is None or entry[0] > after) and _kept(only, entry[1])
        ),
        key=lambda entry: entry[0],
    )
    page = rest[:limit]
    more = page[-1][0] if len(rest) > limit and page else None
    return [case for _, case in page], more


def _kept(only: model.InboxFilter | None, case: model.Case) -> bool:
    """The inbox's filters, as the DynamoDB store's FilterExpression has them."""
    if only is None:
        return True
    if only.channel is not None and (case.last_inbound_channel or case.channel) != only.channel:
        return False
    return only.needs_reply is None or only.needs_reply == (case.waiting_since is not None)


def _listed(query: model.InboxQuery, case: model.Case) -> bool:
    if case.status not in query.statuses:
        return False
    if query.queues is not None and case.queue not in query.queues:
        return False
    if query.assignee is not None and case.assignee != query.assignee:
        return False
    if query.mine_or_waiting_in is not None:
        me, mine = query.mine_or_waiting_in
        if case.assignee != me and not (case.status == "queued" and case.queue in mine):
            return False
    return _kept(query.only, case)


def _encode_memory_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode()


def _decode_memory_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        position = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("This cursor is not one we gave out.") from error
    return positions.checked(position, positions.CASE)


def _mention_position(mention: model.Mention) -> str:
    """Where a mention sorts, as the DynamoDB store's sort key: time, case, note."""
    return f"{_iso(mention.at)}#{mention.case_id}#{mention.note_id}"


def _document(value: Any) -> Any:
    """A dataclass as a plain document, as the DynamoDB store hands its items out (leaving out
    what is empty)."""
    if is_dataclass(value) and not isinstance(value, type):
        fields_ = {f.name: _document(getattr(value, f.name)) for f in fields(value)}
        return {k: v for k, v in fields_.items() if v not in (None, (), [], {})}
    if isinstance(value, tuple | list):
        return [_document(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    return value


class MemoryStore(_PrivacyMixin):
    """The storage ports over plain dictionaries, one lock for every change (all-or-nothing)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._identities: dict[model.Identity, model.IdentityRecord] = {}
        self._contacts: dict[str, _Contact] = {}
        self._open_cases: dict[str, str] = {}
        self._deliveries: dict[tuple[str, str], model.Delivery] = {}
        # email threading: a reply address's token, a Message-ID -> the case it names
        self._mail_tokens: dict[str, model.CaseRef] = {}
        self._message_ids: dict[str, model.CaseRef] = {}
        self._cases: dict[str, model.Case] = {}
        self._events: dict[str, dict[str, _Event]] = {}
        self._waiting: dict[str, str] = {}  # case id -> "<queued at>#<case id>"
        self._booked: set[str] = set()  # cases holding webinar bookings only
        self._mentions: dict[str, list[model.Mention]] = {}  # user id -> notes naming them
        self._canned: dict[tuple[str | None, str], model.CannedResponse] = {}  # (owner, id)
        self._unanswered: dict[str, str] = {}  # case id -> "<assigned at>#<case id>"
        self._practitioners: dict[str, model.Practitioner] = {}
        self._shifts: list[model.Shift] = []
        self._hours: dict[str, Any] | None = None
        self._reports: dict[str, dict[str, Any]] = {}
        # (case id, user id, UTC hour) -> (the case's channel, the active minutes of that hour)
        self._active: dict[tuple[str, str, datetime], tuple[str, set[int]]] = {}
        self._reports_emailed: set[str] = set()
        self._callback_requests: dict[tuple[str, str], int] = {}
        self._reads: dict[str, list[model.CaseRead]] = {}
        self._audits: list[dict[str, Any]] = []
        self._templates: dict[tuple[str, str], list[TemplateVersion]] = {}
        self._risk_terms: dict[str, Any] | None = None
        self._alerts: dict[str, model.Alert] = {}
        self._surveys: dict[str, tuple[model.Survey, datetime]] = {}  # key -> (question, expires)
        self._surveyed: set[str] = set()  # case ids asked once
        # a supervisor's last alert SMS and the cases batched for her next one
        self._alert_sms: dict[str, tuple[datetime | None, frozenset[str]]] = {}

    # --- satisfaction ------------------------------------------------------------------------

    def start_survey(self, key: str, survey: model.Survey, expires: datetime) -> bool:
        with self._lock:
            if survey.case_id in self._surveyed:
                return False
            self._surveyed.add(survey.case_id)
            self._surveys[key] = (survey, expires)
            return True

    def forget_survey(self, case_id: str) -> None:
        with self._lock:
            for key in [k for k, (s, _) in self._surveys.items() if s.case_id == case_id]:
                del self._surveys[key]

    def find_survey(self, key: str, now: datetime) -> model.Survey | None:
        found = self._surveys.get(key)
        return found[0] if found and found[1] > now else None

    def answer_survey(
        self, key: str, rating: int, answered_by: str, comment: model.Interaction
    ) -> bool:
        with self._lock:
            found = self._surveys.get(key)
            case = self._cases.get(comment.case_id)
            if found is None or found[0].rating is not None or case is None:
                return False
            events = self._events.setdefault(comment.case_id, {})
            if comment.id in events:
                raise WriteConflict("event")
            self._cases[comment.case_id] = replace(case, rating=rating)
            events[comment.id] = _Event(comment, rank=0)
            answered = replace(found[0], rating=rating, answered_by=answered_by)
            self._surveys[key] = (answered, found[1])
            return True

    def _change(self, table: dict[Any, Any], key: Any, **changes: Any) -> bool:
        """A conditional update of one stored record: False when there is none to change."""
        with self._lock:
            current = table.get(key)
            if current is None:
                return False
            table[key] = replace(current, **changes)
            return True

    # --- intake --------------------------------------------------------------------------------

    def find_identity(self, identity: model.Identity) -> model.IdentityRecord | None:
        return self._identities.get(identity)

    def find_open_case(self, contact_id: str) -> str | None:
        return self._open_cases.get(contact_id)

    def find_delivery(self, provider: str, provider_id: str) -> model.Delivery | None:
        return self._deliveries.get((provider, provider_id))

    def mail_reads(
        self, message: model.InboundMessage, message_ids: tuple[str, ...]
    ) -> model.MailReads:
        assert message.email is not None
        token = message.email.reply_token
        if 2 + bool(token) + len(set(message_ids)) > 100:
            raise ValueError("BatchGetItem reads at most 100 keys")
        with self._lock:
            return model.MailReads(
                delivery=self._deliveries.get((message.provider, message.provider_id)),
                identity=self._identities.get(message.sender),
                by_token=self._mail_tokens.get(token) if token else None,
                by_message_id={m: ref for m in message_ids if (ref := self._message_ids.get(m))},
            )

    def index_message_id(self, message_id: str, case_id: str, contact_id: str) -> None:
        self._message_ids[message_id] = model.CaseRef(case_id, "", None, contact_id)

    def last_practitioner(self, contact_id: str) -> str | None:
        contact = self._contacts.get(contact_id)
        return contact.last_practitioner if contact else None

    def contact_language(self, contact_id: str) -> str | None:
        contact = self._contacts.get(contact_id)
        return contact.language if contact else None

    def set_contact_language(self, contact_id: str, language: str) -> bool:
        with self._lock:
            contact = self._contacts.get(contact_id)
            if contact is None or contact.erased_at is not None:
                return False
            contact.language = language
            return True

    def record_inbound(self, write: model.InboundWrite) -> None:
        if write.booking is not None:
            raise NotImplementedError("bookings are not in the in-memory store yet")
        with self._lock:
            self._raise_for(self._inbound_failures(write))
            self._apply_inbound(write)

    def _inbound_failures(self, write: model.InboundWrite) -> set[str]:
        failed: set[str] = set()
        contact = self._contacts.get(write.contact_id)
        live = contact is not None and contact.erased_at is None
        held = self._identities.get(write.identity)
        if write.new_contact:
            if held is not None:
                failed.add("identity")
            if contact is not None:
                failed.add("contact")
        elif write.new_identity:
            if held is not None:
                failed.add("identity")
            if not live:
                failed.add("contact")
        elif write.link_identity or write.opted_out is not None:
            if held is None or held.contact_id != write.contact_id:
                failed.add("identity")
        if write.contact_language is not None and not write.new_contact and not live:
            failed.add("contact")
        if write.opening is not None:
            if not write.new_contact and not live:
                failed.add("contact")
            if write.contact_id in self._open_cases:
                failed.add("open_case")
            if write.case_id in self._cases:
                failed.add("case")
        else:
            case = self._cases.get(write.case_id)
            if case is None or case.status == "closed":
                failed.add("case")
        events = self._events.get(write.case_id, {})
        if any(i.id in events for i in write.interactions):
            failed.add("interaction")
        if (write.provider, write.provider_id) in self._deliveries:
            failed.add("dedupe")
        return failed

    @staticmethod
    def _raise_for(failed: set[str]) -> None:
        for role, error in (
            ("dedupe", DuplicateDelivery),
            ("identity", IdentityTaken),
            ("open_case", OpenCaseExists),
            ("case", CaseNotOpen),
            ("contact", IdentityTaken),
        ):
            if role in failed:
                raise error(role)
        if failed:
            raise WriteConflict(", ".join(sorted(failed)))

    def _apply_inbound(self, write: model.InboundWrite) -> None:
        inbound = write.interactions[0]
        booked = write.opening is not None and write.opening.channel == "webinar"
        new_record = model.IdentityRecord(
            write.identity,
            write.contact_id,
            write.case_id,
            bool(write.opted_out),
            open_case_booked=booked,
        )
        if write.new_contact:
            self._identities[write.identity] = new_record
            self._contacts[write.contact_id] = _Contact(
                write.contact_id, [write.identity], [write.case_id], language=write.contact_language
            )
        elif write.new_identity:
            self._identities[write.identity] = new_record
            self._contacts[write.contact_id].identities.append(write.identity)
        elif write.link_identity or write.opted_out is not None:
            record = self._identities[write.identity]
            if write.link_identity:
                record = replace(record, open_case_id=write.case_id, open_case_booked=booked)
            if write.opted_out is not None:
                record = replace(record, opted_out=write.opted_out)
            self._identities[write.identity] = record
        if write.opening is not None and not write.new_contact:
            self._contacts[write.contact_id].cases.append(write.case_id)
        if write.contact_language is not None:
            self._contacts[write.contact_id].language = write.contact_language
        email = inbound.email
        if write.opening is not None:
            opening = write.opening
            self._open_cases[write.contact_id] = write.case_id
            self._cases[write.case_id] = model.Case(
                id=write.case_id,
                contact_id=write.contact_id,
                status="queued",
                queue=opening.queue,
                channel=opening.channel,
                channels=(opening.channel,),
                opened_at=opening.opened_at,
                last_activity_at=inbound.at,
                inbound_count=1,
                reply_to=write.identity,
                reply_token=opening.reply_token or None,
                language=opening.language,
                email_subject=email.subject if email else None,
                email_thread=(email.message_id,) if email and email.message_id else (),
                possible_link=email.possible_link if email else None,
                preview=None if booked else model.preview_of(inbound.body),
                last_inbound_channel=None if booked else inbound.channel,
                waiting_since=None if booked else inbound.at,
                last_inbound_at=inbound.at,
                risk=opening.risk,
            )
            if booked:  # kept for its timeline: no inbox, no waiting list
                self._booked.add(write.case_id)
            else:
                high = opening.risk is not None and opening.risk.level == "high"
                place = f"{_iso(inbound.at)}#{write.case_id}"
                self._waiting[write.case_id] = queue_position(place, high)
        else:
            case = self._cases[write.case_id]
            changes: dict[str, Any] = {
                "last_activity_at": inbound.at,
                "last_inbound_at": inbound.at,
                "reply_to": write.identity,
                "inbound_count": (case.inbound_count or 0) + 1,
                "channels": tuple(sorted({*case.channels, inbound.channel})),
            }
            if email is not None and email.message_id:
                changes["email_thread"] = (*case.email_thread, email.message_id)
                changes["email_subject"] = case.email_subject or email.subject
            if email is not None and email.possible_link:
                changes["possible_link"] = email.possible_link
            if inbound.channel != "webinar":  # a booking is no question: nothing to answer
                changes["preview"] = model.preview_of(inbound.body)
                changes["last_inbound_channel"] = inbound.channel
                changes["waiting_since"] = case.waiting_since or inbound.at
            self._cases[write.case_id] = replace(case, **changes)
        events = self._events.setdefault(write.case_id, {})
        for interaction in write.interactions:
            events[interaction.id] = _recorded(replace(interaction, contact_id=write.contact_id))
        self._deliveries[(write.provider, write.provider_id)] = model.Delivery(
            write.case_id, write.reply, write.reply_ref, inbound.id
        )
        ref = model.CaseRef(write.case_id, "", None, write.contact_id)
        if write.opening is not None and write.opening.reply_token:
            self._mail_tokens[write.opening.reply_token] = ref
        if email is not None and email.message_id and email.new_message_id:
            self._message_ids[email.message_id] = ref

    def promote_booked(
        self, case_id: str, identity: model.Identity, at: datetime
    ) -> model.CaseRef | None:
        with self._lock:
            record = self._identities.get(identity)
            if record is not None and record.open_case_id == case_id:
                self._identities[identity] = replace(record, open_case_booked=False)
            case = self._cases.get(case_id)
            if case_id not in self._booked or case is None or case.status != "queued":
                return None
            self._booked.discard(case_id)
            self._waiting[case_id] = self._place(case_id, f"{_iso(at)}#{case_id}")
            return self._ref(case_id)

    # --- cases ---------------------------------------------------------------------------------

    def get_case(self, case_id: str, with_timeline: bool = False) -> model.Case | None:
        case = self._cases.get(case_id)
        if case is None or not with_timeline:
            return case
        return replace(case, timeline=tuple(self.timeline(case_id)))

    def timeline(self, case_id: str) -> list[model.Interaction]:
        events = self._events.get(case_id, {})
        return [events[i].interaction for i in sorted(events)]

    def waiting_cases(self, queue: str, limit: int = 10) -> list[model.CaseRef]:
        waiting = sorted(
            (since, case_id)
            for case_id, since in self._waiting.items()
            if self._cases[case_id].queue == queue
        )
        return [self._ref(case_id) for _, case_id in waiting[:limit]]

    def unanswered_since_before(self, cutoff: datetime) -> list[model.CaseRef]:
        cut = _iso(cutoff)
        return [
            self._ref(case_id)
            for since, case_id in sorted((s, c) for c, s in self._unanswered.items())
            if since < cut
        ]

    def _ref(self, case_id: str) -> model.CaseRef:
        case = self._cases[case_id]
        position = self._waiting.get(case_id)
        level = case.risk.level if case.risk else None
        return model.CaseRef(
            case.id,
            case.queue,
            case.language,
            case.contact_id,
            case.assignee,
            waiting_since=position,
            risk="high" if position and prioritised(position) else level,
        )

    # --- safeguarding --------------------------------------------------------------------------

    def _place(self, case_id: str, since: str) -> str:
        """A case (back) in its queue: first if its risk is high, under the same lock."""
        risk = self._cases[case_id].risk
        return queue_position(since, risk is not None and risk.level == "high")

    def set_risk(
        self, case_id: str, risk: Risk, *, only_if_higher: bool, held: Held | None = None
    ) -> model.Case | None:
        with self._lock:
            case = self._cases.get(case_id)
            if case is None:
                return None
            rank = RANK[case.risk.level] if case.risk else None
            if only_if_higher and rank is not None and rank >= RANK[risk.level]:
                return None
            if held is not None and held.risk is not None and case.risk != held.risk:
                return None
            unread = held.inbound_count if held is not None else None
            if unread is not None and RANK[risk.level] <= (rank or 0):
                if (case.inbound_count or 0) != unread:
                    return None  # the citizen wrote since the author read the case
            self._cases[case_id] = replace(case, risk=risk)
            if case_id in self._waiting:
                self._waiting[case_id] = queue_position(
                    self._waiting[case_id], risk.level == "high"
                )
            return self._cases[case_id]

    def load_risk_terms(self) -> dict[str, Any] | None:
        return self._risk_terms

    def save_risk_terms(self, terms: dict[str, Any], expected_version: int) -> bool:
        with self._lock:
            held = int(self._risk_terms["version"]) if self._risk_terms else 0
            if held != expected_version:
                return False
            self._risk_terms = json.loads(json.dumps(terms))
            return True

    def get_alert(self, case_id: str) -> model.Alert | None:
        return self._alerts.get(case_id)

    def put_alert(self, alert: model.Alert, expected_version: int | None) -> bool:
        with self._lock:
            held = self._alerts.get(alert.case_id)
            if (held.version if held else None) != expected_version:
                return False
            self._alerts[alert.case_id] = alert
            return True

    def claim_alert_sms(
        self, practitioner_id: str, case_id: str | None, now: datetime, cutoff: datetime
    ) -> tuple[str, ...]:
        with self._lock:
            sent_at, pending = self._alert_sms.get(practitioner_id, (None, frozenset()))
            if (sent_at is None or sent_at <= cutoff) and (case_id is not None or pending):
                self._alert_sms[practitioner_id] = (now, frozenset())
                return tuple(sorted(pending | ({case_id} if case_id else set())))
            if case_id is not None:
                self._alert_sms[practitioner_id] = (sent_at, pending | {case_id})
            return ()

    def alerts_due(self, now: datetime) -> list[model.Alert]:
        due = [a for a in self._alerts.values() if a.next_look and a.next_look <= now]
        return sorted(due, key=lambda a: (a.next_look, a.case_id))

    def assign(
        self, case: model.CaseRef, practitioner_id: str, now: datetime, *, require_on_duty: bool
    ) -> None:
        with self._lock:
            failed = set()
            current = self._cases.get(case.id)
            if current is None or current.status != "queued":
                failed.add("case")
            practitioner = self._practitioners.get(practitioner_id)
            if (
                practitioner is None
                or not practitioner.has_room
                or (require_on_duty and not practitioner.on_duty)
            ):
                failed.add("practitioner")
            self._raise_for_hands(failed)
            self._hand_to(case, practitioner_id, now)

    def _hand_to(self, case: model.CaseRef, practitioner_id: str, now: datetime) -> None:
        """The checked case to the practitioner, one more on their load, and the contact's
        memory of them (as DynamoCases._hand_to writes it)."""
        practitioner = self._practitioners[practitioner_id]
        self._cases[case.id] = replace(
            self._cases[case.id], status="assigned", assignee=practitioner_id, assigned_at=now
        )
        self._waiting.pop(case.id, None)
        self._unanswered[case.id] = f"{_iso(now)}#{case.id}"
        self._practitioners[practitioner_id] = replace(
            practitioner, active_cases=practitioner.active_cases + 1, last_assigned_at=now
        )
        contact = self._contacts.setdefault(case.contact_id, _Contact(case.contact_id))
        contact.last_practitioner = practitioner_id

    def to_queue(
        self, case: model.CaseRef, queue: str, now: datetime, *, only_if_unanswered: bool = False
    ) -> None:
        with self._lock:
            failed = self._held_by(case)
            if only_if_unanswered and case.id not in self._unanswered:
                failed.add("case")
            failed |= self._release_failures(case.assignee)
            self._raise_for_hands(failed)
            current = self._cases[case.id]
            self._cases[case.id] = replace(
                current, status="queued", queue=queue, assignee=None, assigned_at=None
            )
            self._unanswered.pop(case.id, None)
            self._waiting[case.id] = self._place(case.id, f"{_iso(now)}#{case.id}")
            self._release(case.assignee)

    def close(self, case: model.CaseRef, outcome: str, closed_by: str, now: datetime) -> None:
        with self._lock:
            failed = self._held_by(case)
            if self._open_cases.get(case.contact_id) != case.id:
                failed.add("open_case")
            note = model.closing_note(case.id, outcome, closed_by, now)
            if note.id in self._events.get(case.id, {}):
                failed.add("event")
            failed |= self._release_failures(case.assignee)
            self._raise_for_hands(failed)
            current = self._cases[case.id]
            self._cases[case.id] = replace(current, status="closed", outcome=outcome, closed_at=now)
            del self._open_cases[case.contact_id]
            self._waiting.pop(case.id, None)
            self._unanswered.pop(case.id, None)
            self._events.setdefault(case.id, {})[note.id] = _Event(note, rank=0)
            self._release(case.assignee)

    def transfer_to(self, case: model.CaseRef, practitioner_id: str, now: datetime) -> None:
        with self._lock:
            failed = self._held_by(case)
            practitioner = self._practitioners.get(practitioner_id)
            if practitioner is None or not practitioner.has_room:
                failed.add("practitioner")
            failed |= self._release_failures(case.assignee)
            self._raise_for_hands(failed)
            self._release(case.assignee)
            self._hand_to(case, practitioner_id, now)  # its load as released, if the same

    def reopen(self, case: model.CaseRef, now: datetime) -> None:
        with self._lock:
            failed = set()
            if case.contact_id in self._open_cases:
                failed.add("open_case")
            current = self._cases.get(case.id)
            if current is None or current.status != "closed" or current.erased_at is not None:
                failed.add("case")
            self._raise_for_hands(failed)
            assert current is not None
            self._open_cases[case.contact_id] = case.id
            self._cases[case.id] = replace(
                current,
                status="queued",
                last_activity_at=now,
                assignee=None,
                assigned_at=None,
                closed_at=None,
                outcome=None,
            )
            self._waiting[case.id] = self._place(case.id, f"{_iso(now)}#{case.id}")

    def add_reply(
        self, reply: model.Interaction, case: model.CaseRef, *, answered_by_assignee: bool
    ) -> None:
        with self._lock:
            failed = self._held_by(case)
            if reply.id in self._events.get(case.id, {}):
                failed.add("event")
            self._raise_for_hands(failed)
            current = self._cases[case.id]
            self._cases[case.id] = replace(
                current,
                last_activity_at=reply.at,
                first_response_at=current.first_response_at or reply.at,
                waiting_since=None,
            )
            if answered_by_assignee:
                self._waiting.pop(case.id, None)
                self._unanswered.pop(case.id, None)
            self._events.setdefault(case.id, {})[reply.id] = _recorded(reply)

    def mark_presence(self, case_id: str, user_id: str, activity: str, until: datetime) -> None:
        with self._lock:
            case = self._cases[case_id]
            others = tuple(p for p in case.presence if p.user_id != user_id)
            entry = model.Presence(user_id, activity, until)
            presence = tuple(sorted((*others, entry), key=lambda p: p.user_id))
            self._cases[case_id] = replace(case, presence=presence)

    def set_waiting_queue(self, case_id: str, queue: str) -> bool:
        with self._lock:
            case = self._cases.get(case_id)
            if case is None or case.status != "queued":
                return False
            self._cases[case_id] = replace(case, queue=queue)
            return True

    def record_read(self, case_id: str, user_id: str, role: str, at: datetime) -> None:
        with self._lock:
            self._reads.setdefault(case_id, []).append(model.CaseRead(case_id, user_id, role, at))
            case = self._cases.get(case_id)
            if case is not None:
                read = {**dict(case.last_read), user_id: at}
                self._cases[case_id] = replace(case, last_read=tuple(sorted(read.items())))

    def case_reads(self, case_id: str) -> list[model.CaseRead]:
        return sorted(self._reads.get(case_id, []), key=lambda r: (_iso(r.at), r.user_id))

    def _held_by(self, case: model.CaseRef) -> set[str]:
        current = self._cases.get(case.id)
        if (
            current is None
            or current.status == "closed"
            or current.assignee != case.assignee
            or (case.inbound_count is not None and current.inbound_count != case.inbound_count)
        ):
            return {"case"}
        return set()

    def _release_failures(self, practitioner_id: str | None) -> set[str]:
        if practitioner_id is None:
            return set()
        practitioner = self._practitioners.get(practitioner_id)
        return set() if practitioner and practitioner.active_cases > 0 else {"previous"}

    def _release(self, practitioner_id: str | None) -> None:
        if practitioner_id is not None:
            held = self._practitioners[practitioner_id]
            self._practitioners[practitioner_id] = replace(held, active_cases=held.active_cases - 1)

    @staticmethod
    def _raise_for_hands(failed: set[str]) -> None:
        if "case" in failed:
            raise CaseChanged("case")
        if "practitioner" in failed:
            raise PractitionerUnavailable("practitioner")
        if "open_case" in failed:
            raise OpenCaseExists("open_case")
        if failed:
            raise WriteConflict(", ".join(sorted(failed)))

    def request_callback(self, case_id: str, number: str, now: datetime) -> None:
        with self._lock:
            case = self._cases.get(case_id)
            if case is None:
                raise WriteRejected("case")
            self._cases[case_id] = replace(
                case, callback_number=number, callback_requested_at=now, last_activity_at=now
            )

    def count_callback_request(self, number: str, now: datetime, limit: int) -> bool:
        """Counts one request for `number` on the UTC day; False once it has had `limit`."""
        key = (number, now.astimezone(UTC).date().isoformat())
        with self._lock:
            if self._callback_requests.get(key, 0) >= limit:
                return False
            self._callback_requests[key] = self._callback_requests.get(key, 0) + 1
            return True

    def clear_callback(self, case_id: str) -> None:
        with self._lock:
            case = self._cases.get(case_id)
            if case is not None:
                self._cases[case_id] = replace(
                    case, callback_number=None, callback_requested_at=None
                )

    def mark_case_erased(self, case_id: str, now: datetime) -> None:
        with self._lock:
            case = self._cases.get(case_id)
            if case is not None and case.erased_at is None:
                self._cases[case_id] = replace(case, erased_at=now)

    # --- practitioners -------------------------------------------------------------------------

    def create_practitioner(self, practitioner: model.Practitioner) -> bool:
        with self._lock:
            if practitioner.id in self._practitioners:
                return False
            self._practitioners[practitioner.id] = practitioner
            return True

    def get_practitioner(self, practitioner_id: str) -> model.Practitioner | None:
        return self._practitioners.get(practitioner_id)

    def list_practitioners(self, on_duty_only: bool = False) -> list[model.Practitioner]:
        # as DynamoDB lists them: by "off#<id>" / "on#<id>"
        listed = sorted(
            self._practitioners.values(), key=lambda p: f"{'on' if p.on_duty else 'off'}#{p.id}"
        )
        return [p for p in listed if p.on_duty or not on_duty_only]

    def go_on_duty(self, practitioner_id: str, now: datetime) -> bool:
        with self._lock:
            held = self._practitioners.get(practitioner_id)
            if held is None or held.on_duty:
                return False
            self._practitioners[practitioner_id] = replace(held, on_duty=True, shift_started_at=now)
            return True

    def go_off_duty(self, practitioner: model.Practitioner, now: datetime) -> model.Shift | None:
        if not practitioner.on_duty or practitioner.shift_started_at is None:
            return None
        start = practitioner.shift_started_at
        with self._lock:
            held = self._practitioners.get(practitioner.id)
            if held is None or not held.on_duty or held.shift_started_at != start:
                raise WriteConflict("profile")
            self._practitioners[practitioner.id] = replace(
                held, on_duty=False, shift_started_at=None
            )
            shift = model.Shift(practitioner.id, start, max(now, start))
            self._shifts.append(shift)
            return shift

    # --- outbound messages and the outbox ------------------------------------------------------

    def get_reply_identity(self, case_id: str) -> model.Identity | None:
        case = self._cases.get(case_id)
        return case.reply_to if case else None

    def add_interaction(self, interaction: model.Interaction) -> None:
        with self._lock:
            events = self._events.setdefault(interaction.case_id, {})
            if interaction.id in events:
                raise WriteRejected("interaction")
            events[interaction.id] = _recorded(interaction)

    def mark_call_answered(self, case_id: str, interaction_id: str, answered: bool) -> None:
        self._change_call(case_id, interaction_id, answered=answered)

    def mark_call_wait(self, case_id: str, call_id: str, at: datetime, ended: bool) -> None:
        with self._lock:
            event = self._events.get(case_id, {}).get(call_id)
            field = "waited_until" if ended else "waiting_at"
            if event is not None and getattr(event.interaction, field) is not None:
                return  # the first report stands
            self._change_call(case_id, call_id, **{field: at})

    def _change_call(self, case_id: str, call_id: str, **changes: Any) -> None:
        with self._lock:
            event = self._events.get(case_id, {}).get(call_id)
            if event is None:
                raise WriteRejected("event")
            event.interaction = replace(event.interaction, **changes)

    def mark_undeliverable(self, identity: model.Identity, reason: str) -> bool:
        return self._change(self._identities, identity, undeliverable=reason)

    def add_note(self, note: model.Interaction, mentioned: tuple[str, ...]) -> None:
        with self._lock:
            events = self._events.setdefault(note.case_id, {})
            if note.id in events:
                raise WriteConflict("note")
            events[note.id] = _Event(note, rank=None)
            for user in mentioned:
                entry = model.Mention(user, note.case_id, note.id, note.author or "", note.at)
                self._mentions.setdefault(user, []).append(entry)

    def save_canned(self, canned: model.CannedResponse) -> None:
        with self._lock:
            self._canned[(canned.owner, canned.id)] = canned

    def replace_canned(self, canned: model.CannedResponse) -> bool:
        with self._lock:
            if (canned.owner, canned.id) not in self._canned:
                return False
            self._canned[(canned.owner, canned.id)] = canned
            return True

    def canned_of(self, owner: str | None) -> list[model.CannedResponse]:
        mine = [c for (o, _), c in self._canned.items() if o == owner]
        return sorted(mine, key=lambda c: c.id)

    def get_canned(self, owner: str | None, canned_id: str) -> model.CannedResponse | None:
        return self._canned.get((owner, canned_id))

    def delete_canned(self, owner: str | None, canned_id: str) -> bool:
        with self._lock:
            return self._canned.pop((owner, canned_id), None) is not None

    def mentions_of(
        self, user_id: str, limit: int, after: str | None = None
    ) -> tuple[list[model.Mention], str | None]:
        positions.checked(after, positions.MENTION)
        with self._lock:
            entries = sorted(
                ((_mention_position(m), m) for m in self._mentions.get(user_id, [])),
                key=lambda pair: pair[0],
                reverse=True,
            )
        later = [pair for pair in entries if after is None or pair[0] < after]
        page = later[:limit]
        more = len(later) > limit
        return [m for _, m in page], page[-1][0] if more else None

    def read_mentions(self, user_id: str, case_id: str) -> None:
        with self._lock:
            self._mentions[user_id] = [
                replace(m, read=True) if m.case_id == case_id else m
                for m in self._mentions.get(user_id, [])
            ]

    def count_mentions(self, user_id: str) -> int:
        return sum(1 for m in self._mentions.get(user_id, []) if not m.read)

    # --- the inbox: the pages the DynamoDB store reads from its index keys ----------------------

    def practitioner_page(
        self,
        practitioner_id: str,
        after: str | None,
        limit: int,
        only: model.InboxFilter | None = None,
    ) -> tuple[model.Practitioner | None, list[model.Case], str | None]:
        with self._lock:
            profile = self._practitioners.get(practitioner_id)
            cases, more = self.mine_page(practitioner_id, after, limit, only)
        return profile, cases, more

    def mine_page(
        self,
        practitioner_id: str,
        after: str | None,
        limit: int,
        only: model.InboxFilter | None = None,
    ) -> tuple[list[model.Case], str | None]:
        """Their open cases in the order they were handed them (gsi4 `MINE#<id>`)."""
        with self._lock:
            held = [
                (f"{_iso(c.assigned_at)}#{c.id}", c)
                for c in self._in_inbox()
                if c.status == "assigned" and c.assignee == practitioner_id and c.assigned_at
            ]
        return _after(held, after, limit, only)

    def waiting_page(
        self,
        queues: frozenset[str],
        after: str | None,
        limit: int,
        only: model.InboxFilter | None = None,
    ) -> tuple[list[model.Case], str | None]:
        """The queues' waiting cases, longest waiting first (gsi4 `QUEUED#<q>`, merged)."""
        with self._lock:
            waiting = [
                (since, self._cases[case_id])
                for case_id, since in self._waiting.items()
                if self._cases[case_id].queue in queues and case_id not in self._booked
            ]
        return _after(waiting, after, limit, only)

    def inbox_page(self, query: model.InboxQuery) -> tuple[list[model.Case], str | None]:
        """Newest activity first (gsi1: the open shards merged, or the closed cases)."""
        with self._lock:
            if query.closed:
                pool = [c for c in self._cases.values() if c.status == "closed"]
            else:
                pool = list(self._in_inbox())
        listed = [(f"{_iso(c.last_activity_at)}#{c.id}", c) for c in pool if _listed(query, c)]
        listed.sort(key=lambda entry: entry[0], reverse=True)
        after = _decode_memory_cursor(query.cursor)
        rest = [c for position, c in listed if after is None or position < after]
        page = rest[: query.limit]
        if len(rest) <= query.limit:
            return page, None
        last = page[-1]
        return page, _encode_memory_cursor(f"{_iso(last.last_activity_at)}#{last.id}")

    def count_mine(self, practitioner_id: str) -> int:
        with self._lock:
            return sum(1 for c in self._in_inbox() if c.assignee == practitioner_id)

    def count_waiting(self, queue: str) -> int:
        with self._lock:
            return sum(1 for c in self._in_inbox() if c.status == "queued" and c.queue == queue)

    def count_open(self) -> int:
        with self._lock:
            return sum(1 for _ in self._in_inbox())

    def _in_inbox(self) -> Iterator[model.Case]:
        """The open cases the inbox lists (a case holding bookings only is in none)."""
        return (
            c
            for c in self._cases.values()
            if c.status in ("queued", "assigned") and c.id not in self._booked
        )

    def add_interaction_once(self, interaction: model.Interaction) -> bool:
        try:
            self.add_interaction(interaction)
        except WriteRejected:
            return False
        return True

    def update_delivery_status(
        self, case_id: str, interaction_id: str, update: model.StatusUpdate
    ) -> bool:
        with self._lock:
            event = self._events.get(case_id, {}).get(interaction_id)
            if event is None or (event.rank is not None and event.rank >= update.rank):
                return False
            self._set_status(event, update)
            event.slot = None  # the provider has it: out of the outbox, as in DynamoDB
            return True

    @staticmethod
    def _set_status(event: _Event, update: model.StatusUpdate) -> None:
        changes: dict[str, Any] = {"status": update.status}
        for name in ("provider_id", "provider", "error_code", "duration_seconds"):
            value = getattr(update, name)
            if value is not None and value != "":  # as DynamoDB's: None or "" keeps the stored
                changes[name] = value
        event.interaction = replace(event.interaction, **changes)
        event.rank = update.rank

    def add_interaction_unless_erased(self, interaction: model.Interaction) -> bool:
        with self._lock:
            case = self._cases.get(interaction.case_id)
            if case is not None and case.erased_at is not None:
                return False
            events = self._events.setdefault(interaction.case_id, {})
            if interaction.id in events:
                raise WriteConflict("event")
            events[interaction.id] = _recorded(interaction)
            return True

    def park(self, case_id: str, interaction_id: str, retry: model.Retry) -> bool:
        with self._lock:
            event = self._events.get(case_id, {}).get(interaction_id)
            if event is None or not event.interaction.to:
                return False
            event.interaction = replace(
                event.interaction, status="retrying", error_code=retry.error
            )
            event.attempts = retry.attempts
            event.slot = f"{_iso(retry.at)}#{case_id}#{interaction_id}"
            if retry.raw_key:
                event.raw_key = retry.raw_key
            return True

    def due(self, now: datetime) -> list[model.Parked]:
        limit = _iso(now) + "#~"
        parked = [
            model.Parked(
                e.interaction.case_id,
                e.interaction.id,
                e.interaction.channel,
                e.interaction.to or "",
                e.interaction.body,
                e.attempts,  # 0: its first send was interrupted
                e.slot,
                e.raw_key,
                e.interaction.automated,
            )
            for events in self._events.values()
            for e in events.values()
            if e.slot is not None and e.slot <= limit and e.interaction.to
        ]
        return sorted(parked, key=lambda p: p.slot)

    def claim(self, entry: model.Parked, lease_until: datetime) -> bool:
        with self._lock:
            event = self._events.get(entry.case_id, {}).get(entry.interaction_id)
            if event is None or event.slot != entry.slot or not event.interaction.to:
                return False
            event.slot = f"{_iso(lease_until)}#{entry.case_id}#{entry.interaction_id}"
            return True

    def cancel_parked(self, case_id: str, interaction_id: str) -> bool:
        with self._lock:
            event = self._events.get(case_id, {}).get(interaction_id)
            if event is None or event.slot is None:
                return False
            cancelled = model.StatusUpdate(
                "failed", OUTBOX_FAILED_RANK, error_code="cancelled: erased"
            )
            self._set_status(event, cancelled)
            event.slot, event.raw_key = None, None
            return True

    def unpark(self, case_id: str, interaction_id: str, update: model.StatusUpdate) -> None:
        with self._lock:
            event = self._events.setdefault(case_id, {}).get(interaction_id)
            if event is None:
                raise WriteConflict("event")  # DynamoDB would write a stray item; never wanted
            self._set_status(event, update)
            event.slot = None

    # --- settings and reports ------------------------------------------------------------------

    def template_overrides(self) -> list[TemplateVersion]:
        return [versions[-1] for versions in self._templates.values()]

    def save_template(self, version: TemplateVersion) -> bool:
        with self._lock:
            versions = self._templates.setdefault((version.language, version.key), [])
            if len(versions) != version.version - 1:
                return False
            versions.append(version)
            return True

    def template_versions(self, language: str, key: str) -> list[TemplateVersion]:
        return list(self._templates.get((language, key), []))

    def set_case_language(self, case_id: str, language: str) -> bool:
        return self._change(self._cases, case_id, language=language)

    def load_hours(self) -> OpeningHours | None:
        return OpeningHours.from_item(self._hours) if self._hours is not None else None

    def save_hours(self, hours: OpeningHours) -> None:
        self._hours = hours.to_item()  # stored as the document, read back as DynamoDB's is

    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[model.Case], list[model.Interaction], list[model.Shift]]:
        """Cases opened, interactions and shift starts in [start, end)."""
        cases = [c for c in self._cases.values() if start <= c.opened_at < end]
        interactions = [
            e.interaction
            for events in self._events.values()
            for e in events.values()
            if start <= e.interaction.at < end
        ]
        shifts = [s for s in self._shifts if start <= s.start < end]
        return cases, interactions, shifts

    def record_active_minute(self, case_id: str, user_id: str, channel: str, at: datetime) -> None:
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        with self._lock:
            _, minutes = self._active.setdefault((case_id, user_id, hour), (channel, set()))
            minutes.add(at.astimezone(UTC).minute)

    def active_time(self, start: datetime, end: datetime) -> list[model.ActiveTime]:
        with self._lock:
            return [
                model.ActiveTime(case_id, user_id, channel, hour, len(minutes))
                for (case_id, user_id, hour), (channel, minutes) in sorted(self._active.items())
                if start <= hour < end
            ]

    def get_report(self, week: str) -> dict[str, Any] | None:
        return self._reports.get(week)

    def save_report(self, week: str, figures: dict[str, Any]) -> None:
        self._reports[week] = json.loads(json.dumps(figures, sort_keys=True))

    def claim_report_email(self, week: str, now: datetime) -> bool:
        with self._lock:
            if week not in self._reports or week in self._reports_emailed:
                return False
            self._reports_emailed.add(week)
            return True


# --- blobs and senders -------------------------------------------------------------------------


class MemoryBlobs:
    """Blobs in a dictionary (LocalBlobs keeps them in a folder, S3Blobs in a bucket)."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.blobs[key] = (data, content_type)

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        """Write once: FileExistsError rather than replace bytes someone already stored."""
        if key in self.blobs:
            raise FileExistsError(key)
        self.blobs[key] = (data, content_type)

    def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise FileNotFoundError(key)
        return self.blobs[key][0]

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)


@dataclass(frozen=True)
class Sent:
    provider: str
    provider_id: str
    status: str


@dataclass
class RecordingSender:
    """Every sender port at once (SMS, calls, email), keeping what was sent, in order. Set
    `failing` to an exception and each send raises it instead (a provider refusing or down)."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    failing: Exception | None = None

    def _send(self, kind: str, **what: Any) -> Sent:
        if self.failing is not None:
            raise self.failing
        self.sent.append({"kind": kind, **what})
        return Sent("memory", f"MEM{kind}{len(self.sent):06d}", "queued")

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        return self._send("sms", to=to, body=body, status_callback=status_callback)

    def connect(self, practitioner_phone: str, citizen: str, status_callback: str | None) -> Sent:
        return self._send(
            "call", to=citizen, practitioner=practitioner_phone, status_callback=status_callback
        )

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        return self._send("email", to=to, raw=raw, ref=ref)


if TYPE_CHECKING:
    # Never called: mypy checks here that the fakes implement the ports they stand in for (as
    # wiring's `build_services` checks DynamoStore against all of `Store`). The fake covers the
    # areas the unit tests run on it: intake, routing, hours, the outbox, calls and privacy;
    # casework, mail threading, staffing, webinars and reports are tested on DynamoDB Local.
    def _stands_in_for_the_ports() -> tuple[
        IntakeAndRoutingStore,
        SafeguardingStore,
        OutboxStore,
        HoursStore,
        VoiceStore,
        RetentionStore,
        CannedStore,
        Blobs,
        SmsSender,
        Dialer,
        MailSender,
    ]:
        store, sender = MemoryStore(), RecordingSender()
        return (
            store,
            store,
            store,
            store,
            store,
            store,
            store,
            MemoryBlobs(),
            sender,
            sender,
            sender,
        )
