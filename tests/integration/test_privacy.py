"""Export and erasure of one citizen, over HTTP, against DynamoDB Local."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.domain import reports
from chalicelib.domain.model import Identity, Webinar
from tests.conftest import MAIL_DOMAIN, bearer, deps_of, relay, seen
from tests.twilio_fakes import call_form, signed, sms_form

BOSS = bearer("boss", "manager")
PHONE = "+4520000001"
SECRET_WORDS = "I am scared about failing maths"


def citizen_everywhere(api, store, clock) -> tuple[str, str]:
    """SMS, a call, a webinar booking, and an email (with an attachment) threaded to the case."""
    api.post(
        "/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form(PHONE, SECRET_WORDS))
    )
    api.post("/webhooks/twilio/voice", **signed("/webhooks/twilio/voice", call_form(PHONE)))
    store.create_webinar(
        Webinar(
            "w1",
            "Maths help",
            clock.at + timedelta(days=2),
            60,
            5,
            5,
            "education",
            "https://meet.example.org/w",
        )
    )
    api.post(
        "/webinars/w1/bookings",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"phone": PHONE, "first_name": "Sofie", "consent": True}),
    )
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    raw = (
        f"From: Sofie <sofie@example.com>\r\nTo: studyhelp+{case.reply_token}@{MAIL_DOMAIN}"
        "\r\nSubject: My grades\r\nMessage-ID: <g1@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n"
        f"\r\n{SECRET_WORDS}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition:"
        " attachment; filename=grades.pdf\r\n\r\n%PDF-1.4 grades\r\n--b--\r\n"
    ).encode()
    assert relay(api, raw).status_code == 201
    # a new address on the reply address is only a possible link until a practitioner confirms
    linked = store.find_identity(Identity("email", "sofie@example.com")).open_case_id
    assert api.post(f"/cases/{linked}/link", headers=BOSS).status_code == 200
    return case.contact_id, case.id


def test_export_returns_everything_stored_about_the_citizen(api, local_services, clock):
    contact_id, case_id = citizen_everywhere(api, local_services.store, clock)
    answer = api.get(f"/contacts/{contact_id}/export", headers=BOSS)
    assert answer.status_code == 200
    data = json.loads(answer.body)
    assert {i["value"] for i in data["identities"]} == {PHONE, "sofie@example.com"}
    case, linked = sorted(data["cases"], key=lambda c: c["id"] != case_id)  # + the linked email's
    assert case["id"] == case_id
    timeline = case["timeline"] + linked["timeline"]
    assert SECRET_WORDS in [e["body"] for e in timeline]
    assert {e["channel"] for e in timeline} >= {"sms", "voice", "webinar", "email"}
    [booking] = data["bookings"]
    assert booking["first_name"] == "Sofie" and "token_hash" not in booking
    assert (
        api.get(
            f"/contacts/{contact_id}/export", headers=bearer("anna", "practitioner")
        ).status_code
        == 403
    )


def test_erasure_reaches_every_item_and_keeps_the_reports_right(api, local_services, clock):
    store = local_services.store
    contact_id, _ = citizen_everywhere(api, store, clock)
    week = reports.week_of_last_monday(clock.at + timedelta(days=7), "Europe/Copenhagen")
    report_at = clock.at + timedelta(days=8)
    before = reports.compute(deps_of(store, report_at, hours=local_services.hours()), week)
    scan = store.client.scan(TableName=store.table)["Items"]
    cases = [i["id"]["S"] for i in scan if i["type"]["S"] == "case"]  # + the linked email's
    timeline = [e for c in cases for e in store.get_case(c, with_timeline=True).timeline]
    files = [a.key for e in timeline if e.email for a in e.email.attachments] + [
        e.email.raw_key for e in timeline if e.email
    ]
    assert files and all(local_services.blobs.get(k) for k in files)
    still_open = sum(1 for c in cases if store.get_case(c).status != "closed")

    clock.at = report_at  # the erasure comes after the reported week
    answer = api.post(f"/contacts/{contact_id}/erase", headers=BOSS)
    assert answer.status_code == 200
    counts = json.loads(answer.body)
    assert counts["identities"] == 2 and counts["cases"] == 2 and counts["bookings"] == 1
    assert counts["files"] == len(files)

    assert store.find_identity(Identity("phone", PHONE)) is None
    assert store.find_identity(Identity("email", "sofie@example.com")) is None
    everything = json.dumps(store.client.scan(TableName=store.table)["Items"])
    for personal in (PHONE, "sofie@example.com", SECRET_WORDS, "Sofie", "grades.pdf"):
        assert personal not in everything, personal
    for key in files:
        try:
            local_services.blobs.get(key)
            raise AssertionError(f"{key} still stored")
        except FileNotFoundError:
            pass
    after = reports.compute(deps_of(store, report_at, hours=local_services.hours()), week)
    # the counts survive; only personal data went. Erasure closed the open case (in a later
    # week), which, like any later close, leaves it no longer "opened and still open"; the
    # citizen's SMS case and their linked email case were both open.
    assert still_open == 2
    before["cases"]["opened_and_still_open"] -= still_open
    assert after == before
    audit = [
        i
        for i in store.client.scan(TableName=store.table)["Items"]
        if i["type"]["S"] == "audit" and i["action"]["S"] == "erase"
    ]
    assert len(audit) == 1 and audit[0]["contact_id"]["S"] == contact_id
    # the same number writing again is a new, unknown contact
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form(PHONE, "hi")))
    assert store.find_identity(Identity("phone", PHONE)).contact_id != contact_id


def test_unknown_contact_is_404(api, local_services):
    assert api.post("/contacts/nobody/erase", headers=BOSS).status_code == 404


def test_erasure_leaves_no_matched_risk_term_anywhere(api, local_services, clock):
    from chalicelib.domain.model import Practitioner

    store = local_services.store
    store.create_practitioner(
        Practitioner(
            "sofie", "Sofie", ("jobs",), ("da",), 5, phone="+4530000001", skills=("supervisor",)
        )
    )
    store.go_on_duty("sofie", clock())
    urgent = "I have 40 paracetamol and I'm going to take them all tonight"
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form(PHONE, urgent)))
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    terms = case.risk.reasons
    assert "paracetamol" in terms and store.get_alert(case.id) is not None
    sofie = bearer("sofie", "practitioner")
    assert api.post(f"/cases/{case.id}/risk/acknowledge", headers=sofie).status_code == 200
    lowered = {
        "level": "elevated",
        "reason": "She said paracetamol was a song",
        "seen": seen(case.id, store),
    }
    headers = {**sofie, "Content-Type": "application/json"}
    assert (
        api.put(f"/cases/{case.id}/risk", headers=headers, body=json.dumps(lowered)).status_code
        == 200
    )

    assert api.post(f"/contacts/{case.contact_id}/erase", headers=BOSS).status_code == 200
    everything = json.dumps(store.client.scan(TableName=store.table)["Items"])
    for term in terms:
        assert term not in everything, term
    assert "song" not in everything
    risk = store.get_case(case.id).risk
    assert risk.level == "elevated" and risk.reasons == () and risk.note is None
    assert store.get_alert(case.id).acknowledged_by == "sofie"  # the alert item stays, wordless
