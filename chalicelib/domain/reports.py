"""The weekly service-hours report: what managers read each Monday.

Every figure is computed from stored interactions, cases opened that week and shifts (plus
webinar sessions), so any past week can be recomputed and always gives the same answer. Counts
only: no figure names or reveals a citizen.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.domain import delivery, mail, service_figures
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.hours import OpeningHours, iso_week_of, parse_iso_week
from chalicelib.domain.model import Case, Interaction

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, ReportStore

CHANNELS = ("sms", "call", "voicemail", "email", "chat", "webinar_booking")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SHIFT = timedelta(days=1)  # shifts starting this long before the week are read too
FIRST_YEAR, LAST_YEAR = 2000, 9998


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    def hours(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds() / 3600)


def _overlap(a: Span, b: Span) -> Span | None:
    start, end = max(a.start, b.start), min(a.end, b.end)
    return Span(start, end) if start < end else None


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def _round(value: float) -> float:
    return round(value, 2)


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: a value that occurred, reproducible by hand."""
    if not values:
        return None
    ordered = sorted(values)
    return _round(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def week_of_last_monday(now: datetime, timezone: str) -> str:
    """The ISO week that has just ended in the service's time zone."""
    return iso_week_of(now - timedelta(days=7), timezone)


def check_week(week: str, hours: OpeningHours, now: datetime) -> tuple[datetime, datetime]:
    """The week's local bounds; a 400 for a week outside the years a report can cover (its
    neighbouring days must exist: 9999-W52 ends past the calendar, and years before 2000 have
    no storage keys), a 404 for a week that has not started."""
    try:
        year, _ = parse_iso_week(week)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"year outside {FIRST_YEAR}-{LAST_YEAR}")
        start, end = hours.week_bounds(week)
    except (ValueError, OverflowError) as error:
        raise InvalidInput(
            f"The week must look like 2026-W47, in the years {FIRST_YEAR} to {LAST_YEAR}.",
            code="invalid_week",
        ) from error
    if start > now:
        raise NotFound("That week has not started yet.")
    return start, end


def weekly(deps: Deps, week: str, store_result: bool = True) -> dict[str, Any]:
    """The stored report, or computed now (and stored, once the week has ended)."""
    store, hours, now = deps.store, deps.hours(), deps.clock()
    check_week(week, hours, now)
    stored: dict[str, Any] | None = store.get_report(week)
    if stored is not None:
        return stored
    figures = _compute(week, store, hours, now)
    if figures["complete"] and store_result:
        store.save_report(week, figures)
    return figures


def compute(deps: Deps, week: str) -> dict[str, Any]:
    """The week's figures computed afresh from the store (never stored)."""
    return _compute(week, deps.store, deps.hours(), deps.clock())


