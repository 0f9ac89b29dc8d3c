"""Storage for export and erasure of one citizen: everything is found from the contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.base import StoreBase
from chalicelib.adapters.dynamodb.codec import (
    case_key,
    contact_key,
    dedupe_key,
    dump,
    event_key,
    iso,
    load,
    mail_token_key,
    message_id_key,
    open_case_key,
    week_key,
)
from chalicelib.adapters.dynamodb.webinars import booking_key, holder_key, token_key

SCRUBBED_CASE = (
    "reply_to",
    "reply_token",
    "email_subject",
    "email_thread",
    "callback_number",
    "callback_requested_at",
)
SCRUBBED_EVENT = ("to", "media", "email", "outbox_raw_key")
PERSONAL_BOOKING = ("email", "phone", "first_name", "token_hash")


class PrivacyStore(StoreBase):
    def contact_record(self, contact_id: str) -> dict[str, Any] | None:
        return self._get(contact_key(contact_id))

    def identity_items(self, contact: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for ref in contact.get("identities", []):
            kind, _, value = ref.partition("#")
            item = self._get({"pk": f"IDENTITY#{kind}#{value}", "sk": "IDENTITY"})
            if item is not None and item.get("contact_id") == contact["id"]:
                found.append(item)
        return found

    def case_partition(self, case_id: str) -> list[dict[str, Any]]:
        """The case, its timeline and its read records."""
        return self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"CASE#{case_id}"}),
            ConsistentRead=True,
        )

    def booking_item(self, webinar_id: str, booking_id: str) -> dict[str, Any] | None:
        return self._get({"pk": f"WEBINAR#{webinar_id}", "sk": f"BOOKING#{booking_id}"})

    def erase_identity(self, item: dict[str, Any]) -> None:
        self.client.delete_item(
            TableName=self.table, Key=dump({"pk": item["pk"], "sk": item["sk"]})
        )

    def tombstone_contact(self, contact_id: str, now: datetime) -> dict[str, Any] | None:
        """The contact, marked erased (intake's writes to it fail from now on), as it is after
        the mark: the list of its cases can no longer grow. None: no such contact."""
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=dump(contact_key(contact_id)),
                UpdateExpression=(
                    "SET #status = :erased, erased_at = if_not_exists(erased_at, :now)"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=dump({":erased": "erased", ":now": iso(now)}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return load(answer["Attributes"])

    def forget_contact(self, contact_id: str) -> None:
        """The last step of an erasure: the contact keeps its cases' ids, not its addresses."""
        self.client.delete_item(TableName=self.table, Key=dump(open_case_key(contact_id)))
        self.client.update_item(
            TableName=self.table,
            Key=dump(contact_key(contact_id)),
            UpdateExpression="REMOVE identities",
        )

    def forget_threading(self, case_id: str, message_ids: list[str], token: str | None) -> None:
        """The case's reply address and indexed Message-IDs go: mail that names them later is
        a stranger's first message (a new contact), never a way back to the erased case."""
        keys = [message_id_key(m) for m in dict.fromkeys(message_ids)]
        if token:
            keys.append(mail_token_key(token))
        for key in keys:
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key=dump(key),
                    ConditionExpression="case_id = :case",  # a copy indexed for another case stays
                    ExpressionAttributeValues=dump({":case": case_id}),
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                pass

    def tombstone_delivery(self, provider: str, provider_id: str) -> None:
        """The provider's dedupe item stays until it expires, keyed by a digest and holding
        nothing else: a retry of the erased message is still a duplicate (recorded nowhere,
        answered with nothing) instead of bringing the message back on a new contact."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump(dedupe_key(provider, provider_id)),
                UpdateExpression=(
                    "SET erased = :yes REMOVE case_id, interaction_id, reply, reply_ref"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=dump({":yes": True}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def forget_delivery(self, provider: str, provider_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=dump(dedupe_key(provider, provider_id)))

    def mark_case_erased(self, case_id: str, now: datetime) -> None:
        """From now on the case is never reopened, and a refused message is not parked on it."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump(case_key(case_id)),
                UpdateExpression="SET erased_at = if_not_exists(erased_at, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=dump({":now": iso(now)}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def scrub_case(self, case_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(case_key(case_id)),
            UpdateExpression="REMOVE " + ", ".join(f"#{n}" for n in SCRUBBED_CASE),
            ExpressionAttributeNames={f"#{n}": n for n in SCRUBBED_CASE},
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
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key=dump(holder_key(webinar_id, item["holder"])),
                    ConditionExpression="booking_id = :id",
                    ExpressionAttributeValues=dump({":id": booking_id}),
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
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
        self.client.put_item(
            TableName=self.table,
            Item=dump(
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
            ),
        )

    def audit_records_between(self, start: datetime, end: datetime) -> list[dict[str, str]]:
        """Case-read and audit records in [start, end): their keys only."""
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
                ProjectionExpression="pk, sk, #t",
                ExpressionAttributeNames={"#t": "type"},
            ):
                if item.get("type") in ("case_read", "audit"):
                    found.append({"pk": item["pk"], "sk": item["sk"]})
        return found

    def delete_record(self, key: dict[str, str]) -> None:
        self.client.delete_item(TableName=self.table, Key=dump(key))

    def audits(self, month: str) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"AUDIT#{month}"}),
        )
