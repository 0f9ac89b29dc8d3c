"""`make report WEEK=2026-W47`: compute a week's service report on the local stack and print it.
`make report FROM=2026-W01 TO=2026-W47`: backfill many weeks, with a progress bar.

Uses the running local stack's DynamoDB Local, or starts one on .data/ for the time it needs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.channels import report_views
from chalicelib.config import load_settings
from chalicelib.domain import reports
from chalicelib.domain.hours import parse_iso_week
from chalicelib.wiring import build_services, dynamodb_client
from scripts.local_stage import ROOT, local_environment
from scripts.localdb import DynamoDBLocal, _answers, create_table, use_local_credentials


def weeks_between(first: str, last: str) -> list[str]:
    year, week = parse_iso_week(first)
    day = date.fromisocalendar(year, week, 1)
    end_year, end_week = parse_iso_week(last)
    end = date.fromisocalendar(end_year, end_week, 1)
    weeks = []
    while day <= end:
        y, w, _ = day.isocalendar()
        weeks.append(f"{y}-W{w:02d}")
        day += timedelta(days=7)
    return weeks


def progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(1, total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}   ")
    sys.stderr.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--week")
    parser.add_argument("--from", dest="first")
    parser.add_argument("--to", dest="last")
    parser.add_argument("--format", choices=["text", "json", "csv"], default="text")
    args = parser.parse_args()
    os.environ.update(local_environment())
    use_local_credentials()
    settings = load_settings()
    port = urlparse(settings.dynamodb_endpoint or "").port or 8001
    database = None
    if not _answers(port):
        database = DynamoDBLocal(port=port, data_dir=ROOT / ".data" / "dynamodb").start()
    try:
        create_table(dynamodb_client(settings), settings.table_name)
        deps = build_services(settings)
        now, hours = deps.clock(), deps.hours()
        if args.first and args.last:
            weeks = weeks_between(args.first, args.last)
            for n, week in enumerate(weeks, 1):
                reports.weekly(deps, week)
                progress(n, len(weeks), week)
            sys.stderr.write("\n")
            print(f"{len(weeks)} weeks computed and stored")
            return 0
        week = args.week or reports.week_of_last_monday(now, hours.timezone)
        figures = reports.weekly(deps, week)
        if args.format == "json":
            print(json.dumps(figures, indent=2))
        elif args.format == "csv":
            print(report_views.as_csv(figures), end="")
        else:
            print(report_views.as_text(figures), end="")
        return 0
    finally:
        if database is not None:
            database.stop()


if __name__ == "__main__":
    raise SystemExit(main())
