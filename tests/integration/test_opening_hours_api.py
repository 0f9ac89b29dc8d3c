"""Managers publish the opening hours over the API; citizens' channels follow them at once."""

from __future__ import annotations

import json
from datetime import date

from tests.conftest import bearer
from tests.twilio_fakes import signed, sms_form

BOSS = bearer("boss", "manager")
ANNA = bearer("anna", "practitioner")
JSON = {"Content-Type": "application/json"}

WEEKDAYS_9_TO_17 = {
    "timezone": "Europe/Copenhagen",
    "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def put_hours(api, body: dict, headers: dict = BOSS):
    return api.put("/hours", body=json.dumps(body), headers={**JSON, **headers})


def test_anyone_reads_the_published_hours(api):
    # The clock is Tuesday 24 November 2026, 10:00 in Copenhagen; no hours stored: the model.
    answer = api.get("/hours")
    assert answer.status_code == 200
    published = json.loads(answer.body)
    assert published["open_now"] is True
    assert published["next_opening"] == "2026-11-24T10:00:00.000001+01:00"
    assert published["hours"]["timezone"] == "Europe/Copenhagen"
    assert published["hours"]["weekly"]["sat"] == [["10:00", "16:00"]]


def test_a_manager_closes_today_and_the_next_sms_is_told_when_we_open(api, local_services):
    body = {**WEEKDAYS_9_TO_17, "closed_dates": ["2026-11-24"], "special": {"2026-11-25": []}}
    answer = put_hours(api, body)
    assert answer.status_code == 200, answer.body
    published = json.loads(answer.body)
    assert published["open_now"] is False
    assert published["next_opening"] == "2026-11-26T09:00:00+01:00"
    assert published["hours"]["closed_dates"] == ["2026-11-24"]
    assert json.loads(api.get("/hours").body) == published

    form = sms_form("+4520001234", "which education fits me")
    reply = api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", form))
    assert reply.status_code == 200
    assert "We are closed right now" in reply.body.decode()
    assert "Thursday" in reply.body.decode() and "09:00" in reply.body.decode()
    assert local_services.store.load_hours().closed_dates == {date(2026, 11, 24)}


def test_only_managers_publish_hours(api, local_services):
    assert put_hours(api, WEEKDAYS_9_TO_17, {}).status_code == 401
    assert put_hours(api, WEEKDAYS_9_TO_17, ANNA).status_code == 403
    assert local_services.store.load_hours() is None


def test_hours_that_make_no_sense_are_refused_and_nothing_changes(api, local_services):
    cases = [
        ({**WEEKDAYS_9_TO_17, "timezone": "Mars/Olympus"}, "invalid_hours"),
        ({**WEEKDAYS_9_TO_17, "closed_dates": ["2026-02-30"]}, "invalid_hours"),
        ({**WEEKDAYS_9_TO_17, "special": {"2026-12-24": [["24:00", "10:00"]]}}, "invalid_hours"),
        ({"timezone": "Europe/Copenhagen", "weekly": {"mon": [["25:00", "12:00"]]}}, None),
        ({"timezone": "Europe/Copenhagen", "weekly": {"monday": []}}, None),
        ({"weekly": {}}, None),
    ]
    for body, code in cases:
        answer = put_hours(api, body)
        assert answer.status_code == 400, body
        error = json.loads(answer.body)["error"]
        assert error["code"] == (code or "invalid_field"), (body, error)
    errors = [json.loads(put_hours(api, body).body)["error"] for body, _ in cases[3:]]
    assert [e["field"] for e in errors] == ["weekly.mon.0.0", "monday", "timezone"]
    assert local_services.store.load_hours() is None