def _compute(
    week: str,
    store: ReportStore,
    hours: OpeningHours,
    now: datetime,
    *,
    previous: bool = True,
    drill: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """`previous`: add each headline figure's change from the week before (its stored report,
    else computed once without its own changes); `drill`: filled with the case ids behind each
    headline figure."""
    start, end = check_week(week, hours, now)
    utc_start, utc_end = start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
    cases, interactions, shifts = store.week_items(utc_start - MAX_SHIFT, utc_end)
    week_span = Span(utc_start, min(utc_end, now) if now < utc_end else utc_end)
    interactions = [i for i in interactions if utc_start <= i.at < utc_end]
    cases = [c for c in cases if utc_start <= c.opened_at < utc_end]
    spans = [Span(s.start, s.end) for s in shifts]
    spans += [
        Span(p.shift_started_at, week_span.end)
        for p in store.list_practitioners(on_duty_only=True)
        if p.shift_started_at
    ]
    per_practitioner_spans: dict[str, list[Span]] = defaultdict(list)
    for shift in shifts:
        per_practitioner_spans[shift.practitioner_id].append(Span(shift.start, shift.end))
    for p in store.list_practitioners(on_duty_only=True):
        if p.shift_started_at:
            per_practitioner_spans[p.id].append(Span(p.shift_started_at, week_span.end))
    open_spans = [Span(a, b) for a, b in hours.open_intervals(utc_start, utc_end)]

    def staffed(shift_spans: list[Span]) -> float:
        return sum(
            o.hours()
            for s in shift_spans
            for w in open_spans
            if (c := _overlap(s, week_span)) and (o := _overlap(c, w))
        )

    covered = [
        o
        for u in _union(s for s in spans if _overlap(s, week_span))
        for w in open_spans
        if (o := _overlap(u, w))
    ]
    scheduled = sum(w.hours() for w in open_spans)
    figures: dict[str, Any] = {
        "week": week,
        "timezone": hours.timezone,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "complete": now >= utc_end,
        "hours": {
            "scheduled": _round(scheduled),
            "staffed": _round(staffed(spans)),
            "covered": _round(sum(c.hours() for c in covered)),
            "uncovered": _round(scheduled - sum(c.hours() for c in covered)),
        },
    }
    figures.update(_demand(interactions, hours))
    figures["cases"] = _handling(cases, interactions, hours)
    figures["calls"] = _calls(interactions)
    figures["safeguarding"] = _safeguarding(_flagged_in(store, cases, interactions, week_span))
    figures["webinars"] = _webinars(store, utc_start, utc_end)
    figures["practitioners"] = _practitioners(per_practitioner_spans, staffed, interactions)
    figures["by_day"] = _by_day(interactions, open_spans, covered, hours, start)
    staffed_by = {p: staffed(s) for p, s in per_practitioner_spans.items()}
    active = store.active_time(utc_start, utc_end)
    service = service_figures.compute(
        cases, interactions, hours, staffed_by, lambda i: kind_of(i) == "call", active
    )
    figures["service"] = service.section
    before = _previous_headline(week, store, hours, now) if previous else None
    figures["headline"] = service_figures.changes(service.headline, before)
    if drill is not None:
        drill.update(service.cases)
    return figures


def _previous_headline(
    week: str, store: ReportStore, hours: OpeningHours, now: datetime
) -> dict[str, Any] | None:
    start, _ = hours.week_bounds(week)
    previous = iso_week_of(start - timedelta(days=3), hours.timezone)
    if parse_iso_week(previous)[0] < FIRST_YEAR:
        return None
    stored = store.get_report(previous)
    if stored is None or "headline" not in stored:  # reports stored before issue 22 have none
        stored = _compute(previous, store, hours, now, previous=False)
    return {k: v["value"] for k, v in stored["headline"].items()}


def cases_behind(deps: Deps, week: str, figure: str) -> list[str]:
    """The case ids a headline figure was computed over (computed afresh, never stored)."""
    if figure not in service_figures.HEADLINE:
        raise InvalidInput(
            f"figure must be one of {', '.join(service_figures.HEADLINE)}.", code="invalid_figure"
        )
    drill: dict[str, list[str]] = {}
    _compute(week, deps.store, deps.hours(), deps.clock(), previous=False, drill=drill)
    return drill.get(figure, [])


def export_rows(deps: Deps, week: str) -> list[dict[str, Any]]:
    """One row per case opened in the week, with no personal data: ids, channels, times,
    outcome, the citizen's rating, risk level, queue and practitioner."""
    store, hours, now = deps.store, deps.hours(), deps.clock()
    start, end = check_week(week, hours, now)
    utc_start, utc_end = start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
    cases, interactions, _ = store.week_items(utc_start, utc_end)
    rating = {i.case_id: i.rating for i in interactions if i.status == "rating" and i.rating}
    replied = {  # who handled a case a reopen took from its assignee: who last answered it
        i.case_id: i.author
        for i in sorted(interactions, key=lambda i: i.at)
        if i.author and i.direction == "out" and not i.automated
    }
    rows = []
    for case in sorted(cases, key=lambda c: (c.opened_at, c.id)):
        if not utc_start <= case.opened_at < utc_end:
            continue
        rows.append(
            {
                "case_id": case.id,
                "channels": " ".join(
                    sorted({service_figures.channel_of(c) for c in case.channels})
                ),
                "opened": case.opened_at.isoformat(),
                "first_response": _iso(case.first_response_at),
                "resolved": _iso(case.closed_at),
                "outcome": case.outcome,
                "satisfaction": case.rating or rating.get(case.id),
                "risk": case.risk.level if case.risk else None,
                "queue": case.queue,
                "practitioner": case.assignee or replied.get(case.id),
            }
        )
    return rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def kind_of(interaction: Interaction) -> str | None:
    """Which contact an inbound interaction is, for counting (None: not a citizen's contact)."""
    if interaction.direction != "in" or interaction.automated or interaction.status == "rating":
        return None  # a satisfaction answer is not a new contact
    if interaction.channel == "voice":
        if interaction.status == "voicemail":
            return "voicemail"
        if interaction.status == "callback-requested":
            return None
        return "call" if (interaction.provider_id or "").startswith("CA") else None
    kinds = {"sms": "sms", "email": "email", "chat": "chat", "webinar": "webinar_booking"}
    return kinds.get(interaction.channel)


def _demand(interactions: list[Interaction], hours: OpeningHours) -> dict[str, Any]:
    zone = ZoneInfo(hours.timezone)
    by_channel = {c: {"total": 0, "in_hours": 0, "out_of_hours": 0} for c in CHANNELS}
    citizens: set[str] = set()
    busiest: Counter[tuple[int, int]] = Counter()
    for interaction in interactions:
        kind = kind_of(interaction)
        if kind is None:
            continue
        row = by_channel[kind]
        row["total"] += 1
        row["in_hours" if hours.is_open(interaction.at) else "out_of_hours"] += 1
        if interaction.contact_id:
            citizens.add(interaction.contact_id)
        local = interaction.at.astimezone(zone)
        busiest[(local.weekday(), local.hour)] += 1
    top = sorted(busiest.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "contacts": {
            "by_channel": by_channel,
            "total": sum(r["total"] for r in by_channel.values()),
            "unique_citizens": len(citizens),
            "busiest_hours": [{"day": DAYS[d], "hour": h, "contacts": n} for (d, h), n in top],
        }
    }


def _handling(
    cases: list[Case], interactions: list[Interaction], hours: OpeningHours
) -> dict[str, Any]:
    closed = sum(1 for i in interactions if i.channel == "note" and i.status == "closed")
    first: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"wall": [], "open": []})
    unanswered: Counter[str] = Counter()
    for case in cases:
        channel = "call" if case.channel == "voice" else case.channel
        if case.first_response_at is None:
            unanswered[channel] += 1
            continue
        wall = (case.first_response_at - case.opened_at).total_seconds() / 60
        open_minutes = hours.scheduled_hours(case.opened_at, case.first_response_at) * 60
        first[channel]["wall"].append(wall)
        first[channel]["open"].append(open_minutes)
    response = {}
    for name in sorted(set(first) | set(unanswered)):
        walls, open_ = first[name]["wall"], first[name]["open"]
        response[name] = {
            "responded": len(walls),
            "unanswered": unanswered[name],
            "median_wall_minutes": _round(statistics.median(walls)) if walls else None,
            "p90_wall_minutes": _percentile(walls, 0.9),
            "median_open_minutes": _round(statistics.median(open_)) if open_ else None,
            "p90_open_minutes": _percentile(open_, 0.9),
        }
    return {
        "opened": len(cases),
        "closed": closed,
        "opened_and_still_open": sum(1 for c in cases if c.status != "closed"),
        "first_response": response,
    }


