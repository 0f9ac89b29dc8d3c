"""The figures managers of other contact centres read each week (service level, abandonment,
handle time, occupancy, resolution, reopens, satisfaction, backlog), per channel and in total,
from the same week's items as the rest of the report. Definitions: docs/reports.md.

Each figure also knows the cases behind it (`Figures.cases`), so a manager can open a headline
figure as its list of cases; the ids are never stored with the report."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.hours import OpeningHours
from chalicelib.domain.model import ActiveTime, Case, Interaction

CHANNELS = ("sms", "call", "email", "chat", "webinar")
TEXT_CHANNELS = ("sms", "email", "chat", "webinar")
HANDLED_TEXT = ("sms", "email", "chat")  # conversations a practitioner handles in writing
TEXT_TARGET_OPEN_MINUTES = 60  # first response to a text within this many opening minutes
CALL_TARGET_SECONDS = 20
SHORTEST_CALL_SECONDS = 5  # shorter unanswered calls are misdials, not abandonment
RATINGS = (1, 2, 3, 4, 5)
ASKED, RATED, REOPENED = "survey-asked", "rating", "reopened"
# The headline figures, in the order the report shows them; each has a change from last week.
HEADLINE = (
    "service_level_text",
    "service_level_calls",
    "abandonment_rate",
    "average_handle_minutes",
    "occupancy",
    "resolution_median_hours",
    "reopen_rate",
    "satisfaction_average",
    "satisfaction_response_rate",
    "backlog",
)


def channel_of(case_channel: str) -> str:
    return "call" if case_channel == "voice" else case_channel


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@dataclass
class Figures:
    """The section of the report, and the case ids behind each headline figure."""

    section: dict[str, Any]
    headline: dict[str, float | int | None]
    cases: dict[str, list[str]] = field(default_factory=dict)


def compute(
    cases: list[Case],
    interactions: list[Interaction],
    hours: OpeningHours,
    staffed: dict[str, float],
    is_call: Callable[[Interaction], bool],
    active: Iterable[ActiveTime] = (),
) -> Figures:
    """`staffed`: each practitioner's staffed opening hours this week; `is_call`: an inbound
    call as the report counts it; `active`: practitioners' active minutes on cases."""
    channel = {c.id: channel_of(c.channel) for c in cases}
    rows: dict[str, dict[str, Any]] = {}
    behind: dict[str, set[str]] = defaultdict(set)

    def ids(name: str, found: Iterable[str]) -> None:
        behind[name].update(found)

    text = _service_level_text(cases, hours)
    calls = _calls(interactions, is_call)
    resolution = _resolution(cases)
    reopens = _reopens(interactions, channel)
    ratings = _satisfaction(interactions)
    handled = _text_handle_minutes(active)
    for name in (*CHANNELS, "total"):
        row: dict[str, Any] = {}
        row.update(text.get(name, _service_level_row([], [])))
        row.update(calls.get(name, _call_row([], [], [], [])))
        row.update(_handle_row(name, row, handled))
        row.update(resolution.get(name, _resolution_row([])))
        row.update(reopens.get(name, _reopen_row(set(), set())))
        row["satisfaction"] = ratings.get(name, _rating_row([], 0))
        rows[name] = {k: v for k, v in row.items() if not k.startswith("_")}
        if name == "total":
            ids("service_level_text", row["_text_cases"])
            ids("service_level_calls", row["_waited_cases"])
            ids("abandonment_rate", row["_abandoned_cases"])
            ids("average_handle_minutes", row["_handled_cases"])
            ids("resolution_median_hours", row["_resolved_cases"])
            ids("reopen_rate", row["_reopened_cases"])
    rated = [i for i in interactions if i.status == RATED and i.rating]
    ids("satisfaction_average", (i.case_id for i in rated))
    ids("satisfaction_response_rate", (i.case_id for i in interactions if i.status == ASKED))
    backlog = _backlog(interactions, set(channel))
    ids("backlog", backlog)
    occupancy, per_practitioner, active_cases = _occupancy(interactions, staffed)
    ids("occupancy", active_cases)
    total = rows["total"]
    headline: dict[str, float | int | None] = {
        "service_level_text": total["service_level_text"],
        "service_level_calls": total["service_level_calls"],
        "abandonment_rate": total["abandonment_rate"],
        "average_handle_minutes": total["average_handle_minutes"],
        "occupancy": occupancy,
        "resolution_median_hours": total["resolution_median_hours"],
        "reopen_rate": total["reopen_rate"],
        "satisfaction_average": total["satisfaction"]["average"],
        "satisfaction_response_rate": total["satisfaction"]["response_rate"],
        "backlog": len(backlog),
    }
    section = {
        "by_channel": {c: rows[c] for c in CHANNELS},
        "total": rows["total"],
        "occupancy": {"total": occupancy, "by_practitioner": per_practitioner},
        "backlog": len(backlog),
        "targets": {
            "text_first_response_open_minutes": TEXT_TARGET_OPEN_MINUTES,
            "call_answer_seconds": CALL_TARGET_SECONDS,
        },
    }
    return Figures(section, headline, {k: sorted(v) for k, v in behind.items()})


