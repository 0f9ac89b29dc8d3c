"""The weekly report as CSV, plain text and an HTML page with inline SVG charts (no JavaScript,
no external assets): one set of figures, three renderings that always agree."""

from __future__ import annotations

import csv
import io
import re
from html import escape
from typing import Any

COLOURS = ("#1b6ca8", "#e07a1f", "#3c9d5d", "#b0413e", "#00897b", "#7a5195")
CHANNEL_NAMES = {
    "sms": "SMS",
    "call": "Calls",
    "voicemail": "Voicemails",
    "email": "Emails",
    "chat": "Web chats",
    "webinar_booking": "Webinar bookings",
}


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every figure as (metric, value): lists by index, None as empty."""
    if isinstance(value, dict):
        return [
            row
            for k, v in value.items()
            for row in flatten(v, f"{prefix}.{k}" if prefix else str(k))
        ]
    if isinstance(value, list):
        return [row for n, v in enumerate(value) for row in flatten(v, f"{prefix}.{n}")]
    return [(prefix, "" if value is None else str(value))]


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = r"-?[0-9]+(\.[0-9]+)?"


def safe_cell(value: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates: a leading quote before anything
    that could start a formula (a practitioner's name or a stored label is typed by people).
    Plain numbers stay numbers, negative ones included."""
    if value.startswith(FORMULA_STARTS) and not re.fullmatch(NUMBER, value):
        return "'" + value
    return value


def as_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows((safe_cell(metric), safe_cell(value)) for metric, value in flatten(figures))
    return out.getvalue()


EXPORT_COLUMNS = (
    "case_id",
    "channels",
    "opened",
    "first_response",
    "resolved",
    "outcome",
    "satisfaction",
    "risk",
    "queue",
    "practitioner",
)


