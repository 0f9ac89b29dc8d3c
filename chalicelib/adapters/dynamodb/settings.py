"""Storage for service settings and catalogue items (opening hours, webinar sessions)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.base import StoreBase
from chalicelib.adapters.dynamodb.codec import HOURS_KEY, dump, iso, parse_iso, week_key
from chalicelib.adapters.dynamodb.items import case_from, interaction_from
from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.model import ActiveTime, Case, Interaction, Shift


class DynamoSettings(StoreBase):
    def load_hours(self) -> OpeningHours | None:
        item = self._get(HOURS_KEY, consistent=False)
        return OpeningHours.from_item(item["hours"]) if item else None

    def save_hours(self, hours: OpeningHours) -> None:
        self._put({**HOURS_KEY, "hours": hours.to_item()})


REPORT_FIELDS = (
    "pk",
    "sk",
    "type",
    "id",
    "at",
    "case_id",
    "contact_id",
    "channel",
    "direction",
    "status",
    "automated",
    "author",
    "duration_seconds",
    "answered",
    "waiting_at",  # a call's wait for a practitioner: the calls' service level
    "waited_until",
    "provider_id",
    "provider",  # on a satisfaction question's note: the channel it was asked on
    "queue",
    "opened_at",
    "last_activity_at",
    "first_response_at",
    "closed_at",
    "practitioner_id",
    "start",
    "end",
    "media",  # voicemail recordings' references, for the retention job
    "outcome",  # the export's columns, and the figures by outcome
    "assignee",
    "channels",
    "rating",  # satisfaction answers
    "risk",  # safeguarding's flag on a case: its level, when flagged and acknowledged
)


class DynamoReports(StoreBase):
    """The weekly report reads one week's items from gsi2, never a scan of the table."""

    def week_items(
        self, start: datetime, end: datetime
    ) -> tuple[list[Case], list[Interaction], list[Shift]]:
        """Cases opened, interactions and shift starts in [start, end), from the UTC weeks'
        gsi2 partitions, each read with a key range (so other weeks cost nothing)."""
        cases: list[Case] = []
        interactions: list[Interaction] = []
        shifts: list[Shift] = []

        def read(part: tuple[str, datetime, datetime]) -> list[dict[str, Any]]:
            partition, low, high = part
            return self._query_all(
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p AND gsi2sk BETWEEN :a AND :b",
                ExpressionAttributeValues=dump({":p": partition, ":a": iso(low), ":b": iso(high)}),
                # only what the figures need: never message bodies; smaller pages parse faster
                ProjectionExpression=", ".join(f"#{n}" for n in REPORT_FIELDS),
                ExpressionAttributeNames={f"#{n}": n for n in REPORT_FIELDS},
            )

        # One key range per day, read concurrently: DynamoDB answers one slice while we parse
        # another. Still only this week's items; other weeks are never touched.
        slices = []
        low = start
        while low < end:
            high = min(end, low + timedelta(days=1))
            for partition in dict.fromkeys(
                (week_key(low), week_key(high - timedelta(microseconds=1)))
            ):
                slices.append((partition, low, high))
            low = high
        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(pool.map(read, slices))
        for items in pages:
            for item in items:
                kind = item.get("type")
                if kind == "case":
                    cases.append(case_from(item))
                elif kind == "interaction":
                    interactions.append(interaction_from(item))
                elif kind == "shift":
                    shifts.append(
                        Shift(  # a shift item is written whole, on going off duty:
                            item["practitioner_id"],
                            parse_iso(item["start"]),  # type: ignore[arg-type]  # always set
                            parse_iso(item["end"]),  # type: ignore[arg-type]  # always set
                        )
                    )
        return cases, interactions, shifts

    def record_active_minute(self, case_id: str, user_id: str, channel: str, at: datetime) -> None:
        """The minute goes into a set on the case's item for this user and clock hour: a signal
        repeated within the minute, or retried, adds nothing. Its own gsi2 partition
        (`ACTIVE#<week>`), so the week's other reads never page through these."""
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        self.client.update_item(
            TableName=self.table,
            Key=dump({"pk": f"ACTIVE#{case_id}", "sk": f"{user_id}#{iso(hour)}"}),
            UpdateExpression=(
                "ADD minutes :m SET #type = :t, case_id = :c, user_id = :u, channel = :ch,"
                " #hour = :h, gsi2pk = :p, gsi2sk = :s"
            ),
            ExpressionAttributeNames={"#type": "type", "#hour": "hour"},
            ExpressionAttributeValues=dump(
                {
                    ":m": {at.astimezone(UTC).minute},
                    ":t": "active",
                    ":c": case_id,
                    ":u": user_id,
                    ":ch": channel,
                    ":h": iso(hour),
                    ":p": "ACTIVE#" + week_key(hour),
                    ":s": f"{iso(hour)}#{case_id}#{user_id}",
                }
            ),
        )

    def active_time(self, start: datetime, end: datetime) -> list[ActiveTime]:
        """The active hours starting in [start, end), from the UTC weeks' partitions."""
        found: list[ActiveTime] = []
        weeks = dict.fromkeys(
            week_key(start + timedelta(days=d)) for d in range((end - start).days + 2)
        )
        for partition in weeks:
            for item in self._query_all(
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p AND gsi2sk BETWEEN :a AND :b",
                ExpressionAttributeValues=dump(
                    {":p": "ACTIVE#" + partition, ":a": iso(start), ":b": iso(end)}
                ),
            ):
                hour = parse_iso(item["hour"])
                assert hour is not None  # always set
                if start <= hour < end:
                    found.append(
                        ActiveTime(
                            item["case_id"],
                            item["user_id"],
                            item["channel"],
                            hour,
                            len(item["minutes"]),
                        )
                    )
        return found

    def get_report(self, week: str) -> dict[str, Any] | None:
        item = self._get({"pk": "REPORT#WEEKLY", "sk": week})
        return json.loads(item["figures"]) if item else None

    def save_report(self, week: str, figures: dict[str, Any]) -> None:
        self._put(
            {
                "pk": "REPORT#WEEKLY",
                "sk": week,
                "type": "report",
                "figures": json.dumps(figures, sort_keys=True),
            }
        )

    def claim_report_email(self, week: str, now: datetime) -> bool:
        """True for the one run that emails this week's report."""
        return self._update(
            {"pk": "REPORT#WEEKLY", "sk": week},
            "SET emailed_at = :now",
            {":now": iso(now)},
            "attribute_exists(pk) AND attribute_not_exists(emailed_at)",
        )
