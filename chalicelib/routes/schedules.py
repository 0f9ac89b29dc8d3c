"""The scheduled functions: routing's safety net, safeguarding alerts, webinar reminders, the
weekly report, the outbox's retries and the daily retention purge."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Cron, Rate

from chalicelib.wiring import services

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def route_waiting_cases(event: Any) -> dict[str, Any]:
    """Cases assigned but unanswered for UNANSWERED_MINUTES go back to their queue, and waiting
    cases are offered to on-duty practitioners with room (a safety net for missed offers)."""
    from chalicelib.domain import routing

    moved, offered = routing.requeue_unanswered(services()), routing.offer_waiting(services())
    return {"requeued": len(moved), "offered": len(offered)}


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def safeguarding_alerts(event: Any) -> dict[str, int]:
    """Risk alerts nobody acknowledged go on to the next supervisor and the managers; high-risk
    cases nobody took in time get the crisis answer (once)."""
    from chalicelib.domain import alerts

    return alerts.run(services())


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def webinar_reminders(event: Any) -> dict[str, Any]:
    """Reminders 24 h and 1 h before each session, each sent exactly once."""
    from chalicelib.domain import webinars

    return {"sent": webinars.send_reminders(services())}


@bp.schedule(Cron(0, 6, "?", "*", "MON", "*"))
def weekly_service_report(event: Any) -> dict[str, Any]:
    """Monday 06:00 UTC (07:00 or 08:00 in Copenhagen): the week that just ended, stored and
    emailed to the managers once."""
    from chalicelib.domain import reports
    from chalicelib.routes.reports import render_report

    deps = services()
    week = reports.week_of_last_monday(deps.clock(), deps.hours().timezone)
    return reports.send_weekly(deps, week, render_report)


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def retry_outbox(event: Any) -> dict[str, int]:
    """Messages a provider refused are retried with back-off, then fail visibly on the case."""
    from chalicelib.domain import delivery

    return delivery.retry_due(services())


@bp.schedule(Cron(30, 2, "*", "*", "?", "*"))
def retention_purge(event: Any) -> dict[str, int]:
    """Daily retention (RETENTION_*_DAYS): bodies of closed cases, voicemail references,
    identities of contacts gone quiet, old read and audit records; the counts stay."""
    from chalicelib.domain import privacy

    return privacy.purge(services())