def export_csv(rows: list[dict[str, Any]]) -> str:
    """The week's cases, one row each, with the same formula guard as the report."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(safe_cell("" if row[c] is None else str(row[c])) for c in EXPORT_COLUMNS)
    return out.getvalue()


HEADLINE_LABELS = {
    "service_level_text": ("Texts first answered within target", "share"),
    "service_level_calls": ("Calls answered within 20 s", "share"),
    "abandonment_rate": ("Calls abandoned", "share"),
    "average_handle_minutes": ("Average handle time", "min"),
    "occupancy": ("Occupancy", "share"),
    "resolution_median_hours": ("Median resolution time", "h"),
    "reopen_rate": ("Reopened", "share"),
    "satisfaction_average": ("Satisfaction (1-5)", ""),
    "satisfaction_response_rate": ("Satisfaction response rate", "share"),
    "backlog": ("Backlog carried over", "cases"),
}


def show(value: float | int | None, unit: str, signed: bool = False) -> str:
    """A headline value as the email and the page print it: shares as percentages."""
    if value is None:
        return "n/a"
    if unit == "share":
        number = round(value * 100, 1)
        return f"{number:+g} points" if signed else f"{number:g}%"
    text = f"{value:+g}" if signed else f"{value:g}"
    return f"{text} {unit}".rstrip()


def headline_lines(figures: dict[str, Any]) -> list[str]:
    """Each headline figure with its change from the previous week."""
    lines = []
    for name, figure in figures.get("headline", {}).items():
        label, unit = HEADLINE_LABELS[name]
        change = figure["change"]
        versus = "" if change is None else f" ({show(change, unit, signed=True)} on last week)"
        lines.append(f"  {label}: {show(figure['value'], unit)}{versus}")
    return lines


def as_text(figures: dict[str, Any]) -> str:
    h, c, k, calls = figures["hours"], figures["contacts"], figures["cases"], figures["calls"]
    lines = [
        f"Guidance helpline, week {figures['week']}" + ("" if figures["complete"] else " (so far)"),
        "",
        *(["Headline figures:", *headline_lines(figures), ""] if "headline" in figures else []),
        f"Opening hours scheduled: {h['scheduled']} h; covered by practitioners: {h['covered']} h; "
        f"open with nobody on duty: {h['uncovered']} h; staffed (sum of shifts): {h['staffed']} h.",
        f"Contacts: {c['total']} from {c['unique_citizens']} citizens.",
    ]
    for channel, row in c["by_channel"].items():
        lines.append(
            f"  {CHANNEL_NAMES[channel]}: {row['total']} "
            f"({row['in_hours']} in opening hours, {row['out_of_hours']} outside)"
        )
    lines += [
        f"Cases: {k['opened']} opened, {k['closed']} closed, "
        f"{k['opened_and_still_open']} of this week's still open.",
        f"Calls: {calls['answered']} answered, {calls['missed']} missed, "
        f"{calls['talk_minutes']} talk minutes; {calls['voicemails']} voicemails; "
        f"callbacks {calls['callbacks_requested']} requested, "
        f"{calls['callbacks_completed']} completed.",
    ]
    if "safeguarding" in figures:  # reports stored before issue 19 have none
        g = figures["safeguarding"]
        lines.append(
            f"Safeguarding: {g['flagged']['high']} cases flagged high risk, "
            f"{g['flagged']['elevated']} elevated; high-risk alerts acknowledged after a median "
            f"{g['minutes_to_acknowledge']['median']} min ({g['unacknowledged']} not "
            f"acknowledged), first human answer after a median "
            f"{g['minutes_to_first_answer']['median']} min ({g['unanswered']} not answered)."
        )
    return "\n".join(lines) + "\n"


def _bars(title: str, groups: list[str], series: list[tuple[str, list[float]]], unit: str) -> str:
    """A grouped bar chart as SVG."""
    width, height, left, bottom, top = 720, 260, 40, 40, 30
    top_value = max([v for _, values in series for v in values] + [1])
    group_width = (width - left - 10) / max(1, len(groups))
    bar = group_width * 0.8 / max(1, len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    scale = (height - bottom - top) / top_value
    for g, name in enumerate(groups):
        x0 = left + g * group_width
        parts.append(
            f'<text x="{x0 + group_width / 2:.1f}" y="{height - bottom + 16}" '
            f'font-size="11" text-anchor="middle">{escape(name)}</text>'
        )
        for s, (label, values) in enumerate(series):
            value = values[g]
            h = value * scale
            parts.append(
                f'<rect class="bar" x="{x0 + group_width * 0.1 + s * bar:.1f}" '
                f'y="{height - bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(label)}, {escape(name)}: '
                f"{value:g} {escape(unit)}</title></rect>"
            )
    for s, (label, _) in enumerate(series):
        parts.append(
            f'<rect x="{left + s * 140}" y="{height - 14}" width="10" height="10" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/><text x="{left + s * 140 + 14}" '
            f'y="{height - 5}" font-size="11">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def as_html(figures: dict[str, Any]) -> str:
    days = [d["day"][:3] for d in figures["by_day"]]
    channels = list(figures["contacts"]["by_channel"])
    per_day = _bars(
        "Contacts per channel per day",
        days,
        [(CHANNEL_NAMES[c], [d["contacts"][c] for d in figures["by_day"]]) for c in channels],
        "contacts",
    )
    in_out = _bars(
        "Contacts in and outside opening hours",
        [CHANNEL_NAMES[c] for c in channels],
        [
            (
                "In opening hours",
                [figures["contacts"]["by_channel"][c]["in_hours"] for c in channels],
            ),
            ("Outside", [figures["contacts"]["by_channel"][c]["out_of_hours"] for c in channels]),
        ],
        "contacts",
    )
    staffed = _bars(
        "Opening hours: scheduled and covered by practitioners",
        days,
        [
            ("Scheduled", [d["scheduled_hours"] for d in figures["by_day"]]),
            ("Covered", [d["covered_hours"] for d in figures["by_day"]]),
        ],
        "hours",
    )
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
        for k, v in flatten(
            {
                k: figures[k]
                for k in (
                    "headline",
                    "service",
                    "hours",
                    "cases",
                    "calls",
                    "safeguarding",
                    "webinars",
                )
                if k in figures
            }
        )
    )
    title = f"Weekly service report {figures['week']}" + (
        "" if figures["complete"] else " (so far)"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td{border:1px solid #ccc;padding:2px 8px}</style>"
        f"</head><body><h1>{escape(title)}</h1><pre>{escape(as_text(figures))}</pre>"
        f"<figure>{per_day}</figure><figure>{in_out}</figure><figure>{staffed}</figure>"
        f"<h2>All figures</h2><table>{rows}</table></body></html>"
    )
