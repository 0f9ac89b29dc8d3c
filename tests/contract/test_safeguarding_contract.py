"""The safeguarding part of the store's contract, on the in-memory fake and DynamoDB Local."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.adapters.memory import MemoryStore
from chalicelib.domain.model import Alert
from chalicelib.domain.risk import Held, Risk
from tests.contract.test_store_contract import OTHER, T0, first, later, ref

HIGH = Risk("high", ("pills",), "rules", "2026-11-24T09:00:00Z")
ELEVATED = Risk("elevated", ("hopeless",), "rules", "2026-11-24T09:00:00Z")


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue("local_store")


def test_a_risk_only_rises_unless_set_on_purpose(store):
    write = first()
    store.record_inbound(write)
    assert store.get_case(write.case_id).risk is None
    assert store.set_risk(write.case_id, HIGH, only_if_higher=True).risk == HIGH
    assert store.set_risk(write.case_id, ELEVATED, only_if_higher=True) is None
    assert store.set_risk(write.case_id, HIGH, only_if_higher=True) is None
    assert store.get_case(write.case_id).risk == HIGH
    lowered = Risk("none", ("pills",), "anna", "2026-11-24T09:05:00Z", "A song lyric")
    assert store.set_risk(write.case_id, lowered, only_if_higher=False).risk == lowered
    assert store.get_case(write.case_id).risk == lowered
    assert store.set_risk("no-such-case", HIGH, only_if_higher=False) is None


def test_a_high_risk_case_waits_first_and_a_lowered_one_goes_back_in_its_place(store):
    early, late = first(), first(OTHER, "SM2", T0 + timedelta(minutes=5))
    store.record_inbound(early)
    store.record_inbound(late)
    assert [c.id for c in store.waiting_cases("general")] == [early.case_id, late.case_id]
    store.set_risk(late.case_id, HIGH, only_if_higher=True)
    waiting = store.waiting_cases("general")
    assert [(c.id, c.risk) for c in waiting] == [(late.case_id, "high"), (early.case_id, None)]
    store.set_risk(late.case_id, ELEVATED, only_if_higher=False)
    assert [c.id for c in store.waiting_cases("general")] == [early.case_id, late.case_id]
    assert ref(store, late.case_id).id == late.case_id


def test_a_first_message_flagged_high_opens_its_case_first_in_the_queue(store):
    early, late = first(), first(OTHER, "SM2", T0 + timedelta(minutes=5))
    late = replace(late, opening=replace(late.opening, risk=HIGH))
    store.record_inbound(early)
    store.record_inbound(late)
    waiting = store.waiting_cases("general")
    assert [(c.id, c.risk) for c in waiting] == [(late.case_id, "high"), (early.case_id, None)]
    assert store.get_case(late.case_id).risk == HIGH
    assert store.set_risk(late.case_id, HIGH, only_if_higher=True) is None  # already that high


def test_a_risk_set_over_the_one_read_never_undoes_a_change_meanwhile(store):
    write = first()
    store.record_inbound(write)
    store.set_risk(write.case_id, HIGH, only_if_higher=True)
    lowered = Risk("none", ("pills",), "anna", "2026-11-24T09:05:00Z", "A song lyric")
    store.set_risk(write.case_id, lowered, only_if_higher=False)
    seen = replace(HIGH, acknowledged_by="sofie", acknowledged_at="2026-11-24T09:06:00Z")
    assert store.set_risk(write.case_id, seen, only_if_higher=False, held=Held(HIGH)) is None
    assert store.get_case(write.case_id).risk == lowered
    assert [c.risk != "high" for c in store.waiting_cases("general")] == [True]  # in its place
    again = store.set_risk(write.case_id, HIGH, only_if_higher=False, held=Held(lowered))
    assert again.risk == HIGH


def test_a_lowering_lands_only_over_the_messages_its_author_read(store):
    """A level not above the stored one is written only while the case has had the count of
    citizen messages its author read; a raise is written whatever came since."""
    write = first()
    store.record_inbound(write)
    store.set_risk(write.case_id, HIGH, only_if_higher=True)
    store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=1)))  # unread: 2 now
    lowered = Risk("none", ("pills",), "anna", "2026-11-24T09:05:00Z", "A song lyric")
    read = Held(inbound_count=1)
    assert store.set_risk(write.case_id, lowered, only_if_higher=False, held=read) is None
    assert store.set_risk(write.case_id, HIGH, only_if_higher=False, held=read) is None  # same
    assert store.get_case(write.case_id).risk == HIGH
    done = store.set_risk(write.case_id, lowered, only_if_higher=False, held=Held(None, 2))
    assert done.risk == lowered and done.inbound_count == 2
    raised = store.set_risk(write.case_id, ELEVATED, only_if_higher=False, held=read)
    assert raised.risk == ELEVATED  # raising is always safe


def test_a_high_risk_case_put_back_in_its_queue_is_placed_first_by_that_write(store):
    from chalicelib.domain.model import Practitioner

    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    store.go_on_duty("anna", T0)
    urgent, ordinary = first(), first(OTHER, "SM2", T0 + timedelta(minutes=1))
    store.record_inbound(replace(urgent, opening=replace(urgent.opening, risk=HIGH)))
    store.record_inbound(ordinary)
    store.assign(ref(store, urgent.case_id), "anna", T0, require_on_duty=True)
    store.to_queue(ref(store, urgent.case_id), "general", T0 + timedelta(minutes=9))
    assert [c.id for c in store.waiting_cases("general")] == [urgent.case_id, ordinary.case_id]
    store.close(ref(store, urgent.case_id), "answered", "anna", T0 + timedelta(minutes=10))
    store.reopen(ref(store, urgent.case_id), T0 + timedelta(minutes=11))
    assert [c.id for c in store.waiting_cases("general")] == [urgent.case_id, ordinary.case_id]


def test_the_term_list_is_saved_only_over_the_version_read(store):
    assert store.load_risk_terms() is None
    one = {"version": 1, "terms": [{"phrase": "pills", "weight": 6}]}
    assert store.save_risk_terms(one, 0)
    assert not store.save_risk_terms({**one, "version": 2}, 0)
    assert store.save_risk_terms({**one, "version": 2}, 1)
    assert store.load_risk_terms()["version"] == 2


def test_an_alert_is_written_over_the_version_read_and_listed_when_due(store):
    alert = Alert("case-1", T0, version=1, escalate_at=T0 + timedelta(minutes=5))
    assert store.put_alert(alert, None)
    assert not store.put_alert(alert, None)  # one alert per case
    assert store.alerts_due(T0) == []
    assert store.alerts_due(T0 + timedelta(minutes=5)) == [alert]
    done = Alert("case-1", T0, version=2, acknowledged_by="sofie", acknowledged_at=T0)
    assert not store.put_alert(done, 5)
    assert store.put_alert(done, 1)
    assert store.get_alert("case-1") == done
    assert store.alerts_due(T0 + timedelta(days=1)) == []
