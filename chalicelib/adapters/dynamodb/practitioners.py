"""Storage for practitioners: profiles, duty, and the shifts the weekly report counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, put, update
from chalicelib.adapters.dynamodb.codec import (
    PRACTITIONERS,
    PROFILE_SK,
    dump,
    iso,
    mine_key,
    parse_iso,
    practitioner_key,
    week_key,
)
from chalicelib.adapters.dynamodb.items import duty_sort_key, practitioner_from, practitioner_item
from chalicelib.domain.model import Practitioner, Shift

EDITABLE = (
    "display_name",
    "queues",
    "languages",
    "max_active_cases",
    "phone",
    "skills",
    "email",
)


class DynamoPractitioners(StoreBase):
    def create_practitioner(self, practitioner: Practitioner) -> bool:
        """Create a profile unless one exists with that id; True when created."""
        return self._put_new(practitioner_item(practitioner))

    def get_practitioner(self, practitioner_id: str) -> Practitioner | None:
        return self._get_as(practitioner_key(practitioner_id), practitioner_from)

    def update_practitioner(
        self, practitioner_id: str, changes: dict[str, Any]
    ) -> Practitioner | None:
        fields = {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in changes.items() if k in EDITABLE
        }
        if not fields:
            return self.get_practitioner(practitioner_id)
        item = self._set_fields(practitioner_key(practitioner_id), fields, "attribute_exists(pk)")
        return practitioner_from(item) if item else None

    def list_practitioners(self, on_duty_only: bool = False) -> list[Practitioner]:
        condition, values = "gsi1pk = :p", {":p": PRACTITIONERS}
        if on_duty_only:
            condition += " AND begins_with(gsi1sk, :on)"
            values[":on"] = "on#"
        items = self._query_all(
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=dump(values),
        )
        return [practitioner_from(item) for item in items]

    def index_profiles(self) -> int:
        """Once, on deploying profiles in gsi4: every profile written before gets its place at
        the head of its inbox partition. Safe to run again; returns how many it indexed."""
        indexed = 0
        for item in self._query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=dump({":p": PRACTITIONERS}),
        ):
            indexed += self._update(
                practitioner_key(item["id"]),
                "SET gsi4pk = :pk, gsi4sk = :sk",
                {":pk": mine_key(item["id"]), ":sk": PROFILE_SK},
                "attribute_exists(pk) AND attribute_not_exists(gsi4pk)",
            )
        return indexed

    def go_on_duty(self, practitioner_id: str, now: datetime) -> bool:
        """False when already on duty (the call is idempotent)."""
        return self._update(
            practitioner_key(practitioner_id),
            "SET on_duty = :true, shift_started_at = :now, gsi1sk = :sk",
            {
                ":true": True,
                ":false": False,
                ":now": iso(now),
                ":sk": duty_sort_key(practitioner_id, True),
            },
            "attribute_exists(pk) AND on_duty = :false",
        )

    def go_off_duty(self, practitioner: Practitioner, now: datetime) -> Shift | None:
        """Close the current shift and keep it; None when not on duty."""
        if not practitioner.on_duty or practitioner.shift_started_at is None:
            return None
        start = practitioner.shift_started_at
        shift = Shift(practitioner.id, start, max(now, start))
        try:
            self._transact(
                [
                    (
                        "profile",
                        update(
                            self.table,
                            practitioner_key(practitioner.id),
                            "SET on_duty = :false, gsi1sk = :sk REMOVE shift_started_at",
                            {
                                ":true": True,
                                ":false": False,
                                ":start": iso(start),
                                ":sk": duty_sort_key(practitioner.id, False),
                            },
                            "on_duty = :true AND shift_started_at = :start",
                        ),
                    ),
                    (
                        "shift",
                        put(
                            self.table,
                            {
                                "pk": f"PRACTITIONER#{practitioner.id}",
                                "sk": f"SHIFT#{iso(start)}",
                                "type": "shift",
                                "practitioner_id": practitioner.id,
                                "start": iso(start),
                                "end": iso(shift.end),
                                "gsi2pk": week_key(start),
                                "gsi2sk": f"{iso(start)}#SHIFT#{practitioner.id}",
                            },
                        ),
                    ),
                ]
            )
        except Cancelled:
            return None
        return shift

    def shifts(self, practitioner_id: str) -> list[Shift]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :shift)",
            ExpressionAttributeValues=dump(
                {":pk": f"PRACTITIONER#{practitioner_id}", ":shift": "SHIFT#"}
            ),
        )
        return [
            Shift(  # a shift item is written whole, on going off duty
                i["practitioner_id"],
                parse_iso(i["start"]),  # type: ignore[arg-type]  # always set
                parse_iso(i["end"]),  # type: ignore[arg-type]  # always set
            )
            for i in items
        ]
