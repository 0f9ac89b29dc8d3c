"""The report's command-line helpers and week arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import reports
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.hours import demo_hours
from scripts.report import weeks_between


def test_backfill_walks_iso_weeks_across_a_53_week_year():
    assert weeks_between("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]


def test_the_monday_job_reports_the_week_that_just_ended_in_copenhagen():
    # Monday 06:00 UTC is 07:00 in Copenhagen: the week before is W47.
    assert (
        reports.week_of_last_monday(datetime(2026, 11, 23, 6, tzinfo=UTC), "Europe/Copenhagen")
        == "2026-W47"
    )


@pytest.mark.parametrize(
    ("week", "error"),
    [("2026-47", InvalidInput), ("2026-W60", InvalidInput), ("2030-W01", NotFound)],
)
def test_malformed_and_future_weeks(week, error):
    with pytest.raises(error):
        reports.check_week(week, demo_hours(), datetime(2026, 11, 24, tzinfo=UTC))
