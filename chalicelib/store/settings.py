"""Storage for service settings and catalogue items (opening hours, webinar sessions)."""

from __future__ import annotations

from chalicelib.hours import OpeningHours
from chalicelib.store.base import StoreBase
from chalicelib.store.codec import HOURS_KEY, dump


class SettingsStore(StoreBase):
    def load_hours(self) -> OpeningHours | None:
        item = self._get(HOURS_KEY, consistent=False)
        return OpeningHours.from_item(item["hours"]) if item else None

    def save_hours(self, hours: OpeningHours) -> None:
        self.client.put_item(
            TableName=self.table, Item=dump({**HOURS_KEY, "hours": hours.to_item()})
        )
