"""Storage for export and erasure of one citizen: everything is found from the contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.store.base import StoreBase
from chalicelib.store.codec import (
    case_key,
    contact_key,
    dump,
    event_key,
    iso,
    open_case_key,
    week_key,
)

SCRUBBED_CASE = (
    "reply_to",
    "email_subject",
    "email_thread",
    "callback_number",
    "callback_requested_at",
)
SCRUBBED_EVENT = ("to", "media", "email")


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

    def scrub_case(self, case_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(case_key(case_id)),
            UpdateExpression="REMOVE " + ", ".join(f"#{n}" for n in SCRUBBED_CASE),
            ExpressionAttributeNames={f"#{n}": n for n in SCRUBBED_CASE},
        )

    def scrub_event(self, case_id: str, event_id: str) -> None:
        """The body and addresses go; channel, direction, time and status stay for the reports."""
        self.client.update_item(
            TableName=self.table,
            Key=dump(event_key(case_id, event_id)),
            UpdateExpression="SET body = :erased REMOVE "
            + ", ".join(f"#{n}" for n in SCRUBBED_EVENT),
            ExpressionAttributeNames={f"#{n}": n for n in SCRUBBED_EVENT},
            ExpressionAttributeValues=dump({":erased": ""}),
        )

    def remove_media(self, case_id: str, event_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(event_key(case_id, event_id)),
            UpdateExpression="REMOVE media",
        )

    def scrub_booking(self, webinar_id: str, booking_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump({"pk": f"WEBINAR#{webinar_id}", "sk": f"BOOKING#{booking_id}"}),
            UpdateExpression="REMOVE email, phone, first_name",
        )

    def tombstone_contact(self, contact_id: str, now: datetime) -> None:
        self.client.delete_item(TableName=self.table, Key=dump(open_case_key(contact_id)))
        self.client.update_item(
            TableName=self.table,
            Key=dump(contact_key(contact_id)),
            UpdateExpression="SET erased_at = :now REMOVE identities",
            ExpressionAttributeValues=dump({":now": iso(now)}),
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
