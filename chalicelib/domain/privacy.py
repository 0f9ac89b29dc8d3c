"""One citizen's data: export everything stored about them, or erase it.

Erasure reaches every item that holds their identities, message bodies, addresses, bookings and
outbound messages, and the bytes of their emails and attachments; it keeps the structure the
weekly reports count (channel, direction, time, status), so past reports stay right. It leaves an
audit record with no personal data: who erased which pseudonymous contact, when, how much.

It stays erased. The contact is tombstoned first, so intake can no longer open a case on it or add
an address to it; each case is marked erased and closed before its timeline is read, so no
message can be added behind the scrub (intake only appends to an open case, a refused automatic
message is only parked on a case not marked erased). A message that loses either race is
re-planned by intake onto a fresh contact. Parked messages are cancelled with their bytes; the
case's reply address and Message-IDs are forgotten, so later mail naming them starts a new
contact; a provider's dedupe item is kept as an empty tombstone until it expires, so a provider
retrying the erased message gets nothing back and records nothing (a deleted one would bring the
message back on a new contact). A booking's dedupe item is deleted instead: it is a digest of the
person, and booking again is their own new request. Erasing twice changes nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain import recordings
from chalicelib.domain.errors import Busy, NotFound, WriteRejected
from chalicelib.domain.model import (
    CaseRecords,
    CaseRef,
    StoredMessage,
)

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, PrivacyStore, RetentionStore

# A message that may wait in the outbox: parked for a retry, or recorded and not yet sent (due
# when its lease ends). Erasure takes it out, so it is never sent to an erased address.
OUTBOX_STATUSES = frozenset({"retrying", "queued"})


def _bookings(messages: Iterable[StoredMessage]) -> list[tuple[str, str]]:
    """The bookings a case's messages name: a booking message's provider id is
    "<webinar id>:<booking id>"."""
    found = set()
    for message in messages:
        if message.provider == "booking" and ":" in (message.provider_id or ""):
            webinar_id, _, booking_id = (message.provider_id or "").partition(":")
            found.add((webinar_id, booking_id))
    return sorted(found)


def export(deps: Deps, contact_id: str, by: str) -> dict[str, Any]:
    store: PrivacyStore = deps.store
    now = deps.clock()
    contact = store.contact(contact_id)
    if contact is None:
        raise NotFound("No such contact.")
    bookings = [
        ref for case_id in contact.cases for ref in _bookings(store.case_records(case_id).messages)
    ]
    data = store.personal_data(contact, bookings)
    result = {
        "contact": data.contact,
        "identities": data.identities,
        "cases": data.cases,
        "bookings": data.bookings,
        "exported_at": now.isoformat(),
    }
    store.audit("export", contact_id, by, now, {"cases": len(data.cases)})
    exported: dict[str, Any] = json.loads(json.dumps(result, default=str))  # JSON's types only
    return exported


def erase(deps: Deps, contact_id: str, by: str) -> dict[str, int]:
    store: PrivacyStore = deps.store
    contact = store.tombstone_contact(contact_id, deps.clock())
    if contact is None:
        raise NotFound("No such contact.")
    counts = {
        "identities": 0,
        "cases": 0,
        "messages": 0,
        "bookings": 0,
        "files": 0,
        "cancelled": 0,
        "recordings": 0,
    }
    for identity in store.identities_of(contact):
        store.erase_identity(identity)
        counts["identities"] += 1
    for case_id in contact.cases:
        store.mark_case_erased(case_id, deps.clock())  # refused messages are no longer parked on it
        _close(deps, case_id, by)
        # an answer to its satisfaction question is then a new contact's message: one already
        # written is read (and scrubbed) below, a later one finds no question to answer
        store.forget_survey(case_id)
        case = store.case_records(case_id)
        counts["recordings"] += recordings.delete(
            deps, (m.provider_id for m in case.messages if m.status == "voicemail")
        )
        for message in case.messages:
            if message.status in OUTBOX_STATUSES and store.cancel_parked(case_id, message.id):
                counts["cancelled"] += 1
            for key in message.files:
                deps.blobs.delete(key)
                counts["files"] += 1
        store.forget_threading(case_id, _message_ids(case), case.reply_token)
        for message in case.messages:
            provider, provider_id = message.provider, message.provider_id
            if message.direction == "in" and provider and provider_id:
                if provider == "booking":
                    store.forget_delivery(provider, provider_id)
                else:
                    store.tombstone_delivery(provider, provider_id)
        store.scrub_case(case_id)
        counts["cases"] += 1
        for message in case.messages:
            # an email's Message-ID and a booking's id name the person; Twilio's ids do not
            chosen = message.provider in ("email", "booking")
            store.scrub_event(case_id, message.id, forget_provider_id=chosen)
            counts["messages"] += 1
        for webinar_id, booking_id in _bookings(case.messages):
            store.scrub_booking(webinar_id, booking_id)
            counts["bookings"] += 1
    store.forget_contact(contact_id)
    store.audit("erase", contact_id, by, deps.clock(), counts)
    return counts


def _close(deps: Deps, case_id: str, by: str) -> None:
    """Closed with the outcome "erased" (its assignee's slot is freed); a case that changed hands
    meanwhile is read again."""
    store: PrivacyStore = deps.store
    for _ in range(5):
        case = store.get_case(case_id)
        if case is None or case.status == "closed":
            return
        ref = CaseRef(case.id, case.queue, case.language, case.contact_id, case.assignee)
        try:
            store.close(ref, "erased", by, deps.clock())
        except WriteRejected:
            continue
        return
    raise Busy("The case kept changing; please retry the erasure.")


def _message_ids(case: CaseRecords) -> list[str]:
    """Every Message-ID the case may be indexed under: the citizen's and our replies'."""
    ids = [*case.email_thread, *(m.message_id for m in case.messages)]
    return [i for i in ids if i]


def purge(deps: Deps, *, identities: bool = True, audits: bool = True) -> dict[str, int]:
    """The daily retention job, with the periods of deps.settings (RETENTION_*_DAYS). Cases
    closed `retention_body_days` ago lose their bodies, addresses and files; voicemail
    recordings' references go after `retention_recording_days`; with `identities`, the addresses
    of contacts gone quiet after `retention_identity_days`; with `audits`, read and audit records
    after `retention_audit_days`. Channel, direction, time and status stay, so the weekly reports
    of those weeks do not change. It looks back over a week, so a missed run is caught up and a
    repeated one changes nothing."""
    store: RetentionStore = deps.store
    settings, now, window = deps.settings, deps.clock(), WINDOW_DAYS
    counts = {"cases": 0, "messages": 0, "files": 0, "recordings": 0}
    for case_id in _closed_between(store, now, settings.retention_body_days):
        case = store.case_records(case_id)
        recordings.delete(deps, (m.provider_id for m in case.messages if m.status == "voicemail"))
        store.scrub_case(case_id)
        counts["cases"] += 1
        for message in case.messages:
            for key in message.files:
                deps.blobs.delete(key)
                counts["files"] += 1
            if message.personal:
                store.scrub_event(case_id, message.id)
                counts["messages"] += 1
    days = settings.retention_recording_days
    _, events, _ = store.week_items(now - timedelta(days=days + window), now - timedelta(days=days))
    for voicemail in (e for e in events if e.status == "voicemail" and e.media):
        recordings.delete(deps, [voicemail.provider_id])  # at Twilio first: a failure retries
        store.remove_media(voicemail.case_id, voicemail.id)
        counts["recordings"] += 1
    if identities:
        counts["identities"] = _forget_identities(store, now, settings.retention_identity_days)
    if audits:
        days = settings.retention_audit_days
        counts["audit_records"] = store.forget_records_between(
            now - timedelta(days=days + window), now - timedelta(days=days)
        )
    return counts


WINDOW_DAYS = 7


def _closed_between(store: RetentionStore, now: datetime, days: int) -> list[str]:
    """The cases closed between `days` (plus the look-back window) and `days` ago."""
    _, events, _ = store.week_items(
        now - timedelta(days=days + WINDOW_DAYS), now - timedelta(days=days)
    )
    return [e.case_id for e in events if e.channel == "note" and e.status == "closed"]


def _forget_identities(store: RetentionStore, now: datetime, days: int) -> int:
    """Contacts whose case closed `days` ago and who have no open case: their phone numbers and
    addresses are deleted (a later message starts a new, unknown contact)."""
    forgotten = 0
    for case_id in _closed_between(store, now, days):
        case = store.get_case(case_id)
        if case is None or store.find_open_case(case.contact_id) is not None:
            continue
        contact = store.contact(case.contact_id)
        for identity in store.identities_of(contact) if contact else []:
            store.erase_identity(identity)
            forgotten += 1
    return forgotten
