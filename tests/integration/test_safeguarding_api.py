"""Safeguarding over HTTP against DynamoDB Local: risk on the case and its inbox entry, high risk
first in the waiting list, a practitioner's change, acknowledging, the term list."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.model import Practitioner
from tests.conftest import bearer, seen
from tests.twilio_fakes import signed, sms_form

ANNA = bearer("anna", "practitioner")
SOFIE = bearer("sofie", "practitioner")
BOSS = bearer("boss", "manager")
JSON = {"Content-Type": "application/json"}
URGENT = "I have 40 paracetamol and I'm going to take them all tonight"


def text(api, number: str, body: str) -> None:
    path = "/webhooks/twilio/sms"
    assert api.post(path, **signed(path, sms_form(number, body))).status_code == 200


def send(api, method: str, path: str, headers: dict, body: dict | None = None):
    kwargs: dict = {"headers": {**headers, **(JSON if body is not None else {})}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    answer = getattr(api, method.lower())(path, **kwargs)
    return answer.status_code, json.loads(answer.body) if answer.body else None


@pytest.fixture
def staffed(api, local_services):
    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da", "en"), 5))
    store.create_practitioner(
        Practitioner("sofie", "Sofie", ("general",), ("da",), 5, skills=("supervisor",))
    )
    return store


def test_a_high_risk_message_waits_first_and_shows_its_risk(api, staffed):
    text(api, "+4520000001", "Which course fits me?")
    text(api, "+4520000002", URGENT)
    _, inbox = send(api, "GET", "/inbox", ANNA)
    first, second = inbox["cases"]
    assert first["risk"]["level"] == "high" and first["risk"]["by"] == "rules"
    assert "paracetamol" in first["risk"]["reasons"]
    assert second["risk"] == {"level": "none", "reasons": [], "by": "rules"}
    _, case = send(api, "GET", f"/cases/{first['id']}", ANNA)
    assert case["risk"]["level"] == "high"
    assert any(e["channel"] == "note" and "none -> high" in e["body"] for e in case["timeline"])


def test_a_practitioner_lowers_a_risk_with_a_reason(api, staffed):
    text(api, "+4520000002", URGENT)
    _, inbox = send(api, "GET", "/inbox", ANNA)
    case_id = inbox["cases"][0]["id"]
    status, _ = send(api, "PUT", f"/cases/{case_id}/risk", ANNA, {"level": "none"})
    assert status == 400  # a reason is required
    status, answer = send(
        api,
        "PUT",
        f"/cases/{case_id}/risk",
        ANNA,
        {"level": "none", "reason": "Song lyric", "seen": seen(case_id)},
    )
    assert status == 200
    assert answer["risk"]["level"] == "none" and answer["risk"]["by"] == "anna"
    _, case = send(api, "GET", f"/cases/{case_id}", ANNA)
    assert "Risk high -> none by anna: Song lyric" in [e["body"] for e in case["timeline"]]
    assert send(api, "GET", "/inbox", ANNA)[1]["cases"][0]["risk"]["level"] == "none"


def test_a_supervisor_acknowledges_the_alert(api, staffed):
    text(api, "+4520000002", URGENT)
    case_id = send(api, "GET", "/inbox", ANNA)[1]["cases"][0]["id"]
    assert send(api, "POST", f"/cases/{case_id}/risk/acknowledge", ANNA)[0] == 403
    status, alert = send(api, "POST", f"/cases/{case_id}/risk/acknowledge", SOFIE)
    assert status == 200 and alert["acknowledged_by"] == "sofie"
    _, case = send(api, "GET", f"/cases/{case_id}", ANNA)
    assert case["risk"]["acknowledged_by"] == "sofie"
    assert send(api, "POST", "/cases/nope/risk/acknowledge", BOSS)[0] == 404


def test_managers_maintain_the_terms_versioned_and_safely(api, staffed):
    assert send(api, "GET", "/safeguarding/terms", ANNA)[0] == 403
    status, terms = send(api, "GET", "/safeguarding/terms", BOSS)
    assert status == 200 and terms["version"] == 0 and len(terms["terms"]) > 100
    mine = {"version": 0, "terms": [{"phrase": "blue whale", "weight": 9}]}
    status, saved = send(api, "PUT", "/safeguarding/terms", BOSS, mine)
    assert status == 200 and saved["version"] == 1 and saved["updated_by"] == "boss"
    assert send(api, "PUT", "/safeguarding/terms", BOSS, mine)[1]["error"]["code"] == "changed"
    evil = {"version": 1, "terms": [{"pattern": "(a+)+$", "weight": 9}]}
    status, error = send(api, "PUT", "/safeguarding/terms", BOSS, evil)
    assert status == 400 and error["error"]["code"] == "invalid_terms"
    both = {"version": 1, "terms": [{"phrase": "x", "pattern": "x", "weight": 9}]}
    assert send(api, "PUT", "/safeguarding/terms", BOSS, both)[0] == 400
    text(api, "+4520000003", "I am playing the blue whale game")
    assert send(api, "GET", "/inbox", BOSS)[1]["cases"][0]["risk"]["level"] == "high"


def test_concurrent_high_risk_messages_go_to_safeguarding_first_each_once(local_store, clock):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.domain import intake
    from chalicelib.domain.model import Identity, InboundMessage
    from tests.conftest import deps_of

    for pid, skills in (("anna", ()), ("sara", ("safeguarding",)), ("sune", ("safeguarding",))):
        local_store.create_practitioner(
            Practitioner(pid, pid.title(), ("general",), ("da", "en"), 2, skills=skills)
        )
        local_store.go_on_duty(pid, clock())
    messages = [
        InboundMessage(
            "sms", "twilio", f"SM{n:032x}", Identity("phone", f"+452000{n:04d}"), "", URGENT
        )
        for n in range(6)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(
            pool.map(lambda m: intake.receive(deps_of(local_store, clock), m), messages)
        )
    owners = sorted(str(local_store.get_case(o.case_id).assignee) for o in outcomes)
    # four go to the two safeguarding practitioners (two each: their room), the rest to anna
    assert owners == ["anna", "anna", "sara", "sara", "sune", "sune"]


def test_a_booked_cases_high_risk_first_message_waits_first(local_services, clock):
    from datetime import timedelta

    from chalicelib.domain import intake, webinars
    from chalicelib.domain.model import Identity, InboundMessage, Webinar

    store = local_services.store
    webinar = Webinar(
        "w1", "Study choices", clock() + timedelta(days=2), 60, 5, 5, "general", "https://m.x/w"
    )
    store.create_webinar(webinar)
    booked = webinars.book(local_services, webinar, {"phone": "+4520000077", "consent": True})
    clock.at += timedelta(minutes=5)
    ordinary = intake.receive(
        local_services,
        InboundMessage(
            "sms", "twilio", "SM" + "1" * 32, Identity("phone", "+4520000001"), "", "Hi"
        ),
    )
    clock.at += timedelta(minutes=5)
    urgent = intake.receive(
        local_services,
        InboundMessage(
            "sms", "twilio", "SM" + "2" * 32, Identity("phone", "+4520000077"), "", URGENT
        ),
    )
    assert urgent.case_id == booked.booking.case_id
    waiting = [c.id for c in store.waiting_cases("general")]
    assert waiting == [urgent.case_id, ordinary.case_id]


def test_an_alerted_supervisor_sees_the_case_until_the_alert_is_seen_and_the_risk_lowered(
    api, staffed, clock
):
    """Vera serves another queue: the alert, not her queues, is why she may open the case. A
    lowering before she opens the link sent to her does not shut her out while the alert is
    open; once she acknowledged it and the risk is not high, her access ends. Every read of
    hers is on the case's record of reads."""
    staffed.create_practitioner(
        Practitioner("vera", "Vera", ("other",), ("da",), 5, skills=("supervisor",))
    )
    staffed.go_on_duty("vera", clock())
    vera = bearer("vera", "practitioner")
    text(api, "+4520000002", URGENT)
    case_id = send(api, "GET", "/inbox", ANNA)[1]["cases"][0]["id"]
    assert send(api, "GET", f"/cases/{case_id}", vera)[0] == 200  # high risk
    lowered = {"level": "none", "reason": "Song lyric", "seen": seen(case_id)}
    assert send(api, "PUT", f"/cases/{case_id}/risk", ANNA, lowered)[0] == 200
    assert send(api, "GET", f"/cases/{case_id}", vera)[0] == 200  # the alert is still open
    assert send(api, "POST", f"/cases/{case_id}/risk/acknowledge", vera)[0] == 200
    assert send(api, "GET", f"/cases/{case_id}", vera)[0] == 403
    _, reads = send(api, "GET", f"/cases/{case_id}/reads", BOSS)
    assert [r["user_id"] for r in reads["reads"]].count("vera") == 2
