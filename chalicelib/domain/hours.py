"""Helpline opening hours: planned in local wall-clock time, measured in real (UTC) time.

Nonexistent local times (spring forward) map forward and ambiguous ones (fall back) take the
first occurrence: fold=0, normalised through UTC, so DST days count their true length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.records import record

DEMO_TIMEZONE = "Europe/Copenhagen"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 366
_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"
_ISO_WEEK = r"([1-9]\d{3})-W(\d{2})"


@record
class Window:
    """One opening window; `end <= start` (incl. 00:00) means it ends on the next day."""

    start: time
    end: time


def _zone(name: str) -> ZoneInfo:
    """Resolve a time zone, turning zoneinfo's KeyError family into a ValueError."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"time zone must be a non-empty string, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are ambiguous for a service spanning zones, so refuse them."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """fold=0 then UTC: gaps map forward, ambiguous times take the first occurrence."""
    return datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz).astimezone(UTC)


def _parse_hhmm(text: Any, *, end: bool = False) -> time:
    """Strict "HH:MM"; "24:00" is only meaningful as an end (midnight)."""
    if end and text == "24:00":
        return time(0)
    match = re.fullmatch(_HHMM, text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"bad time {text!r}: expected 'HH:MM' (00:00-23:59, or 24:00 as end)")
    return time(int(match.group(1)), int(match.group(2)))


def _format_window(window: Window) -> list[str]:
    end = "24:00" if window.end == time(0) else window.end.strftime("%H:%M")
    return [window.start.strftime("%H:%M"), end]


