"""Opening hours: weekly windows, holidays, special days and DST-correct arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.hours import (
    DEMO_TIMEZONE,
    OpeningHours,
    Window,
    demo_hours,
    iso_week_of,
    parse_iso_week,
)

CPH = ZoneInfo(DEMO_TIMEZONE)
SPRING_FORWARD = date(2026, 3, 29)  # Sunday, 02:00 CET -> 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # Sunday, 03:00 CEST -> 02:00 CET


def cph(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CPH)


def w(start: str, end: str) -> Window:
    """Readable window literal; "24:00" means midnight at the end of the day."""
    end_t = time(0) if end == "24:00" else time.fromisoformat(end)
    return Window(time.fromisoformat(start), end_t)


def hours(weekly: dict[int, tuple[Window, ...]], **kwargs: object) -> OpeningHours:
    return OpeningHours(timezone=DEMO_TIMEZONE, weekly=weekly, **kwargs)  # type: ignore[arg-type]


def day_hours(oh: OpeningHours, day: date) -> float:
    """Real hours open from local midnight to the next local midnight."""
    start = datetime.combine(day, time(0), tzinfo=CPH)
    return oh.scheduled_hours(start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=CPH))


# --- weekly totals and DST -------------------------------------------------------------------


def test_demo_hours_ordinary_week_is_68() -> None:
    assert demo_hours().week_hours("2026-W47") == 68.0


@pytest.mark.parametrize("week", ["2026-W13", "2026-W43", "2026-W44"])
def test_demo_hours_dst_weeks_still_68(week: str) -> None:
    # W13 holds 29 March (spring forward); W43 holds 25 October (fall back); W44 is the week after.
    assert demo_hours().week_hours(week) == 68.0


def test_dst_weeks_contain_the_transition_sundays() -> None:
    assert iso_week_of(cph(2026, 3, 29, 12), DEMO_TIMEZONE) == "2026-W13"
    assert iso_week_of(cph(2026, 10, 25, 12), DEMO_TIMEZONE) == "2026-W43"


def test_week_bounds_are_local_midnights_and_real_length_follows_dst() -> None:
    oh = demo_hours()
    start, end = oh.week_bounds("2026-W13")
    assert (start, end) == (cph(2026, 3, 23), cph(2026, 3, 30))
    assert start.utcoffset() == timedelta(hours=1) and end.utcoffset() == timedelta(hours=2)
    assert start.tzinfo == CPH and end.tzinfo == CPH
    # Same-tzinfo subtraction in Python is wall-clock, so measure real length in UTC.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=167)
    start, end = oh.week_bounds("2026-W43")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=169)


def test_week_bounds_rejects_malformed_week() -> None:
    with pytest.raises(ValueError):
        demo_hours().week_bounds("2026-47")
    with pytest.raises(ValueError):
        demo_hours().week_hours("2027-W53")


def test_midnight_to_six_on_dst_sundays_counts_real_hours() -> None:
    oh = hours({6: (w("00:00", "06:00"),)})
    assert day_hours(oh, SPRING_FORWARD) == 5.0
    assert day_hours(oh, FALL_BACK) == 7.0
    assert oh.week_hours("2026-W13") == 5.0
    assert oh.week_hours("2026-W43") == 7.0
    assert oh.week_hours("2026-W47") == 6.0


def test_daytime_window_on_dst_days_is_full_length() -> None:
    oh = hours({6: (w("09:00", "21:00"),)})
    assert day_hours(oh, SPRING_FORWARD) == 12.0
    assert day_hours(oh, FALL_BACK) == 12.0


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # 02:00 on 29 March is the very instant of the jump (01:00 UTC), so nothing is skipped.
        (w("22:00", "02:00"), 4.0),
        # These span the missing hour 02:00-03:00, so one wall-clock hour never happens.
        (w("22:00", "04:00"), 5.0),
        (w("23:00", "03:00"), 3.0),
    ],
)
def test_saturday_overnight_window_across_spring_forward(window: Window, expected: float) -> None:
    oh = hours({5: (window,)})
    assert oh.week_hours("2026-W13") == expected


def test_saturday_overnight_window_across_fall_back() -> None:
    # An ambiguous end (02:00 happens twice) uses its first occurrence.
    assert hours({5: (w("22:00", "02:00"),)}).week_hours("2026-W43") == 4.0
    # 04:00 is after the repeated hour, so the extra hour counts.
    assert hours({5: (w("22:00", "04:00"),)}).week_hours("2026-W43") == 7.0


def test_nonexistent_start_maps_forward_past_the_gap() -> None:
    oh = hours({6: (w("02:30", "05:00"),)})
    opening = oh.next_opening(cph(2026, 3, 29, 0, 30))
    assert opening is not None
    assert opening.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (opening.hour, opening.minute) == (3, 30)
    assert day_hours(oh, SPRING_FORWARD) == 1.5  # 03:30 CEST .. 05:00 CEST


# --- is_open ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (cph(2026, 11, 16, 8, 59), False),
        (cph(2026, 11, 16, 9, 0), True),  # start inclusive
        (cph(2026, 11, 16, 20, 59), True),
        (cph(2026, 11, 16, 21, 0), False),  # end exclusive
        (cph(2026, 11, 16, 21, 1), False),
        (datetime(2026, 11, 16, 19, 59, tzinfo=UTC), True),  # 20:59 in Copenhagen
        (datetime(2026, 11, 16, 20, 0, tzinfo=UTC), False),  # 21:00 in Copenhagen
        (datetime(2026, 11, 16, 14, 59, tzinfo=ZoneInfo("America/New_York")), True),
        (cph(2026, 11, 20, 17, 0), False),  # Friday closes at 17:00
        (cph(2026, 11, 21, 10, 0), True),  # Saturday
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert demo_hours().is_open(at) is expected


def test_naive_datetimes_are_rejected() -> None:
    oh, naive = demo_hours(), datetime(2026, 11, 16, 12, 0)
    aware = cph(2026, 11, 16, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        oh.is_open(naive)
    with pytest.raises(ValueError):
        oh.next_opening(naive)
    with pytest.raises(ValueError):
        oh.open_intervals(naive, aware)
    with pytest.raises(ValueError):
        oh.scheduled_hours(aware, naive)
    with pytest.raises(ValueError):
        iso_week_of(naive, DEMO_TIMEZONE)


# --- next_opening -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (cph(2026, 11, 16, 21, 1), cph(2026, 11, 17, 9)),  # Monday evening -> Tuesday
        (cph(2026, 11, 16, 21, 0), cph(2026, 11, 17, 9)),  # exactly at closing
        (cph(2026, 11, 20, 17, 30), cph(2026, 11, 21, 10)),  # Friday -> Saturday
        (cph(2026, 11, 22, 16, 0), cph(2026, 11, 23, 9)),  # Sunday closing -> Monday
        (cph(2026, 11, 17, 6, 0), cph(2026, 11, 17, 9)),  # early morning, same day
        (datetime(2026, 11, 16, 20, 30, tzinfo=UTC), cph(2026, 11, 17, 9)),
    ],
)
def test_next_opening(at: datetime, expected: datetime) -> None:
    result = demo_hours().next_opening(at)
    assert result == expected
    assert result is not None and result.tzinfo == CPH
    assert (result.hour, result.minute) == (expected.hour, expected.minute)


def test_next_opening_when_open_returns_at_in_service_zone() -> None:
    at = datetime(2026, 11, 16, 11, 15, tzinfo=UTC)
    result = demo_hours().next_opening(at)
    assert result == at
    assert result is not None and result.tzinfo == CPH and result.hour == 12


def test_next_opening_skips_closed_date() -> None:
    oh = hours(demo_hours().weekly, closed_dates=frozenset({date(2026, 12, 25)}))  # Friday
    assert oh.next_opening(cph(2026, 12, 24, 21, 30)) == cph(2026, 12, 26, 10)
    assert oh.next_opening(cph(2026, 12, 25, 12)) == cph(2026, 12, 26, 10)
    assert not oh.is_open(cph(2026, 12, 25, 12))


def test_next_opening_honours_special_hours() -> None:
    oh = hours(
        demo_hours().weekly,
        closed_dates=frozenset({date(2026, 12, 25)}),
        special={date(2026, 12, 24): (w("09:00", "13:00"),)},
    )
    assert oh.next_opening(cph(2026, 12, 24, 8)) == cph(2026, 12, 24, 9)
    assert oh.next_opening(cph(2026, 12, 24, 13)) == cph(2026, 12, 26, 10)
    assert oh.is_open(cph(2026, 12, 24, 12, 59))
    assert not oh.is_open(cph(2026, 12, 24, 14))


def test_special_hours_open_an_otherwise_closed_day() -> None:
    oh = hours({}, special={date(2026, 12, 31): (w("10:00", "12:00"),)})
    assert oh.next_opening(cph(2026, 1, 5)) == cph(2026, 12, 31, 10)
    assert oh.week_hours("2026-W53") == 2.0  # 2026 has 53 ISO weeks; 31 Dec is in the last
    assert oh.week_hours("2026-W52") == 0.0


def test_next_opening_none_without_windows_or_beyond_a_year() -> None:
    assert hours({}).next_opening(cph(2026, 11, 16)) is None
    far = hours({}, special={date(2028, 1, 1): (w("10:00", "12:00"),)})
    assert far.next_opening(cph(2026, 11, 16)) is None
    assert far.next_opening(cph(2027, 6, 1)) == cph(2028, 1, 1, 10)


# --- windows past midnight, closed dates, special hours ---------------------------------------


def test_window_past_midnight_belongs_to_its_start_day() -> None:
    oh = hours({4: (w("22:00", "02:00"),)})  # Friday night
    assert oh.is_open(cph(2026, 11, 20, 23))
    assert oh.is_open(cph(2026, 11, 21, 1))  # Saturday 01:00
    assert not oh.is_open(cph(2026, 11, 21, 2))
    assert not oh.is_open(cph(2026, 11, 20, 1))  # Friday 01:00: Thursday had no window
    assert oh.week_hours("2026-W47") == 4.0


def test_closed_date_keeps_window_from_previous_day_but_cancels_its_own() -> None:
    weekly = {4: (w("22:00", "02:00"),)}
    closed_saturday = hours(weekly, closed_dates=frozenset({date(2026, 11, 21)}))
    assert closed_saturday.is_open(cph(2026, 11, 21, 1))
    assert closed_saturday.week_hours("2026-W47") == 4.0
    closed_friday = hours(weekly, closed_dates=frozenset({date(2026, 11, 20)}))
    assert not closed_friday.is_open(cph(2026, 11, 20, 23))
    assert not closed_friday.is_open(cph(2026, 11, 21, 1))
    assert closed_friday.week_hours("2026-W47") == 0.0


def test_midnight_end_and_midnight_start_merge_into_one_interval() -> None:
    oh = hours({0: (w("18:00", "24:00"),), 1: (w("00:00", "06:00"),)})
    intervals = oh.open_intervals(cph(2026, 11, 16), cph(2026, 11, 18))
    assert intervals == [
        (datetime(2026, 11, 16, 17, tzinfo=UTC), datetime(2026, 11, 17, 5, tzinfo=UTC))
    ]
    assert oh.is_open(cph(2026, 11, 17, 0))
    assert oh.next_opening(cph(2026, 11, 17, 0)) == cph(2026, 11, 17, 0)


def test_open_intervals_are_utc_sorted_clipped_and_merged() -> None:
    oh = hours({0: (w("13:00", "21:00"), w("09:00", "12:00"), w("11:00", "12:30"))})
    start, end = cph(2026, 11, 16, 10), cph(2026, 11, 16, 20)
    intervals = oh.open_intervals(start, end)
    assert intervals == [
        (datetime(2026, 11, 16, 9, tzinfo=UTC), datetime(2026, 11, 16, 11, 30, tzinfo=UTC)),
        (datetime(2026, 11, 16, 12, tzinfo=UTC), datetime(2026, 11, 16, 19, tzinfo=UTC)),
    ]
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in intervals)
    assert oh.scheduled_hours(start, end) == 9.5
    assert oh.open_intervals(end, start) == []
    assert oh.scheduled_hours(start, start) == 0.0


def test_closed_dates_and_special_hours_change_week_hours_exactly() -> None:
    base = demo_hours()
    week = "2026-W52"  # Mon 21 .. Sun 27 December 2026
    assert base.week_hours(week) == 68.0
    christmas = frozenset({date(2026, 12, 25)})  # Friday, 8 h
    eve = {date(2026, 12, 24): (w("09:00", "13:00"),)}  # Thursday: 12 h -> 4 h
    assert hours(base.weekly, closed_dates=christmas).week_hours(week) == 60.0
    assert hours(base.weekly, special=eve).week_hours(week) == 60.0
    assert hours(base.weekly, closed_dates=christmas, special=eve).week_hours(week) == 52.0
    closed_by_special = {date(2026, 12, 26): ()}  # empty special = closed that day
    assert hours(base.weekly, special=closed_by_special).week_hours(week) == 62.0
    extra = {date(2026, 12, 26): (w("08:00", "20:00"),)}  # Saturday: 6 h -> 12 h
    assert hours(base.weekly, special=extra).week_hours(week) == 74.0


def test_special_hours_beat_closed_date() -> None:
    oh = hours(
        demo_hours().weekly,
        closed_dates=frozenset({date(2026, 12, 24)}),
        special={date(2026, 12, 24): (w("09:00", "13:00"),)},
    )
    assert oh.is_open(cph(2026, 12, 24, 10))
    assert oh.week_hours("2026-W52") == 60.0


def test_several_windows_per_day() -> None:
    oh = hours({0: (w("09:00", "12:00"), w("13:00", "21:00"))})
    assert oh.is_open(cph(2026, 11, 16, 11, 59))
    assert not oh.is_open(cph(2026, 11, 16, 12, 30))
    assert oh.next_opening(cph(2026, 11, 16, 12, 30)) == cph(2026, 11, 16, 13)
    assert oh.week_hours("2026-W47") == 11.0


# --- storage ----------------------------------------------------------------------------------


def test_to_item_shape() -> None:
    oh = hours(
        {**demo_hours().weekly, 6: (w("22:00", "24:00"),)},
        closed_dates=frozenset({date(2026, 12, 25), date(2026, 1, 1)}),
        special={date(2026, 12, 24): (w("09:00", "13:00"),)},
    )
    item = oh.to_item()
    assert item == {
        "timezone": "Europe/Copenhagen",
        "weekly": {
            "mon": [["09:00", "21:00"]],
            "tue": [["09:00", "21:00"]],
            "wed": [["09:00", "21:00"]],
            "thu": [["09:00", "21:00"]],
            "fri": [["09:00", "17:00"]],
            "sat": [["10:00", "16:00"]],
            "sun": [["22:00", "24:00"]],
        },
        "closed_dates": ["2026-01-01", "2026-12-25"],
        "special": {"2026-12-24": [["09:00", "13:00"]]},
    }
    assert json.loads(json.dumps(item)) == item


def test_round_trip() -> None:
    oh = hours(
        {0: (w("09:00", "12:00"), w("13:00", "21:00")), 4: (w("22:00", "02:00"),)},
        closed_dates=frozenset({date(2026, 12, 25)}),
        special={date(2026, 12, 24): (w("09:00", "13:00"),), date(2026, 12, 31): ()},
    )
    again = OpeningHours.from_item(oh.to_item())
    assert again == oh
    assert hash(again) == hash(oh)
    assert again.to_item() == oh.to_item()
    assert OpeningHours.from_item(demo_hours().to_item()) == demo_hours()


def test_from_item_accepts_missing_days_and_writes_midnight_as_24_00() -> None:
    oh = OpeningHours.from_item(
        {"timezone": "Europe/Copenhagen", "weekly": {"mon": [["18:00", "00:00"]], "tue": []}}
    )
    assert oh.weekly == {0: (Window(time(18), time(0)),)}
    assert oh.closed_dates == frozenset() and oh.special == {}
    assert oh.to_item()["weekly"]["mon"] == [["18:00", "24:00"]]
    assert oh.to_item()["weekly"]["tue"] == []
    assert oh.week_hours("2026-W47") == 6.0


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons", "weekly": {}}, "time zone"),
        ({"timezone": "", "weekly": {}}, "time zone"),
        ({"weekly": {}}, "timezone"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": [["09:00", "25:00"]]}}, "25:00"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": [["9:00", "17:00"]]}}, "9:00"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": [["24:00", "02:00"]]}}, "24:00"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"monday": []}}, "weekday"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": [["09:00"]]}}, "weekly.mon"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": "09:00-17:00"}}, "weekly.mon"),
        ({"timezone": "Europe/Copenhagen", "weekly": [], "closed_dates": []}, "malformed"),
        ({"timezone": "Europe/Copenhagen", "weekly": {}, "closed_dates": ["2026-02-30"]}, "date"),
        ({"timezone": "Europe/Copenhagen", "weekly": {}, "special": {"xmas": []}}, "date"),
    ],
)
def test_from_item_errors(item: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpeningHours.from_item(item)


def test_from_item_rejects_non_dict() -> None:
    with pytest.raises(ValueError):
        OpeningHours.from_item(["Europe/Copenhagen"])  # type: ignore[arg-type]


def test_constructor_validates_and_copies() -> None:
    with pytest.raises(ValueError, match="time zone"):
        OpeningHours(timezone="Nowhere/Special", weekly={})
    with pytest.raises(ValueError, match="weekday"):
        OpeningHours(timezone=DEMO_TIMEZONE, weekly={7: (w("09:00", "10:00"),)})
    weekly = {0: (w("09:00", "10:00"),)}
    oh = OpeningHours(timezone=DEMO_TIMEZONE, weekly=weekly)
    weekly[1] = (w("09:00", "10:00"),)
    assert oh.week_hours("2026-W47") == 1.0
    assert {oh, OpeningHours(timezone=DEMO_TIMEZONE, weekly={0: (w("09:00", "10:00"),)})} == {oh}


# --- ISO weeks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-W47", (2026, 47)), ("2026-W01", (2026, 1)), ("2025-W52", (2025, 52)),
     ("2020-W53", (2020, 53)), ("2026-W53", (2026, 53)), ("2015-W53", (2015, 53))],
)  # fmt: skip
def test_parse_iso_week_valid(text: str, expected: tuple[int, int]) -> None:
    assert parse_iso_week(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-47", "2025-W53", "2027-W53", "2026-W54", "2026-W00", "2026-W1", "26-W01", "2026-w01",
     " 2026-W01", "2026-W01 ", "2026W01", "0000-W01", ""],
)  # fmt: skip
def test_parse_iso_week_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso_week(text)


def test_iso_week_of_uses_the_service_zone() -> None:
    late_sunday_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Monday 00:30 in Copenhagen
    assert iso_week_of(late_sunday_utc, DEMO_TIMEZONE) == "2026-W48"
    assert iso_week_of(late_sunday_utc, "UTC") == "2026-W47"
    assert iso_week_of(cph(2021, 1, 1, 12), DEMO_TIMEZONE) == "2020-W53"
    assert iso_week_of(cph(2026, 1, 1, 12), DEMO_TIMEZONE) == "2026-W01"
    with pytest.raises(ValueError, match="time zone"):
        iso_week_of(late_sunday_utc, "Not/AZone")
