"""Safeguarding on the in-memory store: flags, alerts and their escalation, crisis answers,
routing order and skill preference, and what never reaches a log."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain import alerts, casework, intake, routing, safeguarding
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import seen

HIGH = "jeg har 30 panodil og jeg tager dem alle sammen i nat"
ELEVATED = "I feel so hopeless and worthless"
EVERYDAY = "Hvornår er fristen for at søge ind?"


def sms(body: str, n: int, number: str = "+4520000001") -> InboundMessage:
    return InboundMessage(
        channel="sms",
        provider="twilio",
        provider_id=f"SM{n:032x}",
        sender=Identity("phone", number),
        recipient="+4570203040",
        body=body,
    )


def staff(store, clock, pid: str, *skills: str, room: int = 5, on: bool = True) -> None:
    store.create_practitioner(
        Practitioner(
            pid,
            pid.title(),
            ("general",),
            ("da", "en"),
            room,
            phone=f"+45300000{len(pid):02d}",
            email=f"{pid}@staff.example.org",
            skills=skills,
        )
    )
    if on:
        store.go_on_duty(pid, clock())


def sent_to(deps, address: str) -> list[dict]:
    return [m for m in deps.sms.sent if m["to"] == address]


def text_of(message: dict) -> str:
    return message.get("body") or message["raw"].decode()


@pytest.fixture
def deps(memory_services):
    memory_services.settings = replace(
        memory_services.settings, manager_emails=("lead@staff.example.org",)
    )
    return memory_services


def test_a_method_word_flags_the_case_high_on_the_case_and_its_timeline(deps):
    outcome = intake.receive(deps, sms(HIGH, 1))
    case = deps.store.get_case(outcome.case_id, with_timeline=True)
    assert case.risk.level == "high" and case.risk.by == "rules"
    assert "panodil" in case.risk.reasons
    notes = [i for i in case.timeline if i.channel == "note"]
    assert notes and "none -> high" in notes[0].body and notes[0].author == "safeguarding"
    assert [a["action"] for a in deps.store.audits("2026-11")] == ["risk_high"]


def test_everyday_words_leave_no_flag(deps):
    outcome = intake.receive(deps, sms(EVERYDAY, 1))
    assert deps.store.get_case(outcome.case_id).risk is None


def test_a_flag_is_never_lowered_by_the_rules_only_by_a_practitioner(deps, clock):
    staff(deps.store, clock, "anna", on=False)
    first = intake.receive(deps, sms(HIGH, 1))
    intake.receive(deps, sms(ELEVATED, 2))
    assert deps.store.get_case(first.case_id).risk.level == "high"
    lowered = safeguarding.change(
        deps,
        Actor("anna", "practitioner"),
        first.case_id,
        "none",
        "Quoting a song lyric",
        seen=seen(first.case_id, deps.store),
    )
    assert (lowered.risk.level, lowered.risk.by, lowered.risk.note) == (
        "none",
        "anna",
        "Quoting a song lyric",
    )
    intake.receive(deps, sms(ELEVATED, 3))
    assert deps.store.get_case(first.case_id).risk.level == "elevated"  # raised again


def test_only_staff_who_may_see_the_case_change_its_risk(deps, clock):
    outcome = intake.receive(deps, sms(ELEVATED, 1))
    deps.store.create_practitioner(Practitioner("bo", "Bo", ("jobs",), ("da",), 5))
    with pytest.raises(Forbidden):
        safeguarding.change(deps, Actor("bo", "practitioner"), outcome.case_id, "none", "no")


def test_the_on_duty_supervisor_is_alerted_by_sms_and_email_without_the_message(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    outcome = intake.receive(deps, sms(HIGH, 1))
    alerts = sent_to(deps, "+4530000005") + sent_to(deps, "sofie@staff.example.org")
    assert [m["kind"] for m in alerts] == ["sms", "email"]
    for message in alerts:
        text = text_of(message)
        assert outcome.case_id in text and "high" in text
        assert "panodil" not in text and "+4520000001" not in text
    assert not sent_to(deps, "+4520000001")  # in hours: no crisis answer yet


def test_an_unacknowledged_alert_goes_to_the_next_supervisor_and_managers(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    staff(deps.store, clock, "tove", "supervisor", room=0)
    outcome = intake.receive(deps, sms(HIGH, 1))
    assert alerts.run(deps) == {"escalated": 0, "answered": 0}  # not yet due
    clock.at += timedelta(minutes=deps.settings.safeguarding_alert_minutes, seconds=1)
    assert alerts.run(deps)["escalated"] == 1
    assert [m["kind"] for m in sent_to(deps, "+4530000004")] == ["sms"]  # tove, next
    assert [m["kind"] for m in sent_to(deps, "lead@staff.example.org")] == ["email"]
    assert alerts.run(deps)["escalated"] == 0  # once per period, however often it runs
    alerts.acknowledge(deps, Actor("tove", "practitioner"), outcome.case_id)
    clock.at += timedelta(hours=1)
    before = len(deps.sms.sent)
    alerts.run(deps)
    assert len(deps.sms.sent) == before + 1  # only the crisis answer: nobody took the case
    case = deps.store.get_case(outcome.case_id)
    assert case.risk.acknowledged_by == "tove"


def test_the_alert_links_to_the_web_apps_case_page(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    outcome = intake.receive(deps, sms(HIGH, 1))
    link = f"/app/#/inbox/{outcome.case_id}"
    assert all(link in text_of(m) for m in sent_to(deps, "+4530000005"))
    deps.settings = replace(deps.settings, app_base_url="https://d1.cloudfront.net/")
    assert deps.settings.case_page("c1") == "https://d1.cloudfront.net/#/inbox/c1"


def test_a_practitioners_change_keeps_the_alerts_acknowledgement(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    outcome = intake.receive(deps, sms(HIGH, 1))
    alerts.acknowledge(deps, Actor("sofie", "practitioner"), outcome.case_id)
    changed = safeguarding.change(
        deps,
        Actor("boss", "manager"),
        outcome.case_id,
        "elevated",
        "Talked it through",
        seen=seen(outcome.case_id, deps.store),
    )
    assert changed.risk.level == "elevated" and changed.risk.note == "Talked it through"
    assert changed.risk.acknowledged_by == "sofie" and changed.risk.acknowledged_at
    assert deps.store.get_case(outcome.case_id).risk.acknowledged_by == "sofie"


def test_acknowledging_is_for_supervisors_safeguarding_and_managers(deps, clock):
    staff(deps.store, clock, "anna")
    outcome = intake.receive(deps, sms(HIGH, 1))
    with pytest.raises(Forbidden):
        alerts.acknowledge(deps, Actor("anna", "practitioner"), outcome.case_id)
    done = alerts.acknowledge(deps, Actor("boss", "manager"), outcome.case_id)
    assert done.acknowledged_by == "boss"
    again = alerts.acknowledge(deps, Actor("boss", "manager"), outcome.case_id)
    assert again.acknowledged_at == done.acknowledged_at  # idempotent


def test_out_of_hours_the_crisis_answer_goes_at_once_and_once(deps, clock):
    clock.set_local(2026, 11, 24, 23, 30)
    intake.receive(deps, sms(HIGH, 1))
    intake.receive(deps, sms("jeg vil slå mig selv ihjel", 2))
    answers = sent_to(deps, "+4520000001")
    assert len(answers) == 1
    assert "112" in answers[0]["body"] and "70 201 201" in answers[0]["body"]
    assert "116 111" in answers[0]["body"]


def test_in_hours_the_crisis_answer_goes_when_nobody_took_the_case_in_time(deps, clock):
    intake.receive(deps, sms(HIGH, 1))
    clock.at += timedelta(minutes=deps.settings.safeguarding_answer_minutes, seconds=1)
    assert alerts.run(deps)["answered"] == 1
    assert len(sent_to(deps, "+4520000001")) == 1
    clock.at += timedelta(hours=1)
    alerts.run(deps)
    assert len(sent_to(deps, "+4520000001")) == 1


def test_a_case_taken_in_time_gets_no_crisis_answer(deps, clock):
    staff(deps.store, clock, "anna", "safeguarding")
    outcome = intake.receive(deps, sms(HIGH, 1))
    assert deps.store.get_case(outcome.case_id).assignee == "anna"
    clock.at += timedelta(hours=1)
    alerts.run(deps)
    assert not sent_to(deps, "+4520000001")


def test_a_high_risk_case_goes_to_a_safeguarding_practitioner_first(deps, clock):
    staff(deps.store, clock, "anna")  # idle, and first by every other rule
    staff(deps.store, clock, "sara", "safeguarding")
    outcome = intake.receive(deps, sms(HIGH, 1))
    assert deps.store.get_case(outcome.case_id).assignee == "sara"
    other = intake.receive(deps, sms(EVERYDAY, 2, "+4520000002"))
    assert deps.store.get_case(other.case_id).assignee == "anna"


def test_a_high_risk_case_waits_first_in_its_queue(deps, clock):
    everyday = [intake.receive(deps, sms(EVERYDAY, n, f"+452000001{n}")) for n in range(3)]
    urgent = intake.receive(deps, sms(HIGH, 9, "+4520000099"))
    waiting = [c.id for c in deps.store.waiting_cases("general")]
    assert waiting == [urgent.case_id, *(o.case_id for o in everyday)]
    staff(deps.store, clock, "anna", room=1, on=False)
    assert routing.fill("anna", deps.store, clock()) == []  # off duty: nothing
    deps.store.go_on_duty("anna", clock())
    assert routing.fill("anna", deps.store, clock()) == [urgent.case_id]


def test_a_free_safeguarding_practitioner_is_kept_for_the_high_risk_case(deps, clock):
    staff(deps.store, clock, "sara", "safeguarding", on=False)
    urgent = intake.receive(deps, sms(HIGH, 1))
    ordinary = intake.receive(deps, sms(EVERYDAY, 2, "+4520000002"))
    deps.store.go_on_duty("sara", clock())  # on duty, not yet offered anything
    staff(deps.store, clock, "anna", room=2)
    taken = routing.fill("anna", deps.store, clock())
    assert taken == [ordinary.case_id]  # sara has room for the urgent one
    assert routing.fill("sara", deps.store, clock()) == [urgent.case_id]


def test_concurrent_routers_give_each_high_risk_case_once_to_safeguarding_first(deps, clock):
    staff(deps.store, clock, "anna", room=10)
    staff(deps.store, clock, "sara", "safeguarding", room=3)
    staff(deps.store, clock, "sune", "safeguarding", room=3)
    messages = [sms(f"{HIGH} ({n})", n, f"+45200010{n:02d}") for n in range(6)]
    outcomes: list = []
    threads = [
        threading.Thread(target=lambda m=m: outcomes.append(intake.receive(deps, m)))
        for m in messages
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owners = [deps.store.get_case(o.case_id).assignee for o in outcomes]
    assert sorted(owners) == ["sara"] * 3 + ["sune"] * 3


def test_no_risk_term_or_message_text_reaches_a_log(deps, clock, captured_logs):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    clock.set_local(2026, 11, 24, 23, 30)
    outcome = intake.receive(deps, sms(HIGH, 1))
    boss, last = Actor("boss", "manager"), seen(outcome.case_id, deps.store)
    safeguarding.change(deps, boss, outcome.case_id, "elevated", "Talked", seen=last)
    clock.at += timedelta(hours=1)
    alerts.run(deps)
    logged = "\n".join(captured_logs)
    assert "risk" in logged  # the flag is logged, by case id and level
    for word in ("panodil", "30 ", "alle sammen", "Talked", "+4520000001"):
        assert word not in logged


def email(subject: str, body: str, n: int, **flags) -> InboundMessage:
    from chalicelib.domain.model import EmailDetails

    return InboundMessage(
        channel="email",
        provider="email",
        provider_id=f"<m{n}@example.org>",
        sender=Identity("email", f"young{n}@example.org"),
        recipient="helpline@helpline.example.org",
        body=body,
        email=EmailDetails(subject, f"<m{n}@example.org>", **flags),
    )


def test_an_emails_subject_is_assessed_and_spam_is_not(deps, clock):
    clock.set_local(2026, 11, 24, 23, 30)
    flagged = intake.receive(deps, email("I want to end my life", "Please help", 1))
    assert deps.store.get_case(flagged.case_id).risk.level == "high"
    [answer] = sent_to(deps, "young1@example.org")[-1:]
    assert "112" in answer["raw"].decode() and answer["kind"] == "email"
    spam = intake.receive(deps, email("Cheap pills", "50 mg pills tonight", 2, quarantine="spam"))
    assert deps.store.get_case(spam.case_id).risk is None
    assert not sent_to(deps, "young2@example.org")


def test_a_high_risk_case_back_from_an_unanswering_practitioner_waits_first_again(deps, clock):
    ordinary = intake.receive(deps, sms(EVERYDAY, 1))
    staff(deps.store, clock, "anna", room=1)
    urgent = intake.receive(deps, sms(HIGH, 2, "+4520000002"))
    assert deps.store.get_case(urgent.case_id).assignee == "anna"
    deps.store.go_off_duty(deps.store.get_practitioner("anna"), clock())
    clock.at += timedelta(minutes=deps.settings.unanswered_minutes + 1)
    assert routing.requeue_unanswered(deps) == [urgent.case_id]
    waiting = [c.id for c in deps.store.waiting_cases("general")]
    assert waiting == [urgent.case_id, ordinary.case_id]


def test_on_duty_supervisors_open_and_act_on_a_case_while_high_or_its_alert_is_open(deps, clock):
    deps.store.create_practitioner(
        Practitioner("sofie", "Sofie", ("jobs",), ("da",), 5, skills=("supervisor",))
    )
    deps.store.go_on_duty("sofie", clock())
    deps.store.create_practitioner(Practitioner("bo", "Bo", ("jobs",), ("da",), 5))
    deps.store.go_on_duty("bo", clock())
    sofie, bo = Actor("sofie", "practitioner"), Actor("bo", "practitioner")
    outcome = intake.receive(deps, sms(HIGH, 1))
    case = casework.view_case(deps, outcome.case_id, sofie)
    assert case.risk.level == "high"
    assert "sofie" in [r.user_id for r in casework.reads_of(deps, outcome.case_id)]
    with pytest.raises(Forbidden):  # an ordinary practitioner of another queue: as before
        casework.view_case(deps, outcome.case_id, bo)
    with pytest.raises(NotFound):  # and a case that does not exist is still a 404 to both
        casework.view_case(deps, "nope", bo)
    assert casework.claim(deps, outcome.case_id, sofie).assignee == "sofie"
    casework.add_note(deps, outcome.case_id, sofie, "Calling her now")
    other = intake.receive(deps, sms(HIGH, 2, "+4520000002"))
    last = seen(other.case_id, deps.store)
    safeguarding.change(deps, sofie, other.case_id, "elevated", "Safe with a parent", seen=last)
    casework.view_case(deps, other.case_id, sofie)  # lowered, but its alert is still open
    alerts.acknowledge(deps, sofie, other.case_id)
    with pytest.raises(Forbidden):  # lowered and acknowledged: she loses the access
        casework.view_case(deps, other.case_id, sofie)
    third = intake.receive(deps, sms(HIGH, 3, "+4520000003"))
    deps.store.go_off_duty(deps.store.get_practitioner("sofie"), clock())
    with pytest.raises(Forbidden):  # off duty: no access beyond her queues
        casework.view_case(deps, third.case_id, sofie)


def test_a_high_risk_case_transferred_to_another_queue_waits_first_there(deps, clock):
    boss = Actor("boss", "manager")
    ordinary = intake.receive(deps, sms(EVERYDAY, 1))
    casework.transfer(deps, ordinary.case_id, boss, queue="jobs")
    clock.at += timedelta(minutes=5)
    urgent = intake.receive(deps, sms(HIGH, 2, "+4520000002"))
    clock.at += timedelta(minutes=5)
    casework.transfer(deps, urgent.case_id, boss, queue="jobs")
    waiting = [c.id for c in deps.store.waiting_cases("jobs")]
    assert waiting == [urgent.case_id, ordinary.case_id]


def test_a_reopened_high_risk_case_waits_first(deps, clock):
    boss = Actor("boss", "manager")
    urgent = intake.receive(deps, sms(HIGH, 1))
    seen = deps.store.get_case(urgent.case_id, with_timeline=True).timeline[-1].id
    casework.close(deps, urgent.case_id, boss, "answered", seen=seen)
    clock.at += timedelta(minutes=5)
    ordinary = intake.receive(deps, sms(EVERYDAY, 2, "+4520000002"))
    clock.at += timedelta(minutes=5)
    casework.reopen(deps, urgent.case_id, boss)
    waiting = [c.id for c in deps.store.waiting_cases("general")]
    assert waiting == [urgent.case_id, ordinary.case_id]


def test_managers_are_told_once_per_alert_not_every_period(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    staff(deps.store, clock, "tove", "supervisor", room=0)
    intake.receive(deps, sms(HIGH, 1))
    for _ in range(4):
        clock.at += timedelta(minutes=deps.settings.safeguarding_alert_minutes, seconds=1)
        alerts.run(deps)
    assert len(sent_to(deps, "lead@staff.example.org")) == 1
    assert len(sent_to(deps, "tove@staff.example.org")) == 1  # the next supervisor, once


def test_a_supervisor_gets_one_alert_sms_per_window_and_the_rest_batched(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    cases = [intake.receive(deps, sms(HIGH, n, f"+452000010{n}")).case_id for n in range(3)]
    texts = sent_to(deps, "+4530000005")
    assert len(texts) == 1 and cases[0] in text_of(texts[0])
    assert len(sent_to(deps, "sofie@staff.example.org")) == 3  # email always
    alerts.run(deps)
    assert len(sent_to(deps, "+4530000005")) == 1  # the window is still shut
    clock.at += timedelta(minutes=deps.settings.safeguarding_sms_minutes)
    alerts.run(deps)
    texts = sent_to(deps, "+4530000005")
    assert len(texts) == 2 and "2 cases need you" in text_of(texts[1])
    assert all(f"/app/#/inbox/{c}" in text_of(texts[1]) for c in cases[1:])
    alerts.run(deps)
    assert len(sent_to(deps, "+4530000005")) == 2  # nothing more batched: nothing sent


def test_a_lowering_needs_every_citizen_message_read_and_raising_never_does(deps, clock):
    """Issue 19 follow-up: urgent words on an already high case change nothing by the rules,
    so a lowering over them would leave them unread at "none"."""
    staff(deps.store, clock, "anna", on=False)
    anna = Actor("anna", "practitioner")
    outcome = intake.receive(deps, sms(HIGH, 1))
    read = seen(outcome.case_id, deps.store)
    with pytest.raises(InvalidInput) as missing:
        safeguarding.change(deps, anna, outcome.case_id, "none", "A song lyric")
    assert missing.value.code == "seen_required"
    intake.receive(deps, sms("jeg vil slå mig selv ihjel", 2))  # unread, on a high case
    with pytest.raises(casework.UnseenMessages) as refused:
        safeguarding.change(deps, anna, outcome.case_id, "none", "A song lyric", seen=read)
    assert [m.body for m in refused.value.messages] == ["jeg vil slå mig selv ihjel"]
    case = deps.store.get_case(outcome.case_id)
    assert case.risk.level == "high" and case.risk.by == "rules"  # nothing changed
    now_read = seen(outcome.case_id, deps.store)
    lowered = safeguarding.change(deps, anna, outcome.case_id, "elevated", "Talked", seen=now_read)
    assert lowered.risk.level == "elevated"
    intake.receive(deps, sms(EVERYDAY, 3))  # unread, but raising is always safe
    raised = safeguarding.change(deps, anna, outcome.case_id, "high", "Rang her, worried")
    assert raised.risk.level == "high"


def test_a_lowering_resolves_the_alert_and_raising_again_starts_a_new_one(deps, clock):
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    staff(deps.store, clock, "tove", "supervisor", room=0)
    sofie = Actor("sofie", "practitioner")
    outcome = intake.receive(deps, sms(HIGH, 1))
    last = seen(outcome.case_id, deps.store)
    clock.at += timedelta(minutes=1)
    lowered_at = clock.at
    safeguarding.change(deps, sofie, outcome.case_id, "none", "Quoting a song", seen=last)
    alert = deps.store.get_alert(outcome.case_id)
    assert alert.resolved_by == "sofie"
    assert lowered_at <= alert.resolved_at < lowered_at + timedelta(seconds=1)
    assert alert.escalate_at is None and alert.answer_at is None
    clock.at += timedelta(hours=2)
    sent = len(deps.sms.sent)
    assert alerts.run(deps) == {"escalated": 0, "answered": 0}
    assert len(deps.sms.sent) == sent  # nobody else alerted, no crisis answer
    case = deps.store.get_case(outcome.case_id, with_timeline=True)
    assert "Risk alert resolved by lowering the risk" in [e.body for e in case.timeline]
    assert "risk_alert_resolved" in [a["action"] for a in deps.store.audits("2026-11")]
    safeguarding.change(deps, sofie, outcome.case_id, "high", "She wrote again, worse")
    again = deps.store.get_alert(outcome.case_id)
    assert again.resolved_at is None and again.escalate_at is not None
    assert again.raised_at > alert.resolved_at and again.stage == 0


def test_the_job_never_escalates_a_lowered_case_whose_alert_was_left_open(deps, clock):
    """The lowering's own resolution did not land (a crash between its writes): the job still
    stops, and records the lowering's author as resolving it."""
    staff(deps.store, clock, "sofie", "supervisor", room=0)
    staff(deps.store, clock, "tove", "supervisor", room=0)
    outcome = intake.receive(deps, sms(HIGH, 1))
    held = deps.store.get_case(outcome.case_id).risk
    judged = replace(held, level="elevated", by="anna", at="2026-11-24T10:00:00Z", note="ok")
    deps.store.set_risk(outcome.case_id, judged, only_if_higher=False)
    clock.at += timedelta(minutes=deps.settings.safeguarding_alert_minutes, seconds=1)
    assert alerts.run(deps)["escalated"] == 0
    assert not sent_to(deps, "+4530000004")  # tove, next in line, is not alerted
    assert deps.store.get_alert(outcome.case_id).resolved_by == "anna"