def _service_level_row(within: list[str], counted: list[str]) -> dict[str, Any]:
    return {
        "service_level_text": _share(len(within), len(counted)),
        "first_responses_within_target": len(within),
        "text_cases": len(counted),
        "_text_cases": counted,
    }


def _service_level_text(cases: list[Case], hours: OpeningHours) -> dict[str, dict[str, Any]]:
    """Of this week's text cases, the share first answered within the target, counted in
    opening minutes (a case still unanswered counts as missed)."""
    within: dict[str, list[str]] = defaultdict(list)
    counted: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        name = channel_of(case.channel)
        if name not in TEXT_CHANNELS:
            continue
        counted[name].append(case.id)
        counted["total"].append(case.id)
        if case.first_response_at is not None:
            minutes = hours.scheduled_hours(case.opened_at, case.first_response_at) * 60
            if minutes <= TEXT_TARGET_OPEN_MINUTES:
                within[name].append(case.id)
                within["total"].append(case.id)
    return {n: _service_level_row(within[n], counted[n]) for n in counted}


def _call_row(
    answered: list[Interaction],
    counted: list[Interaction],
    gone: list[str],
    waited: list[Interaction],
) -> Any:
    within = [c for c in waited if c.answered and _wait(c) <= CALL_TARGET_SECONDS]
    return {
        "service_level_calls": _share(len(within), len(waited)),
        "calls_answered_within_target": len(within),
        "calls_waited": len(waited),
        "calls_counted": len(counted),
        "abandoned": len(gone),
        "abandonment_rate": _share(len(gone), len(counted)),
        "_answered": answered,
        "_waited_cases": [c.case_id for c in waited],
        "_abandoned_cases": gone,
    }


def _wait(call: Interaction) -> float:
    """Seconds from the <Dial> to the end of the wait (an unreported end: as long as can be)."""
    if call.waiting_at is None or call.waited_until is None:
        return float("inf")
    return max(0.0, (call.waited_until - call.waiting_at).total_seconds())


def _calls(interactions: list[Interaction], is_call: Callable[[Interaction], bool]) -> Any:
    """Abandoned: a call nobody answered that lasted 5 s or more and after which the caller
    left neither a voicemail nor a callback request on the case. Service level: of the calls
    that waited for a practitioner (a <Dial>), the share answered within the target; one that
    nobody answered within 5 s of waiting is a caller who changed their mind, not counted."""
    left_word: dict[str, list[datetime]] = defaultdict(list)
    for i in interactions:
        if (
            i.channel == "voice"
            and i.direction == "in"
            and i.status in ("voicemail", "callback-requested")
        ):
            left_word[i.case_id].append(i.at)
    calls = [i for i in interactions if is_call(i)]
    answered = [c for c in calls if c.answered]
    counted = [c for c in calls if c.answered or (c.duration_seconds or 0) >= SHORTEST_CALL_SECONDS]
    gone = [
        c.case_id
        for c in counted
        if not c.answered and not any(at >= c.at for at in left_word[c.case_id])
    ]
    waited = [
        c
        for c in calls
        if c.waiting_at is not None and (c.answered or _wait(c) >= SHORTEST_CALL_SECONDS)
    ]
    row = _call_row(answered, counted, gone, waited)
    return {"call": row, "total": row}


def _text_handle_minutes(active: Iterable[ActiveTime]) -> dict[str, dict[str, float]]:
    """Per text channel, each case's active minutes this week, summed over practitioners."""
    minutes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for spell in active:
        name = channel_of(spell.channel)
        if name in HANDLED_TEXT:
            minutes[name][spell.case_id] += spell.minutes
    return minutes


def _handle_row(name: str, row: dict[str, Any], handled: dict[str, dict[str, float]]) -> Any:
    """Handle time: a call's length (the call row's), a text case's active minutes; the total
    is the mean over both, each call and each text case one contact handled."""
    calls = [(c, (c.duration_seconds or 0) / 60) for c in row["_answered"]]
    texts = [
        item
        for channel in (HANDLED_TEXT if name == "total" else (name,))
        for item in handled.get(channel, {}).items()
    ]
    spans = [m for _, m in calls] + [m for _, m in texts]
    return {
        "average_handle_minutes": _mean(spans),
        "_handled_cases": [c.case_id for c, _ in calls] + [case for case, _ in texts],
    }


