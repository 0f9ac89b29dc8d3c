"""The local stack's demo history: eight weeks that look like a working helpline, written once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.wiring import reset_services
from scripts.history import WEEKS, seed_history
from scripts.seed import seed
from tests.conftest import AUTH_DIR, bearer

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday: the history is 2026-W40..W47
BOSS = bearer("boss", "manager")


def test_eight_weeks_of_history_fill_every_weekly_report_and_are_written_once(api, local_services):
    seed(local_services.store, NOW)
    played = seed_history(local_services, NOW, AUTH_DIR)
    reset_services(local_services)  # the simulation ran on its own clock; back to the test's
    assert played["sms"] > 0 and played["email"] > 0 and played["calls"] > 0
    assert played["bookings"] > 0 and played["replies"] > 0 and played["closed"] > 0

    calls = {"answered": 0, "voicemails": 0, "callbacks_completed": 0}
    attended = 0
    for week in range(40, 40 + WEEKS):
        answer = api.get(f"/reports/weekly/2026-W{week}", headers=BOSS)
        assert answer.status_code == 200, answer.body
        figures = json.loads(answer.body)
        channels = figures["contacts"]["by_channel"]
        assert {"sms", "call", "email"} <= {c for c, n in channels.items() if n["total"]}, week
        assert figures["contacts"]["total"] >= 15, week
        assert sum(n["out_of_hours"] for n in channels.values()) > 0, week
        assert figures["cases"]["closed"] > 0, week
        assert figures["hours"]["staffed"] > 0, week
        for figure in ("answered", "voicemails", "callbacks_completed"):
            calls[figure] += figures["calls"][figure]
        assert figures["webinars"]["sessions"] == 2, week
        attended += figures["webinars"]["attended"]
    # over the eight weeks: calls answered and missed, voicemails, callbacks, attendance
    assert all(calls.values()), calls
    assert attended > 0

    assert seed_history(local_services, NOW, AUTH_DIR) == {}  # idempotent: written once
