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
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.errors import Busy, NotFound
from chalicelib.domain.model import Case, CaseRef
from chalicelib.domain.ports import WriteRejected


class PrivacyStore(Protocol):
    def contact_record(self, contact_id: str) -> dict[str, Any] | None: ...

    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def close(self, case: CaseRef, outcome: str, closed_by: str, now: datetime) -> None: ...

    def cancel_parked(self, case_id: str, interaction_id: str) -> bool: ...

    def forget_threading(self, case_id: str, message_ids: list[str], token: str | None) -> None: ...

    def tombstone_delivery(self, provider: str, provider_id: str) -> None: ...

    def forget_delivery(self, provider: str, provider_id: str) -> None: ...

    def forget_contact(self, contact_id: str) -> None: ...

    def identity_items(self, contact: dict[str, Any]) -> list[dict[str, Any]]: ...

    def case_partition(self, case_id: str) -> list[dict[str, Any]]: ...

    def booking_item(self, webinar_id: str, booking_id: str) -> dict[str, Any] | None: ...

    def erase_identity(self, item: dict[str, Any]) -> None: ...

    def mark_case_erased(self, case_id: str, now: datetime) -> None: ...

    def scrub_case(self, case_id: str) -> None: ...

    def scrub_event(
        self, case_id: str, event_id: str, forget_provider_id: bool = False
    ) -> None: ...

    def scrub_booking(self, webinar_id: str, booking_id: str) -> None: ...

    def tombstone_contact(self, contact_id: str, now: datetime) -> dict[str, Any] | None: ...

    def audit(
        self, action: str, contact_id: str, by: str, now: datetime, counts: dict[str, int]
    ) -> None: ...


