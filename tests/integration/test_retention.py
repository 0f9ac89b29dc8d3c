"""The daily retention job: closed cases lose their bodies after the period, recordings'
references go sooner, and the weekly reports of those weeks do not change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain import casework, intake, privacy, reports, voice
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import deps_of

HOURS = demo_hours()
T0 = datetime(2025, 10, 20, 9, tzinfo=UTC)  # a Monday, 11:00 in Copenhagen
ANNA = Actor("anna", "practitioner")


class Fixed:
    def __init__(self, when):
        self.when = when

    def __call__(self):
        return self.when


def at(services, when: datetime, body: int = 365, recording: int = 90, **days: int):
    """The services as the retention job sees them `when`, with these retention periods."""
    settings = replace(
        services.settings,
        retention_body_days=body,
        retention_recording_days=recording,
        retention_identity_days=days.get("identity", 730),
        retention_audit_days=days.get("audit", 1825),
    )
    return replace(services, settings=settings, clock=Fixed(when))


def sms(store, number: str, sid: str, body: str, when: datetime):
    message = InboundMessage("sms", "twilio", sid, Identity("phone", number), "", body)
    return intake.receive(deps_of(store, Fixed(when), hours=HOURS), message)


def close(store, case_id: str, when: datetime, actor: Actor = ANNA) -> None:
    """The case closed as answered `when`, by someone who has read all of it."""
    seen = store.get_case(case_id, with_timeline=True).timeline[-1].id
    casework.close(deps_of(store, when), case_id, actor, "answered", seen=seen)


def test_bodies_and_recordings_expire_and_reports_stay_right(local_store, local_services):
    store = local_store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    closed = sms(store, "+4520000001", "SM" + "1" * 32, "private worries", T0).case_id
    close(store, closed, T0 + timedelta(hours=1))
    still_open = sms(store, "+4520000002", "SM" + "2" * 32, "still talking", T0)
    call = intake.receive(
        deps_of(store, Fixed(T0 + timedelta(minutes=5)), hours=HOURS),
        InboundMessage(
            "voice",
            "twilio",
            "CA" + "3" * 32,
            Identity("phone", "+4520000002"),
            "",
            "Incoming call",
        ),
    )
    voice.record_voicemail(
        deps_of(store, T0 + timedelta(minutes=6)),
        voice.Call(call.case_id, call.interaction_id, "+4520000002"),
        "RE" + "4" * 32,
        "https://api.twilio.com/rec",
        30,
    )
    week = "2025-W43"
    later = T0 + timedelta(days=400)
    before = reports.compute(deps_of(store, later, hours=HOURS), week)

    early = privacy.purge(
        at(local_services, T0 + timedelta(days=91)), identities=False, audits=False
    )
    assert early == {"cases": 0, "messages": 0, "files": 0, "recordings": 1}
    counts = privacy.purge(
        at(local_services, T0 + timedelta(days=366)), identities=False, audits=False
    )
    assert counts["cases"] == 1 and counts["messages"] >= 1
    gone = store.get_case(closed, with_timeline=True).timeline
    assert all(i.body == "" and i.to is None for i in gone)
    kept = store.get_case(still_open.case_id, with_timeline=True).timeline
    assert "still talking" in [i.body for i in kept]  # open cases keep their bodies
    [voicemail] = [i for i in kept if i.status == "voicemail"]
    assert voicemail.media == ()  # the recording's reference is gone after 90 days
    assert reports.compute(deps_of(store, later, hours=HOURS), week) == before
    again = privacy.purge(
        at(local_services, T0 + timedelta(days=366)), identities=False, audits=False
    )
    assert again["messages"] == 0 and again["recordings"] == 0


def test_nothing_expires_early(local_store, local_services):
    store = local_store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    case = sms(store, "+4520000001", "SM" + "5" * 32, "recent", T0).case_id
    close(store, case, T0)
    counts = privacy.purge(
        at(local_services, T0 + timedelta(days=30)), identities=False, audits=False
    )
    assert counts == {"cases": 0, "messages": 0, "files": 0, "recordings": 0}
    assert "recent" in [i.body for i in store.get_case(case, with_timeline=True).timeline]


def test_identities_and_audit_records_expire_too(local_store, local_services):
    store = local_store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    case = sms(store, "+4520000001", "SM" + "6" * 32, "hello", T0).case_id
    casework.view_case(deps_of(store, T0 + timedelta(minutes=1)), case, ANNA)
    close(store, case, T0)
    counts = privacy.purge(at(local_services, T0 + timedelta(days=731), identity=730, audit=730))
    assert counts["identities"] == 1 and counts["audit_records"] == 1
    assert store.find_identity(Identity("phone", "+4520000001")) is None
    assert store.case_reads(case) == []


def test_retention_drops_a_closed_cases_matched_risk_terms(local_store, local_services):
    store = local_store
    urgent = "I have 40 paracetamol and I'm going to take them all tonight"
    case_id = sms(store, "+4520000009", "SM" + "9" * 32, urgent, T0).case_id
    terms = store.get_case(case_id).risk.reasons
    assert "paracetamol" in terms
    close(store, case_id, T0 + timedelta(hours=1), Actor("boss", "manager"))
    privacy.purge(at(local_services, T0 + timedelta(days=366)), identities=False, audits=False)
    mine = [
        item
        for item in store.client.scan(TableName=store.table)["Items"]
        if case_id in json.dumps(item)
    ]
    assert mine and not [t for t in terms if t in json.dumps(mine)]
    assert store.get_case(case_id).risk.level == "high"  # the reports still count the flag


def test_a_recording_past_its_retention_is_deleted_at_twilio_before_its_reference(
    local_store, local_services
):
    import pytest
    import responses

    from chalicelib.domain.errors import ProviderUnavailable

    store, sid, account = local_store, "RE" + "5" * 32, "AC" + "1" * 32
    call = intake.receive(
        deps_of(store, Fixed(T0), hours=HOURS),
        InboundMessage(
            "voice", "twilio", "CA" + "5" * 32, Identity("phone", "+4520000005"), "", "Call"
        ),
    )
    voicemail = voice.Call(call.case_id, call.interaction_id, "+4520000005")
    voice.record_voicemail(deps_of(store, T0), voicemail, sid, "https://api.twilio.com/r", 30)
    services = replace(
        local_services, settings=replace(local_services.settings, twilio_account_sid=account)
    )
    url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{sid}.json"

    def media() -> tuple:
        timeline = store.get_case(call.case_id, with_timeline=True).timeline
        return next(i for i in timeline if i.status == "voicemail").media

    with responses.RequestsMock() as twilio:
        twilio.delete(url, status=503)
        with pytest.raises(ProviderUnavailable):
            privacy.purge(at(services, T0 + timedelta(days=91)), identities=False, audits=False)
        assert media() != ()  # still referenced: tomorrow's run deletes it
        twilio.replace(responses.DELETE, url, status=204)
        later = at(services, T0 + timedelta(days=92))
        counts = privacy.purge(later, identities=False, audits=False)
        assert counts["recordings"] == 1 and media() == ()
        assert [c.request.method for c in twilio.calls] == ["DELETE", "DELETE"]