def _parse_windows(raw: Any, where: str) -> tuple[Window, ...]:
    """Stored data is untrusted: each entry must be a pair of "HH:MM" strings."""
    try:
        pairs = [(start, end) for start, end in raw]
        return tuple(Window(_parse_hhmm(s), _parse_hhmm(e, end=True)) for s, e in pairs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: expected a list of ['HH:MM', 'HH:MM'] pairs; {exc}") from None


def _parse_date(text: Any, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: bad date {text!r}, expected 'YYYY-MM-DD'") from None


def _parse_weekday(key: Any) -> int:
    if key not in WEEKDAY_KEYS:
        raise ValueError(f"unknown weekday {key!r}; expected one of {', '.join(WEEKDAY_KEYS)}")
    return WEEKDAY_KEYS.index(key)


@record
class OpeningHours:
    """Weekly schedule plus holidays and special days; hashable despite its dict fields."""

    timezone: str
    weekly: dict[int, tuple[Window, ...]]
    closed_dates: frozenset[date] = frozenset()
    special: dict[date, tuple[Window, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Copy and normalise inputs so the frozen object cannot change behind our back."""
        _zone(self.timezone)
        if not set(self.weekly) <= set(range(7)):
            raise ValueError(f"weekdays must be 0 (Monday) .. 6 (Sunday), got {list(self.weekly)}")
        weekly = {d: tuple(w) for d, w in sorted(self.weekly.items()) if w}
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "special", {d: tuple(w) for d, w in sorted(self.special.items())})

    def __hash__(self) -> int:
        weekly, special = tuple(self.weekly.items()), tuple(self.special.items())
        return hash((self.timezone, weekly, self.closed_dates, special))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """Windows that start on a local date: special beats closed beats weekly."""
        if day in self.special:
            return self.special[day]
        if day in self.closed_dates:
            return ()
        return self.weekly.get(day.weekday(), ())

    def _raw_intervals(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        """UTC intervals of windows starting on local dates first..last (unmerged)."""
        tz, day, one_day = self.tz, first, timedelta(days=1)
        while day <= last:
            for window in self.windows_on(day):
                end_day = day + one_day if window.end <= window.start else day
                yield _to_utc(day, window.start, tz), _to_utc(end_day, window.end, tz)
            day += one_day

    def is_open(self, at: datetime) -> bool:
        _require_aware(at, "at")
        at, today = at.astimezone(UTC), at.astimezone(self.tz).date()
        intervals = self._raw_intervals(today - timedelta(days=1), today)
        return any(start <= at < end for start, end in intervals)

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself if open, else the next start within a year, in the service zone."""
        _require_aware(at, "at")
        tz = self.tz
        if self.is_open(at):
            return at.astimezone(tz)
        day = at.astimezone(tz).date()
        for current in (day + timedelta(days=n) for n in range(_SEARCH_DAYS + 1)):
            if starts := [s for s, _ in self._raw_intervals(current, current) if s > at]:
                return min(starts).astimezone(tz)
        return None

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Merged UTC intervals clipped to [start, end); touching intervals become one."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start, end = start.astimezone(UTC), end.astimezone(UTC)  # real-time comparisons
        if end <= start:
            return []
        tz, one_day = self.tz, timedelta(days=1)
        first = start.astimezone(tz).date() - one_day
        last = end.astimezone(tz).date() + one_day
        clipped = sorted(
            (max(s, start), min(e, end))
            for s, e in self._raw_intervals(first, last)
            if s < end and e > start
        )
        merged: list[tuple[datetime, datetime]] = []
        for s, e in clipped:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        return merged

    def scheduled_hours(self, start: datetime, end: datetime) -> float:
        seconds = sum((e - s).total_seconds() for s, e in self.open_intervals(start, end))
        return seconds / 3600

    def week_bounds(self, iso_week: str) -> tuple[datetime, datetime]:
        """Local Monday midnight to next Monday midnight, normalised through UTC."""
        year, week = parse_iso_week(iso_week)
        monday, tz = date.fromisocalendar(year, week, 1), self.tz
        start, end = (_to_utc(monday + timedelta(days=n), time(0), tz) for n in (0, 7))
        return start.astimezone(tz), end.astimezone(tz)

    def week_hours(self, iso_week: str) -> float:
        return self.scheduled_hours(*self.week_bounds(iso_week))

    def to_item(self) -> dict[str, Any]:
        """Plain JSON-able dict; the shape is persisted, so keep it stable."""
        return {
            "timezone": self.timezone,
            "weekly": {
                key: [_format_window(w) for w in self.weekly.get(i, ())]
                for i, key in enumerate(WEEKDAY_KEYS)
            },
            "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
            "special": {
                d.isoformat(): [_format_window(w) for w in ws] for d, ws in self.special.items()
            },
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> OpeningHours:
        """Inverse of to_item; any malformed stored data surfaces as ValueError."""
        try:
            timezone = item["timezone"]
            weekly = {
                _parse_weekday(key): _parse_windows(raw, f"weekly.{key}")
                for key, raw in item.get("weekly", {}).items()
            }
            raw_closed = item.get("closed_dates", [])
            closed = frozenset(_parse_date(d, "closed_dates") for d in raw_closed)
            special = {
                _parse_date(d, "special"): _parse_windows(raw, f"special.{d}")
                for d, raw in item.get("special", {}).items()
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed opening hours item: {exc!r}") from None
        return cls(timezone=timezone, weekly=weekly, closed_dates=closed, special=special)


def parse_iso_week(iso_week: str) -> tuple[int, int]:
    """Strict "YYYY-Www" so week keys in storage stay canonical."""
    match = re.fullmatch(_ISO_WEEK, iso_week) if isinstance(iso_week, str) else None
    if match is None:
        raise ValueError(f"bad ISO week {iso_week!r}: expected 'YYYY-Www', e.g. '2026-W47'")
    year, week = int(match.group(1)), int(match.group(2))
    weeks_in_year = date(year, 12, 28).isocalendar().week
    if not 1 <= week <= weeks_in_year:
        raise ValueError(f"bad ISO week {iso_week!r}: {year} has {weeks_in_year} ISO weeks")
    return year, week


def iso_week_of(at: datetime, timezone: str) -> str:
    """The week is the service's local week, not the UTC one."""
    _require_aware(at, "at")
    year, week, _ = at.astimezone(_zone(timezone)).isocalendar()
    return f"{year:04d}-W{week:02d}"


def demo_hours() -> OpeningHours:
    """The model service: 68 hours a week in Copenhagen."""
    weekly: dict[int, tuple[Window, ...]] = dict.fromkeys(range(4), (Window(time(9), time(21)),))
    weekly[4] = (Window(time(9), time(17)),)
    weekly[5] = weekly[6] = (Window(time(10), time(16)),)
    return OpeningHours(timezone=DEMO_TIMEZONE, weekly=weekly)
