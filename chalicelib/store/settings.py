"""Storage for service settings and catalogue items (opening hours, webinar sessions)."""

from __future__ import annotations

from chalicelib.hours import OpeningHours
from chalicelib.model import Webinar
from chalicelib.store.base import StoreBase
from chalicelib.store.codec import HOURS_KEY, dump, iso


class SettingsStore(StoreBase):
    def load_hours(self) -> OpeningHours | None:
        item = self._get(HOURS_KEY, consistent=False)
        return OpeningHours.from_item(item["hours"]) if item else None

    def save_hours(self, hours: OpeningHours) -> None:
        self.client.put_item(
            TableName=self.table, Item=dump({**HOURS_KEY, "hours": hours.to_item()})
        )

    def ensure_webinar(self, webinar: Webinar) -> bool:
        """Create a webinar session unless it exists; True when created."""
        return self._put_new(
            {
                "pk": f"WEBINAR#{webinar.id}",
                "sk": "WEBINAR",
                "type": "webinar",
                "id": webinar.id,
                "title": webinar.title,
                "starts_at": iso(webinar.starts_at),
                "duration_minutes": webinar.duration_minutes,
                "capacity": webinar.capacity,
                "waitlist_size": webinar.waitlist_size,
                "seats_taken": 0,
                "queue": webinar.queue,
                "join_url": webinar.join_url,
                "status": "scheduled",
                "gsi1pk": "WEBINARS",
                "gsi1sk": iso(webinar.starts_at),
            }
        )