class Blobs(Protocol):
    def delete(self, key: str) -> None: ...


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {
            k: _jsonable(v)
            for k, v in value.items()
            if not k.startswith("gsi") and k not in ("pk", "sk")
        }
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _bookings(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted(
        {
            tuple(e["provider_id"].split(":", 1))
            for e in events  # type: ignore[misc]
            if e.get("provider") == "booking" and ":" in e.get("provider_id", "")
        }
    )


def export(contact_id: str, store: PrivacyStore, by: str, now: datetime) -> dict[str, Any]:
    contact = store.contact_record(contact_id)
    if contact is None:
        raise NotFound("No such contact.")
    cases, bookings = [], []
    for case_id in contact.get("cases", []):
        items = store.case_partition(case_id)
        head = [i for i in items if i["sk"] == "CASE"]
        events = [i for i in items if i["sk"].startswith("EVENT#")]
        cases.append(
            {
                **_jsonable(head[0] if head else {"id": case_id}),
                "timeline": [_jsonable(e) for e in events],
            }
        )
        for webinar_id, booking_id in _bookings(events):
            booking = store.booking_item(webinar_id, booking_id)
            if booking is not None:
                bookings.append({k: v for k, v in _jsonable(booking).items() if k != "token_hash"})
    result = {
        "contact": _jsonable(contact),
        "identities": [_jsonable(i) for i in store.identity_items(contact)],
        "cases": cases,
        "bookings": bookings,
        "exported_at": now.isoformat(),
    }
    store.audit("export", contact_id, by, now, {"cases": len(cases)})
    return json.loads(json.dumps(result, default=str))


def erase(
    contact_id: str, store: PrivacyStore, blobs: Blobs, by: str, clock: Callable[[], datetime]
) -> dict[str, int]:
    contact = store.tombstone_contact(contact_id, clock())
    if contact is None:
        raise NotFound("No such contact.")
    counts = {
        "identities": 0,
        "cases": 0,
        "messages": 0,
        "bookings": 0,
        "files": 0,
        "cancelled": 0,
    }
    for identity in store.identity_items(contact):
        store.erase_identity(identity)
        counts["identities"] += 1
    for case_id in contact.get("cases", []):
        store.mark_case_erased(case_id, clock())  # refused messages are no longer parked on it
        _close(case_id, store, by, clock)
        items = store.case_partition(case_id)
        head = next((i for i in items if i["sk"] == "CASE"), {})
        events = [i for i in items if i["sk"].startswith("EVENT#")]
        for event in events:
            if event.get("status") == "retrying" and store.cancel_parked(case_id, event["id"]):
                counts["cancelled"] += 1
            for key in filter(None, _files(event)):
                blobs.delete(key)
                counts["files"] += 1
        store.forget_threading(case_id, _message_ids(head, events), head.get("reply_token"))
        for event in events:
            provider, provider_id = event.get("provider"), event.get("provider_id")
            if event.get("direction") == "in" and provider and provider_id:
                if provider == "booking":
                    store.forget_delivery(provider, provider_id)
                else:
                    store.tombstone_delivery(provider, provider_id)
        store.scrub_case(case_id)
        counts["cases"] += 1
        for event in events:
            # an email's Message-ID and a booking's id name the person; Twilio's ids do not
            chosen = event.get("provider") in ("email", "booking")
            store.scrub_event(case_id, event["id"], forget_provider_id=chosen)
            counts["messages"] += 1
        for webinar_id, booking_id in _bookings(events):
            store.scrub_booking(webinar_id, booking_id)
            counts["bookings"] += 1
    store.forget_contact(contact_id)
    store.audit("erase", contact_id, by, clock(), counts)
    return counts


def _close(case_id: str, store: PrivacyStore, by: str, clock: Callable[[], datetime]) -> None:
    """Closed with the outcome "erased" (its assignee's slot is freed); a case that changed hands
    meanwhile is read again."""
    for _ in range(5):
        case = store.get_case(case_id)
        if case is None or case.status == "closed":
            return
        ref = CaseRef(case.id, case.queue, case.language, case.contact_id, case.assignee)
        try:
            store.close(ref, "erased", by, clock())
        except WriteRejected:
            continue
        return
    raise Busy("The case kept changing; please retry the erasure.")


def _files(event: dict[str, Any]) -> list[str | None]:
    """The blobs an event's bytes live in: a received email and its attachments, or the bytes
    of a message parked in the outbox."""
    email = event.get("email") or {}
    return [
        email.get("raw_key"),
        *(a.get("key") for a in email.get("attachments", [])),
        event.get("outbox_raw_key"),
    ]


def _message_ids(case: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """Every Message-ID the case may be indexed under: the citizen's and our replies'."""
    ids = list(case.get("email_thread") or [])
    ids += [(e.get("email") or {}).get("message_id") for e in events]
    return [i for i in ids if i]


class RetentionStore(PrivacyStore, Protocol):
    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[Any], list[Any], list[Any]]: ...

    def remove_media(self, case_id: str, event_id: str) -> None: ...

    def audit_records_between(self, start: datetime, end: datetime) -> list[dict[str, str]]: ...

    def delete_record(self, key: dict[str, str]) -> None: ...

    def find_open_case(self, contact_id: str) -> str | None: ...


def purge(
    store: RetentionStore,
    blobs: Blobs,
    now: datetime,
    body_days: int,
    recording_days: int,
    window_days: int = 7,
    identity_days: int | None = None,
    audit_days: int | None = None,
) -> dict[str, int]:
    """The daily retention job. Cases closed `body_days` ago lose their bodies, addresses and
    files; voicemail recordings' references go after `recording_days`. Channel, direction, time
    and status stay, so the weekly reports of those weeks do not change. It looks back over
    `window_days` days, so a missed run is caught up and a repeated one changes nothing."""
    counts = {"cases": 0, "messages": 0, "files": 0, "recordings": 0}
    since = now - timedelta(days=body_days + window_days)
    _, events, _ = store.week_items(since, now - timedelta(days=body_days))
    for closing in [e for e in events if e.channel == "note" and e.status == "closed"]:
        items = store.case_partition(closing.case_id)
        store.scrub_case(closing.case_id)
        counts["cases"] += 1
        for event in (i for i in items if i["sk"].startswith("EVENT#")):
            for key in filter(None, _files(event)):
                blobs.delete(key)
                counts["files"] += 1
            if event.get("body") or event.get("to") or event.get("email") or event.get("media"):
                store.scrub_event(closing.case_id, event["id"])
                counts["messages"] += 1
    since = now - timedelta(days=recording_days + window_days)
    _, events, _ = store.week_items(since, now - timedelta(days=recording_days))
    for voicemail in (e for e in events if e.status == "voicemail" and e.media):
        store.remove_media(voicemail.case_id, voicemail.id)
        counts["recordings"] += 1
    if identity_days is not None:
        counts["identities"] = _forget_identities(store, now, identity_days, window_days)
    if audit_days is not None:
        since = now - timedelta(days=audit_days + window_days)
        old = store.audit_records_between(since, now - timedelta(days=audit_days))
        for key in old:
            store.delete_record(key)
        counts["audit_records"] = len(old)
    return counts


def _forget_identities(store: RetentionStore, now: datetime, days: int, window: int) -> int:
    """Contacts whose case closed `days` ago and who have no open case: their phone numbers and
    addresses are deleted (a later message starts a new, unknown contact)."""
    forgotten = 0
    _, events, _ = store.week_items(now - timedelta(days=days + window), now - timedelta(days=days))
    for closing in [e for e in events if e.channel == "note" and e.status == "closed"]:
        case = store.get_case(closing.case_id)
        if case is None or store.find_open_case(case.contact_id) is not None:
            continue
        contact = store.contact_record(case.contact_id)
        for identity in store.identity_items(contact) if contact else []:
            store.erase_identity(identity)
            forgotten += 1
    return forgotten
