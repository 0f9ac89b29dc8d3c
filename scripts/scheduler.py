"""The scheduled functions of the local stack, run on their own `Rate`/`Cron` as EventBridge runs
them on AWS: the same handler functions, read from the app's own definitions (its
`event_sources`), never a second list that could drift.

`chalice local` serves routes only; without this, webinar reminders, outbox retries, the requeue of
unanswered cases, the Monday report and retention would never run on a developer's machine.
A run that fails is logged and simply runs again at its next time; it never stops the stack.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("contact-centre.scheduler")
Clock = Callable[[], datetime]
Handler = Callable[[dict[str, Any], Any], Any]

_RATE_UNITS = {
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}


@dataclass(frozen=True)
class Job:
    """One scheduled function: its name, its EventBridge expression and its handler."""

    name: str
    expression: str  # "rate(5 minutes)" or "cron(0 6 ? * MON *)", as EventBridge reads it
    handler: Handler

    def next_after(self, at: datetime) -> datetime:
        """The first time strictly after `at` (UTC) at which EventBridge would run it."""
        kind, _, rest = self.expression.partition("(")
        fields = rest.rstrip(")").split()
        if kind == "rate":
            value, unit = int(fields[0]), fields[1].lower()
            return at + timedelta(seconds=value * _RATE_UNITS[unit])
        if kind == "cron":
            from croniter import croniter

            # EventBridge's six fields (with year and '?'); croniter reads the standard five,
            # and EventBridge evaluates crons in UTC.
            minute, hour, day, month, weekday, _year = fields
            standard = " ".join(f.replace("?", "*") for f in (minute, hour, day, month, weekday))
            found: datetime = croniter(standard, at.astimezone(UTC)).get_next(datetime)
            return found
        raise ValueError(f"not a schedule expression: {self.expression}")


def jobs_of(app: Any) -> list[Job]:
    """Every scheduled function the Chalice app declares (routes' blueprints included)."""
    from chalice.app import ScheduledEventConfig

    found = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        text = expression if isinstance(expression, str) else expression.to_string()
        module, _, attribute = source.handler_string.rpartition(".")
        handler = getattr(importlib.import_module(module), attribute)
        found.append(Job(source.name, text, handler))
    return found


def scheduled_event(at: datetime, job: str) -> dict[str, Any]:
    """The event EventBridge delivers to a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-1",
        "resources": [f"arn:aws:events:eu-west-1:123456789012:rule/local-{job}"],
        "detail": {},
    }


def run_job(job: Job, at: datetime) -> tuple[bool, Any]:
    """Run one job now, as Lambda would; (True, its result) or (False, the error's name)."""
    from chalice.local import LambdaContext

    started = time.monotonic()
    try:
        result = job.handler(scheduled_event(at, job.name), LambdaContext(job.name, 512))
    except Exception as error:  # a failing run is logged and retried at its next time
        log.error("scheduled run failed", extra={"job": job.name, "error": type(error).__name__})
        traceback.print_exc()  # the developer's terminal; logs carry ids and codes only
        return False, type(error).__name__
    took = round((time.monotonic() - started) * 1000)
    log.info("scheduled run", extra={"job": job.name, "result": result, "ms": took})
    return True, result


class Scheduler:
    """Runs each job at its times. Time comes from `clock`, so tests move it by hand."""

    def __init__(
        self, jobs: list[Job], clock: Clock, run: Callable[[Job, datetime], Any] = run_job
    ) -> None:
        self._jobs = jobs
        self._clock = clock
        self._run = run
        now = clock()
        self._next = {job.name: job.next_after(now) for job in jobs}

    def next_times(self) -> dict[str, datetime]:
        return dict(self._next)

    def run_due(self) -> list[str]:
        """Run every job whose time has come (once, however late), and plan its next time."""
        now = self._clock()
        ran = []
        for job in self._jobs:
            if self._next[job.name] <= now:
                self._next[job.name] = job.next_after(now)
                self._run(job, now)
                ran.append(job.name)
        return ran

    def run_until(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        while not stop.wait(poll_seconds):
            self.run_due()


def start(app: Any, stop: threading.Event) -> threading.Thread:
    """The scheduler on a daemon thread beside the local server."""
    jobs = jobs_of(app)
    scheduler = Scheduler(jobs, lambda: datetime.now(UTC))
    for name, at in sorted(scheduler.next_times().items(), key=lambda item: item[1]):
        log.info("scheduled", extra={"job": name, "next_run": at.isoformat(timespec="seconds")})
    thread = threading.Thread(target=scheduler.run_until, args=(stop,), daemon=True)
    thread.start()
    return thread
