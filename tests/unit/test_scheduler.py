"""The local stack's scheduler: the app's own schedules, fired on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scripts.scheduler import Job, Scheduler, jobs_of, scheduled_event


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def app_jobs():
    import app as application

    return jobs_of(application.app)


def test_every_scheduled_function_of_the_app_is_found(app_jobs):
    names = {job.name for job in app_jobs}
    assert names == {
        "route_waiting_cases",
        "safeguarding_alerts",
        "webinar_reminders",
        "weekly_service_report",
        "retry_outbox",
        "retention_purge",
    }
    assert {job.name: job.expression for job in app_jobs}["weekly_service_report"] == (
        "cron(0 6 ? * MON *)"
    )


def test_each_job_fires_on_its_own_schedule_over_a_week(app_jobs):
    # Sunday 22 November 2026, 23:59:30 UTC, through the next Sunday.
    clock = FakeClock(datetime(2026, 11, 22, 23, 59, 30, tzinfo=UTC))
    fired: dict[str, list[datetime]] = {}
    scheduler = Scheduler(
        app_jobs, clock, lambda job, at: fired.setdefault(job.name, []).append(at)
    )
    end = clock.at + timedelta(days=7)
    while clock.at < end:
        clock.at += timedelta(seconds=30)
        scheduler.run_due()
    minutes = 7 * 24 * 60
    assert len(fired["route_waiting_cases"]) == minutes
    assert len(fired["retry_outbox"]) == minutes
    assert len(fired["safeguarding_alerts"]) == minutes
    assert len(fired["webinar_reminders"]) == minutes // 5
    assert fired["weekly_service_report"] == [datetime(2026, 11, 23, 6, 0, tzinfo=UTC)]
    assert [at.day for at in fired["retention_purge"]] == [23, 24, 25, 26, 27, 28, 29]
    assert all((at.hour, at.minute) == (2, 30) for at in fired["retention_purge"])


def test_a_failing_run_is_retried_at_its_next_time_and_stops_nothing():
    clock = FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    calls: list[str] = []

    def broken(event, context):
        calls.append("broken")
        raise RuntimeError("DynamoDB Local is restarting")

    def fine(event, context):
        calls.append("fine")
        return {"sent": 0}

    jobs = [Job("broken", "rate(1 minute)", broken), Job("fine", "rate(1 minute)", fine)]
    scheduler = Scheduler(jobs, clock)  # the real runner: it logs and swallows the failure
    for _ in range(3):
        clock.at += timedelta(minutes=1)
        assert scheduler.run_due() == ["broken", "fine"]
    assert calls == ["broken", "fine"] * 3


def test_a_late_scheduler_runs_a_job_once_not_once_per_missed_time():
    clock = FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    runs: list[datetime] = []
    scheduler = Scheduler(
        [Job("every-minute", "rate(1 minute)", lambda e, c: None)],
        clock,
        lambda job, at: runs.append(at),
    )
    clock.at += timedelta(minutes=10)  # the laptop slept
    scheduler.run_due()
    scheduler.run_due()
    assert len(runs) == 1


def test_the_handler_gets_the_event_eventbridge_sends(app_jobs):
    [report] = [job for job in app_jobs if job.name == "weekly_service_report"]
    event = scheduled_event(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), report.name)
    assert event["detail-type"] == "Scheduled Event" and event["time"] == "2026-11-23T06:00:00Z"
