"""Storage for service settings and catalogue items (opening hours, webinar sessions)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib.hours import OpeningHours
from chalicelib.model import Case, Interaction, Shift
from chalicelib.store.base import StoreBase
from chalicelib.store.codec import HOURS_KEY, dump, iso, parse_iso, week_key
from chalicelib.store.items import case_from, interaction_from


class SettingsStore(StoreBase):
    def load_hours(self) -> OpeningHours | None:
        item = self._get(HOURS_KEY, consistent=False)
        return OpeningHours.from_item(item["hours"]) if item else None

    def save_hours(self, hours: OpeningHours) -> None:
        self.client.put_item(
            TableName=self.table, Item=dump({**HOURS_KEY, "hours": hours.to_item()})
        )


class ReportStore(StoreBase):
    """The weekly report reads one week's items from gsi2, never a scan of the table."""

    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[Case], list[Interaction], list[Shift]]:
        """Cases opened, interactions and shift starts in [start, end), from the UTC weeks'
        gsi2 partitions, each read with a key range (so other weeks cost nothing)."""
        cases: list[Case] = []
        interactions: list[Interaction] = []
        shifts: list[Shift] = []
        partitions: list[str] = []
        day = start
        while day < end:  # the one, two or three UTC weeks the range touches
            if week_key(day) not in partitions:
                partitions.append(week_key(day))
            day += timedelta(days=1)
        if week_key(end - timedelta(microseconds=1)) not in partitions:
            partitions.append(week_key(end - timedelta(microseconds=1)))
        for partition in partitions:
            items = self._query_all(
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p AND gsi2sk BETWEEN :a AND :b",
                ExpressionAttributeValues=dump({":p": partition, ":a": iso(start), ":b": iso(end)}),
            )
            for item in items:
                kind = item.get("type")
                if kind == "case":
                    cases.append(case_from(item))
                elif kind == "interaction":
                    interactions.append(interaction_from(item))
                elif kind == "shift":
                    shifts.append(
                        Shift(
                            item["practitioner_id"],
                            parse_iso(item["start"]),  # type: ignore[arg-type]
                            parse_iso(item["end"]),
                        )
                    )  # type: ignore[arg-type]
        return cases, interactions, shifts

    def get_report(self, week: str) -> dict[str, Any] | None:
        item = self._get({"pk": "REPORT#WEEKLY", "sk": week})
        return json.loads(item["figures"]) if item else None

    def save_report(self, week: str, figures: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=dump(
                {
                    "pk": "REPORT#WEEKLY",
                    "sk": week,
                    "type": "report",
                    "figures": json.dumps(figures, sort_keys=True),
                }
            ),
        )

    def claim_report_email(self, week: str, now: datetime) -> bool:
        """True for the one run that emails this week's report."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump({"pk": "REPORT#WEEKLY", "sk": week}),
                UpdateExpression="SET emailed_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(emailed_at)",
                ExpressionAttributeValues=dump({":now": iso(now)}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
