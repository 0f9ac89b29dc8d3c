"""Storage for export and erasure of one citizen: everything is found from the contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.dynamodb.base import StoreBase
from chalicelib.adapters.dynamodb.codec import (
    case_key,
    contact_key,
    dedupe_key,
    dump,
    event_key,
    identity_key,
    iso,
    mail_token_key,
    message_id_key,
    open_case_key,
    parse_iso,
    week_key,
)
from chalicelib.adapters.dynamodb.webinars import booking_key, holder_key, token_key
from chalicelib.domain.model import CaseRecords, Contact, Identity, PersonalData, StoredMessage

SCRUBBED_CASE = (
    "reply_to",
    "reply_token",
    "email_subject",
    "email_thread",
    "callback_number",
    "callback_requested_at",
    "preview",  # the citizen's own words
)
SCRUBBED_EVENT = ("to", "media", "email", "outbox_raw_key")
PERSONAL_BOOKING = ("email", "phone", "first_name", "token_hash")


def document(value: Any) -> Any:
    """An item as a plain JSON-ready document: numbers as int or float, sets as sorted lists,
    and no storage keys or index attributes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(document(v) for v in value)
    if isinstance(value, dict):
        return {
            k: document(v)
            for k, v in value.items()
            if not k.startswith("gsi") and k not in ("pk", "sk")
        }
    if isinstance(value, list):
        return [document(v) for v in value]
    return value


def _identity(ref: str) -> Identity | None:
    kind, _, value = ref.partition("#")
    if kind not in ("phone", "email", "anonymous", "chat") or not value:
        return None
    return Identity(kind, value)  # type: ignore[arg-type]  # kind is checked just above


def _contact(item: dict[str, Any]) -> Contact:
    identities = (_identity(ref) for ref in item.get("identities") or [])
    return Contact(
        id=item["id"],
        cases=tuple(item.get("cases") or ()),
        identities=tuple(i for i in identities if i is not None),
        erased_at=parse_iso(item.get("erased_at")),
        language=item.get("language"),
    )


def _message(item: dict[str, Any]) -> StoredMessage:
    email = item.get("email") or {}
    files = [
        email.get("raw_key"),
        *(a.get("key") for a in email.get("attachments", [])),
        item.get("outbox_raw_key"),
    ]
    return StoredMessage(
        id=item["id"],
        direction=item.get("direction"),
        status=item.get("status"),
        provider=item.get("provider"),
        provider_id=item.get("provider_id"),
        message_id=email.get("message_id"),
        files=tuple(f for f in files if f),
        personal=bool(item.get("body") or item.get("to") or email or item.get("media")),
    )