def _flagged_in(
    store: ReportStore, opened: list[Case], interactions: list[Interaction], week: Span
) -> list[Case]:
    """The cases whose risk was set this week (its `at`), whenever they opened: those opened
    this week, and those whose risk note (every flag and change is one) is on this week's
    timeline, read one by one (a handful a week)."""
    known = {case.id: case for case in opened}
    for note in interactions:
        if note.channel == "note" and note.status == "risk" and note.case_id not in known:
            case = store.get_case(note.case_id)
            if case is not None:
                known[case.id] = case
    return [
        case
        for case in known.values()
        if case.risk
        and case.risk.at
        and week.start <= datetime.fromisoformat(case.risk.at) < week.end
    ]


def _safeguarding(cases: list[Case]) -> dict[str, Any]:
    """The cases flagged this week, by risk level as it stands (a practitioner's judgement
    included), and for the high ones: how long from the flag to a supervisor's
    acknowledgement, and to the first human answer (a practitioner's reply; never the automatic
    crisis answer)."""
    flagged: Counter[str] = Counter(c.risk.level for c in cases if c.risk)
    to_ack: list[float] = []
    to_answer: list[float] = []
    high = [c for c in cases if c.risk and c.risk.level == "high" and c.risk.at]
    for case in high:
        assert case.risk is not None and case.risk.at is not None
        flagged_at = datetime.fromisoformat(case.risk.at)
        if case.risk.acknowledged_at:
            acknowledged = datetime.fromisoformat(case.risk.acknowledged_at)
            to_ack.append(max(0.0, (acknowledged - flagged_at).total_seconds() / 60))
        if case.first_response_at:
            answered = max(case.first_response_at, flagged_at)
            to_answer.append((answered - flagged_at).total_seconds() / 60)

    def minutes(values: list[float]) -> dict[str, float | None]:
        median = _round(statistics.median(values)) if values else None
        return {"median": median, "p90": _percentile(values, 0.9)}

    return {
        "flagged": {"high": flagged["high"], "elevated": flagged["elevated"]},
        "acknowledged": len(to_ack),
        "unacknowledged": len(high) - len(to_ack),
        "minutes_to_acknowledge": minutes(to_ack),
        "answered": len(to_answer),
        "unanswered": len(high) - len(to_answer),
        "minutes_to_first_answer": minutes(to_answer),
    }


