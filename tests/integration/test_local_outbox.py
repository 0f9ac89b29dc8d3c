"""The local stack's outbox: every message the app sends is kept where a developer can read it,
each email as the complete `.eml` SES would receive, each SMS as a line, named by its case; and
`make outbox` lists them with their case ids."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.senders import LocalDialer, LocalMailOutbox, LocalOutbox
from chalicelib.domain.model import Identity, Practitioner, Webinar
from scripts import outbox as outbox_tool
from tests.conftest import bearer, relay, seen
from tests.integration.test_email import email
from tests.twilio_fakes import signed, sms_form

ANNA = bearer("anna", "practitioner")
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def folder(local_services, tmp_path) -> Path:
    """The local senders as the local stage configures them, keeping what they send here."""
    where = tmp_path / "outbox"
    local_services.sms = LocalOutbox(directory=where)
    local_services.calls = LocalDialer(directory=where)
    local_services.mail = LocalMailOutbox(directory=where)
    local_services.store.create_practitioner(
        Practitioner("anna", "Anna", ("general", "education", "careers"), ("da",), 5)
    )
    return where


def open_case(store, kind: Any, value: str) -> str:
    return store.find_identity(Identity(kind, value)).open_case_id


def emails(folder: Path, case_id: str) -> list:
    return [
        message_from_bytes(path.read_bytes(), policy=default)
        for path in sorted(folder.glob(f"*-{case_id}-*.eml"))
    ]


def texts(folder: Path) -> list[dict]:
    path = folder / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_an_acknowledgement_and_a_practitioners_sms_reply_land_with_their_case_ids(
    api, local_services, folder, capsys
):
    store = local_services.store
    assert relay(api, email()).status_code == 201
    mail_case = open_case(store, "email", "sofie@example.com")
    [ack] = emails(folder, mail_case)
    assert ack["To"] == "sofie@example.com" and ack["In-Reply-To"] == "<q1@example.com>"
    assert "counsellor will answer you" in ack.get_body(("plain",)).get_content()

    inbound = sms_form("+4520000001", "hi")
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", inbound))
    sms_case = open_case(store, "phone", "+4520000001")
    api.post(f"/cases/{sms_case}/claim", headers=ANNA)
    reply = api.post(
        f"/cases/{sms_case}/replies",
        headers={**ANNA, **JSON},
        body=json.dumps({"body": "Hi! Let us talk.", "seen": seen(sms_case)}),
    )
    assert reply.status_code == 201
    [text] = texts(folder)
    assert (text["to"], text["body"], text["case_id"]) == (
        "+4520000001",
        "Hi! Let us talk.",
        sms_case,
    )
    assert datetime.fromisoformat(text["at"]).tzinfo is not None

    # `make outbox`: both, newest last, with their case ids; SHOW prints one whole
    assert outbox_tool.main(["--dir", str(folder)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 2
    assert "email" in rows[0] and mail_case in rows[0] and "Question" in rows[0]
    assert "sms" in rows[1] and sms_case in rows[1] and "Hi! Let us talk." in rows[1]
    assert outbox_tool.main(["--dir", str(folder), "--show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "To: sofie@example.com" in shown and "counsellor will answer you" in shown
    assert outbox_tool.main(["--dir", str(folder), "--show", "3"]) == 1


def book(api, local_services, starts_in: timedelta, address: str) -> tuple[Webinar, str]:
    clock = local_services.clock
    webinar = Webinar(
        "w1",
        "Choosing an education",
        clock.at + starts_in,
        60,
        25,
        20,
        "education",
        "https://meet.example.org/w1",
    )
    local_services.store.create_webinar(webinar)
    answer = api.post(
        "/webinars/w1/bookings",
        headers=JSON,
        body=json.dumps(
            {"email": address, "first_name": "Sofie", "consent": True, "language": "en"}
        ),
    )
    assert answer.status_code == 202
    return webinar, open_case(local_services.store, "email", address)


def test_a_webinar_confirmation_is_a_complete_eml_with_its_calendar_invite(
    api, local_services, folder
):
    _, case_id = book(api, local_services, timedelta(hours=48), "sofie@example.com")
    [confirmation] = emails(folder, case_id)
    assert confirmation["To"] == "sofie@example.com"
    assert confirmation["Subject"] == "Booked: Choosing an education"
    [invite] = [part for part in confirmation.iter_attachments()]
    assert invite.get_filename() == "webinar.ics" and invite.get_content_type() == "text/calendar"
    calendar = invite.get_content()
    assert "BEGIN:VCALENDAR" in calendar and "METHOD:REQUEST" in calendar


def job(name: str):
    import app as application
    from scripts.scheduler import jobs_of

    [found] = [j for j in jobs_of(application.app) if j.name == name]
    return found


def test_a_reminder_appears_in_the_outbox_after_its_tick(api, local_services, folder):
    from scripts.scheduler import run_job

    _, case_id = book(api, local_services, timedelta(hours=48), "sofie@example.com")
    assert len(emails(folder, case_id)) == 1  # the confirmation
    local_services.clock.at += timedelta(hours=25)  # 23 hours before the session
    ok, result = run_job(job("webinar_reminders"), local_services.clock.at)
    assert (ok, result) == (True, {"sent": 1})
    _confirmation, reminder = emails(folder, case_id)
    assert reminder["To"] == "sofie@example.com"
    assert "tomorrow" in reminder.get_body(("plain",)).get_content()


def test_the_weekly_report_email_appears_in_the_outbox_after_its_tick(local_services, folder):
    from scripts.scheduler import run_job

    local_services.settings = replace(local_services.settings, manager_emails=("boss@example.org",))
    monday = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # the job's own time
    local_services.clock.at = monday
    ok, result = run_job(job("weekly_service_report"), monday)
    assert (ok, result) == (True, {"week": "2026-W48", "emailed": 1})
    [report] = emails(folder, "report-2026-W48")
    assert report["To"] == "boss@example.org"
    assert report["Subject"] == "Weekly service report 2026-W48"
    names = [part.get_filename() for part in report.iter_attachments()]
    # issue 22: the whole report is attached as its page too
    assert names == ["service-report-2026-W48.csv", "service-report-2026-W48.html"]