class DynamoPrivacy(StoreBase):
    def contact_record(self, contact_id: str) -> dict[str, Any] | None:
        """The contact's item as stored (tests look at it)."""
        return self._get(contact_key(contact_id))

    def contact(self, contact_id: str) -> Contact | None:
        return self._get_as(contact_key(contact_id), _contact)

    def _identity_items(self, contact: Contact) -> list[dict[str, Any]]:
        found = []
        for identity in contact.identities:
            item = self._get(identity_key(identity))
            if item is not None and item.get("contact_id") == contact.id:
                found.append(item)
        return found

    def identities_of(self, contact: Contact) -> list[Identity]:
        """The contact's addresses that still lead to it (none that moved to someone else)."""
        return [
            identity
            for identity in contact.identities
            if (item := self._get(identity_key(identity))) is not None
            and item.get("contact_id") == contact.id
        ]

    def erase_identity(self, identity: Identity) -> None:
        self.client.delete_item(TableName=self.table, Key=dump(identity_key(identity)))
        if identity.kind == "chat":  # the widget's copy of the conversation goes too
            for item in self._query_all(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=dump({":pk": f"CHAT#{identity.value}"}),
                ProjectionExpression="pk, sk",
            ):
                self.client.delete_item(TableName=self.table, Key=dump(item))

    def _case_partition(self, case_id: str) -> list[dict[str, Any]]:
        """The case, its timeline and its read records."""
        return self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"CASE#{case_id}"}),
            ConsistentRead=True,
        )

    def case_records(self, case_id: str) -> CaseRecords:
        items = self._case_partition(case_id)
        head = next((i for i in items if i["sk"] == "CASE"), {})
        return CaseRecords(
            id=case_id,
            email_thread=tuple(head.get("email_thread") or ()),
            reply_token=head.get("reply_token"),
            messages=tuple(_message(i) for i in items if i["sk"].startswith("EVENT#")),
        )

    def personal_data(self, contact: Contact, bookings: list[tuple[str, str]]) -> PersonalData:
        """Everything stored about the contact, as documents: the contact, its identities, each
        case with its timeline, and the `bookings` named (without their cancel token's digest)."""
        cases = []
        for case_id in contact.cases:
            items = self._case_partition(case_id)
            head = next((i for i in items if i["sk"] == "CASE"), {"id": case_id})
            events = [i for i in items if i["sk"].startswith("EVENT#")]
            cases.append({**document(head), "timeline": [document(e) for e in events]})
        found = []
        for webinar_id, booking_id in bookings:
            booking = self._get(booking_key(webinar_id, booking_id))
            if booking is not None:
                found.append({k: v for k, v in document(booking).items() if k != "token_hash"})
        contact_item = self._get(contact_key(contact.id)) or {"id": contact.id}
        return PersonalData(
            contact=document(contact_item),
            identities=[document(i) for i in self._identity_items(contact)],
            cases=cases,
            bookings=found,
        )

    def tombstone_contact(self, contact_id: str, now: datetime) -> Contact | None:
        """The contact, marked erased (intake's writes to it fail from now on), as it is after
        the mark: the list of its cases can no longer grow. None: no such contact."""
        item = self._update_new(
            contact_key(contact_id),
            "SET #status = :erased, erased_at = if_not_exists(erased_at, :now)",
            {":erased": "erased", ":now": iso(now)},
            "attribute_exists(pk)",
            {"#status": "status"},
        )
        return _contact(item) if item else None

    def forget_contact(self, contact_id: str) -> None:
        """The last step of an erasure: the contact keeps its cases' ids, not its addresses nor
        its language."""
        self.client.delete_item(TableName=self.table, Key=dump(open_case_key(contact_id)))
        self.client.update_item(
            TableName=self.table,
            Key=dump(contact_key(contact_id)),
            UpdateExpression="REMOVE identities, #language",
            ExpressionAttributeNames={"#language": "language"},
        )

    def forget_threading(self, case_id: str, message_ids: list[str], token: str | None) -> None:
        """The case's reply address and indexed Message-IDs go: mail that names them later is
        a stranger's first message (a new contact), never a way back to the erased case."""
        keys = [message_id_key(m) for m in dict.fromkeys(message_ids)]
        if token:
            keys.append(mail_token_key(token))
        for key in keys:
            self._delete(key, "case_id = :case", {":case": case_id})  # another case's stays

    def tombstone_delivery(self, provider: str, provider_id: str) -> None:
        """The provider's dedupe item stays until it expires, keyed by a digest and holding
        nothing else: a retry of the erased message is still a duplicate (recorded nowhere,
        answered with nothing) instead of bringing the message back on a new contact."""
        self._update(
            dedupe_key(provider, provider_id),
            "SET erased = :yes REMOVE case_id, interaction_id, reply, reply_ref",
            {":yes": True},
            "attribute_exists(pk)",
        )

    def forget_delivery(self, provider: str, provider_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=dump(dedupe_key(provider, provider_id)))

    def mark_case_erased(self, case_id: str, now: datetime) -> None:
        """From now on the case is never reopened, and a refused message is not parked on it."""
        self._update(
            case_key(case_id),
            "SET erased_at = if_not_exists(erased_at, :now)",
            {":now": iso(now)},
            "attribute_exists(pk)",
        )

    def scrub_case(self, case_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(case_key(case_id)),
            UpdateExpression="REMOVE " + ", ".join(f"#{n}" for n in SCRUBBED_CASE),
            ExpressionAttributeNames={f"#{n}": n for n in SCRUBBED_CASE},
        )
        # the risk's level and time stay for the reports; the matched terms are the citizen's
        # words, and a practitioner's reason may quote them
        self._update(
            case_key(case_id),
            "SET #risk.#reasons = :none REMOVE #risk.#note",
            {":none": []},
            "attribute_exists(#risk.#level)",
            names={"#risk": "risk", "#reasons": "reasons", "#note": "note", "#level": "level"},
        )

    def scrub_event(self, case_id: str, event_id: str, forget_provider_id: bool = False) -> None:
        """The body and addresses go; channel, direction, time and status stay for the reports.
        `forget_provider_id`: the provider's id names the sender too (a Message-ID, a booking)."""
        names = SCRUBBED_EVENT + (("provider_id",) if forget_provider_id else ())
        self.client.update_item(
            TableName=self.table,
            Key=dump(event_key(case_id, event_id)),
            UpdateExpression="SET body = :erased REMOVE " + ", ".join(f"#{n}" for n in names),
            ExpressionAttributeNames={f"#{n}": n for n in names},
            ExpressionAttributeValues=dump({":erased": ""}),
        )

    def remove_media(self, case_id: str, event_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(event_key(case_id, event_id)),
            UpdateExpression="REMOVE media",
        )

    def scrub_booking(self, webinar_id: str, booking_id: str) -> None:
        """Booking ids are random, so a booking is scrubbed in place: its seat or waitlist place
        (and the reports' counts) stay. What names the person goes with it: addresses, name,
        cancel token, and the digests of the person (the holder item that kept them from booking
        the session twice, and their booking counters), so the same person books again as anyone
        new would and no item answers "did this address book?"."""
        item = self._get(booking_key(webinar_id, booking_id))
        if item is None:
            return
        names = [*PERSONAL_BOOKING, "holder", "booker"]
        self.client.update_item(
            TableName=self.table,
            Key=dump(booking_key(webinar_id, booking_id)),
            UpdateExpression="REMOVE " + ", ".join(f"#{n}" for n in names),
            ExpressionAttributeNames={f"#{n}": n for n in names},
        )
        if item.get("token_hash"):
            self.client.delete_item(TableName=self.table, Key=dump(token_key(item["token_hash"])))
        if item.get("holder"):
            self._delete(
                holder_key(webinar_id, item["holder"]), "booking_id = :id", {":id": booking_id}
            )
        if item.get("booker"):
            for counter in self._query_all(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=dump({":pk": f"BOOKER#{item['booker']}"}),
                ProjectionExpression="pk, sk",
            ):
                self.client.delete_item(
                    TableName=self.table, Key=dump({"pk": counter["pk"], "sk": counter["sk"]})
                )

    def audit(
        self, action: str, contact_id: str, by: str, now: datetime, counts: dict[str, int]
    ) -> None:
        """Who did what to which pseudonymous contact, and how much: no personal data."""
        self._put(
            {
                "pk": f"AUDIT#{iso(now)[:7]}",
                "sk": f"{iso(now)}#{action}#{contact_id}",
                "type": "audit",
                "action": action,
                "contact_id": contact_id,
                "by": by,
                "at": iso(now),
                "counts": counts,
                "gsi2pk": week_key(now),
                "gsi2sk": f"{iso(now)}#AUDIT#{contact_id}",
            }
        )

    def forget_records_between(self, start: datetime, end: datetime) -> int:
        """Deletes the case-read and audit records written in [start, end); how many."""
        found: list[dict[str, str]] = []
        day = start
        partitions: list[str] = []
        while day < end:
            if week_key(day) not in partitions:
                partitions.append(week_key(day))
            day += timedelta(days=1)
        for partition in partitions:
            for item in self._query_all(
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p AND gsi2sk BETWEEN :a AND :b",
                ExpressionAttributeValues=dump({":p": partition, ":a": iso(start), ":b": iso(end)}),
                ProjectionExpression="pk, sk, #t, user_id, #at",
                ExpressionAttributeNames={"#t": "type", "#at": "at"},
            ):
                if item.get("type") in ("case_read", "audit"):
                    found.append(item)
        for item in found:
            self.client.delete_item(
                TableName=self.table, Key=dump({"pk": item["pk"], "sk": item["sk"]})
            )
            if item["type"] == "case_read":
                self._forget_read_mark(item["pk"], item["user_id"], item["at"])
        return len(found)

    def _forget_read_mark(self, case_pk: str, user_id: str, at: str) -> None:
        """The case's `last_read` marker of a forgotten read goes with it (kept while it marks
        a later read, whose own record is still kept)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump({"pk": case_pk, "sk": "CASE"}),
                UpdateExpression="REMOVE last_read.#u",
                ConditionExpression="last_read.#u = :at",
                ExpressionAttributeNames={"#u": user_id},
                ExpressionAttributeValues=dump({":at": at}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def audits(self, month: str) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"AUDIT#{month}"}),
        )