def _calls(interactions: list[Interaction]) -> dict[str, Any]:
    calls = [i for i in interactions if kind_of(i) == "call"]
    answered = [c for c in calls if c.answered]
    return {
        "total": len(calls),
        "answered": len(answered),
        "missed": len(calls) - len(answered),
        "talk_minutes": _round(sum(c.duration_seconds or 0 for c in answered) / 60),
        "voicemails": sum(1 for i in interactions if kind_of(i) == "voicemail"),
        "callbacks_requested": sum(
            1
            for i in interactions
            if i.channel == "voice" and i.direction == "in" and i.status == "callback-requested"
        ),
        "callbacks_completed": sum(
            1
            for i in interactions
            if i.channel == "voice" and i.direction == "out" and i.status == "completed"
        ),
    }


def _webinars(store: ReportStore, start: datetime, end: datetime) -> dict[str, Any]:
    sessions = [
        w
        for w in store.webinars_between(start, end - timedelta(microseconds=1))
        if w.status == "scheduled"
    ]
    bookings = [b for w in sessions for b in store.bookings_of(w.id)]
    return {
        "sessions": len(sessions),
        "seats_offered": sum(w.capacity for w in sessions),
        "bookings": sum(1 for b in bookings if b.status == "confirmed"),
        "waitlisted": sum(1 for b in bookings if b.status == "waitlisted"),
        "attended": sum(1 for b in bookings if b.attended),
    }


def _practitioners(
    spans: dict[str, list[Span]], staffed: Any, interactions: list[Interaction]
) -> list[dict[str, Any]]:
    replies: Counter[str] = Counter()
    handled: dict[str, set[str]] = defaultdict(set)
    for i in interactions:
        if i.author and i.direction == "out" and not i.automated:
            replies[i.author] += 1
            handled[i.author].add(i.case_id)
        elif i.author and i.channel == "note" and i.status == "closed":
            handled[i.author].add(i.case_id)
    people = sorted(set(spans) | set(replies) | set(handled))
    return [
        {
            "id": p,
            "staffed_hours": _round(staffed(spans.get(p, []))),
            "cases_handled": len(handled[p]),
            "replies": replies[p],
        }
        for p in people
    ]


def _by_day(
    interactions: list[Interaction],
    open_spans: list[Span],
    covered: list[Span],
    hours: OpeningHours,
    start: datetime,
) -> list[dict[str, Any]]:
    zone = ZoneInfo(hours.timezone)
    days = []
    for offset in range(7):
        day_start = datetime.combine(
            (start + timedelta(days=offset)).date(), datetime.min.time(), zone
        )
        day = Span(
            day_start.astimezone(ZoneInfo("UTC")),
            (day_start + timedelta(days=1)).astimezone(ZoneInfo("UTC")),
        )
        counts = Counter(kind_of(i) for i in interactions if day.start <= i.at < day.end)
        days.append(
            {
                "day": DAYS[offset],
                "contacts": {c: counts[c] for c in CHANNELS},
                "scheduled_hours": _round(
                    sum(o.hours() for w in open_spans if (o := _overlap(w, day)))
                ),
                "covered_hours": _round(sum(o.hours() for c in covered if (o := _overlap(c, day)))),
            }
        )
    return days


def report_outbox(week: str) -> str:
    """The weekly report's emails are recorded (and parked, retried, failed) under the report's
    own record, like a case's messages: no citizen's case is involved."""
    return f"report-{week}"


def send_weekly(
    deps: Deps, week: str, render: Callable[[dict[str, Any]], tuple[str, str, str]]
) -> dict[str, Any]:
    """The Monday job: compute and store the week, then email it once to the managers (a second
    run, or two overlapping runs, find the email already claimed and send nothing). Each email
    goes through `delivery`: recorded, sent, parked and retried if SES does not take it."""
    now, store = deps.clock(), deps.store
    figures = weekly(deps, week)
    recipients = deps.settings.manager_emails
    if not recipients or not store.claim_report_email(week, now):
        return {"week": week, "emailed": 0}
    text, html, csv_text = render(figures)
    subject = f"Weekly service report {week}"
    for recipient in recipients:
        raw = mail.report(
            deps,
            recipient,
            subject,
            text,
            html,
            (f"service-report-{week}.csv", csv_text),
            (f"service-report-{week}.html", html),  # the whole report, with its charts
        )
        out = Outgoing(report_outbox(week), "email", recipient, subject, raw=raw, automated=True)
        delivery.send(deps, out)
    return {"week": week, "emailed": len(recipients)}