def _resolution_row(resolved: list[Case]) -> dict[str, Any]:
    spans = [(c.closed_at - c.opened_at).total_seconds() / 3600 for c in resolved if c.closed_at]
    ordered = sorted(spans)
    p90 = round(ordered[max(0, -(-9 * len(ordered) // 10) - 1)], 2) if ordered else None
    return {
        "resolved": len(resolved),
        "resolution_median_hours": _median(spans),
        "resolution_p90_hours": p90,
        "_resolved_cases": [c.id for c in resolved],
    }


def _resolution(cases: list[Case]) -> dict[str, dict[str, Any]]:
    """This week's cases closed by the time the report is computed: opened to closed."""
    resolved: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        if case.status == "closed" and case.closed_at and case.outcome != "erased":
            resolved[channel_of(case.channel)].append(case)
            resolved["total"].append(case)
    return {n: _resolution_row(r) for n, r in resolved.items()}


def _reopen_row(closed: set[str], reopened: set[str]) -> dict[str, Any]:
    return {
        "closed_cases": len(closed),
        "reopened": len(reopened),
        "reopen_rate": _share(len(reopened), len(closed)),
        "_reopened_cases": sorted(reopened),
    }


def _reopens(interactions: list[Interaction], channel: dict[str, str]) -> Any:
    """Of this week's cases closed during the week, the share reopened during it."""
    closed: dict[str, set[str]] = defaultdict(set)
    reopened: dict[str, set[str]] = defaultdict(set)
    for i in interactions:
        name = channel.get(i.case_id)
        if name is None or i.channel != "note":
            continue
        target = closed if i.status == "closed" else reopened if i.status == REOPENED else None
        if target is not None:
            target[name].add(i.case_id)
            target["total"].add(i.case_id)
    return {n: _reopen_row(closed[n], reopened[n] & closed[n]) for n in closed}


def _rating_row(ratings: list[int], asked: int) -> dict[str, Any]:
    spread = Counter(ratings)
    return {
        "asked": asked,
        "responses": len(ratings),
        "response_rate": _share(len(ratings), asked),
        "average": _mean([float(r) for r in ratings]),
        "distribution": {str(r): spread[r] for r in RATINGS},
    }


def _satisfaction(interactions: list[Interaction]) -> dict[str, dict[str, Any]]:
    """Asks sent and answers received this week, by the channel asked on."""
    asked: Counter[str] = Counter()
    ratings: dict[str, list[int]] = defaultdict(list)
    for i in interactions:
        if i.channel == "note" and i.status == ASKED and i.provider:
            asked[channel_of(i.provider)] += 1
            asked["total"] += 1
        elif i.status == RATED and i.direction == "in" and i.rating in RATINGS:
            ratings[channel_of(i.channel)].append(i.rating)
            ratings["total"].append(i.rating)
    return {n: _rating_row(ratings[n], asked[n]) for n in set(asked) | set(ratings)}


def _backlog(interactions: list[Interaction], this_week: set[str]) -> set[str]:
    """Cases opened before the week that were worked on or written to during it."""
    return {
        i.case_id
        for i in interactions
        if i.case_id not in this_week and not i.automated and i.status not in (ASKED, RATED)
    }


def _occupancy(
    interactions: list[Interaction], staffed: dict[str, float]
) -> tuple[float | None, dict[str, float | None], set[str]]:
    """The share of a practitioner's staffed hours in which they did something on a case (a
    reply, a note, a close): clock hours with an action over staffed hours."""
    active: dict[str, set[tuple[str, int]]] = defaultdict(set)
    cases: set[str] = set()
    for i in interactions:
        if i.author and not i.automated and i.status not in (ASKED, RATED):
            active[i.author].add((i.at.date().isoformat(), i.at.hour))
            cases.add(i.case_id)
    people = sorted(set(active) | {p for p, h in staffed.items() if h})
    per = {p: _share_hours(len(active[p]), staffed.get(p, 0.0)) for p in people}
    worked = sum(len(active[p]) for p in people if staffed.get(p))
    return _share_hours(worked, sum(staffed.values())), per, cases


def _share_hours(active: int, staffed: float) -> float | None:
    return round(min(1.0, active / staffed), 4) if staffed else None


def changes(
    now: dict[str, float | int | None], before: dict[str, float | int | None] | None
) -> dict[str, dict[str, float | int | None]]:
    """Each headline figure with last week's and the difference (None when either is)."""
    before = before or {}
    out: dict[str, dict[str, float | int | None]] = {}
    for name in HEADLINE:
        value, previous = now.get(name), before.get(name)
        change = round(value - previous, 4) if value is not None and previous is not None else None
        out[name] = {"value": value, "previous": previous, "change": change}
    return out
