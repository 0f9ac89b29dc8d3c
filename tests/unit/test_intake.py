"""Intake against the in-memory store: one case per citizen, acknowledgements, retries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import intake
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import CaseRef, Identity, InboundMessage, Media
from tests.conftest import deps_of

HOURS = demo_hours()
CITIZEN = Identity("phone", "+4520000001")


def sms(
    body: str = "Hi, which education fits me?",
    sid: str = "SM" + "1" * 32,
    sender: Identity = CITIZEN,
    keyword=None,
    media=(),
) -> InboundMessage:
    return InboundMessage(
        channel="sms",
        provider="twilio",
        provider_id=sid,
        sender=sender,
        recipient="+4570203040",
        body=body,
        keyword=keyword,
        media=media,
    )


def sid(n: int) -> str:
    return f"SM{n:032x}"


def receive(store, clock, message):
    return intake.receive(deps_of(store, clock, hours=HOURS), message)


def test_first_message_opens_a_case_and_is_acknowledged(memory_store, clock):
    outcome = receive(memory_store, clock, sms())
    assert outcome.new_case and not outcome.duplicate
    assert "counsellor will answer you here as soon as possible" in outcome.reply
    case = memory_store.get_case(outcome.case_id)
    assert case.status == "queued" and case.queue == "general" and case.channel == "sms"
    timeline = memory_store.timeline(outcome.case_id)
    assert [(i.direction, i.automated) for i in timeline] == [("in", False), ("out", True)]
    assert timeline[0].body == "Hi, which education fits me?"
    assert timeline[1].body == outcome.reply
    assert outcome.reply_ref == f"{outcome.case_id}.{timeline[1].id}"


def test_later_messages_land_on_the_same_case_without_a_reply(memory_store, clock):
    first = receive(memory_store, clock, sms(sid=sid(1)))
    second = receive(memory_store, clock, sms("And what about gap years?", sid=sid(2)))
    assert second.case_id == first.case_id
    assert not second.new_case and second.reply is None and second.reply_ref is None
    bodies = [i.body for i in memory_store.timeline(first.case_id) if i.direction == "in"]
    assert bodies == ["Hi, which education fits me?", "And what about gap years?"]
    assert memory_store.get_case(first.case_id).inbound_count == 2


def test_different_numbers_get_different_cases(memory_store, clock):
    a = receive(memory_store, clock, sms(sid=sid(1)))
    b = receive(memory_store, clock, sms(sid=sid(2), sender=Identity("phone", "+4520000002")))
    assert a.case_id != b.case_id


def test_out_of_hours_reply_names_the_next_opening(memory_store, clock):
    clock.set_local(2026, 11, 23, 21, 1)  # Monday 21:01, just after closing
    outcome = receive(memory_store, clock, sms())
    assert "closed right now" in outcome.reply
    assert "We open again tomorrow at 09:00." in outcome.reply


def test_friday_evening_reply_names_saturday_morning(memory_store, clock):
    clock.set_local(2026, 11, 27, 17, 30)  # Friday after 17:00
    assert "We open again tomorrow at 10:00." in receive(memory_store, clock, sms()).reply


def test_stop_opts_out_and_is_never_answered(memory_store, clock):
    receive(memory_store, clock, sms(sid=sid(1)))
    stop = receive(memory_store, clock, sms("STOP", sid=sid(2), keyword="stop"))
    assert stop.reply is None
    assert memory_store.find_identity(CITIZEN).opted_out is True
    # a new case for an opted-out number gets no acknowledgement either
    help_ = receive(memory_store, clock, sms("HELP", sid=sid(3), keyword="help"))
    assert help_.reply is None
    start = receive(memory_store, clock, sms("START", sid=sid(4), keyword="start"))
    assert "again" in start.reply
    assert memory_store.find_identity(CITIZEN).opted_out is False


def test_stop_as_a_first_message_opts_out_a_new_contact(memory_store, clock):
    outcome = receive(memory_store, clock, sms("stop", keyword="stop"))
    assert outcome.reply is None
    assert memory_store.find_identity(CITIZEN).opted_out is True
    assert [i.body for i in memory_store.timeline(outcome.case_id)] == ["stop"]


def test_help_is_answered_even_in_an_open_case(memory_store, clock):
    receive(memory_store, clock, sms(sid=sid(1)))
    outcome = receive(memory_store, clock, sms("HELP", sid=sid(2), keyword="help"))
    assert "Reply STOP to stop messages" in outcome.reply and "We are open now." in outcome.reply


def test_a_retried_delivery_stores_nothing_and_answers_the_same(memory_store, clock):
    first = receive(memory_store, clock, sms(sid=sid(7)))
    again = receive(memory_store, clock, sms(sid=sid(7)))
    assert again.duplicate and again.case_id == first.case_id
    assert (again.reply, again.reply_ref) == (first.reply, first.reply_ref)
    assert len(memory_store.timeline(first.case_id)) == 2


def test_media_urls_are_kept_on_the_interaction(memory_store, clock):
    media = (
        Media(
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"
        ),
    )
    outcome = receive(memory_store, clock, sms("see photo", media=media))
    assert memory_store.timeline(outcome.case_id)[0].media == media


def test_a_closed_case_is_not_reused_the_next_message_opens_a_new_one(memory_store, clock):
    first = receive(memory_store, clock, sms(sid=sid(1)))
    # close the case as the inbox will: status closed, open-case pointer removed
    contact_id = memory_store.find_identity(CITIZEN).contact_id
    case = memory_store.get_case(first.case_id)
    memory_store.close(CaseRef(case.id, case.queue, None, contact_id), "done", "anna", clock())
    second = receive(memory_store, clock, sms(sid=sid(2)))
    assert second.new_case and second.case_id != first.case_id
    assert "counsellor" in second.reply
    record = memory_store.find_identity(CITIZEN)
    assert record.contact_id == contact_id and record.open_case_id == second.case_id
    assert memory_store.find_open_case(contact_id) == second.case_id


def test_a_stale_shortcut_is_corrected_from_the_open_case_pointer(memory_store, clock):
    first = receive(memory_store, clock, sms(sid=sid(1)))
    record = memory_store.find_identity(CITIZEN)
    # the shortcut on the identity is lost (e.g. a second identity of the same contact)
    memory_store._identities[CITIZEN] = replace(record, open_case_id=None)
    second = receive(memory_store, clock, sms(sid=sid(2)))
    assert second.case_id == first.case_id and not second.new_case
    assert memory_store.find_identity(CITIZEN).open_case_id == first.case_id
    assert record.contact_id == memory_store.find_identity(CITIZEN).contact_id


def test_an_identity_handed_in_stale_loses_on_the_write_and_is_read_afresh(memory_store, clock):
    """A caller's earlier read (an email's one BatchGetItem) decides nothing: the transaction's
    conditions do, and the retry plans on a fresh read."""
    deps = deps_of(memory_store, clock, hours=HOURS)
    first = receive(memory_store, clock, sms(sid=sid(1)))
    before = memory_store.find_identity(CITIZEN)
    # read as unknown, though the citizen has an identity: no second contact is made
    second = intake.receive(deps, sms(sid=sid(2)), identity=(None,))
    assert second.case_id == first.case_id and not second.new_case
    assert memory_store.find_identity(CITIZEN).contact_id == before.contact_id
    # read while the case was open; it closed before the write: a new case, not the closed one
    case = memory_store.get_case(first.case_id)
    memory_store.close(
        CaseRef(case.id, case.queue, None, before.contact_id), "done", "anna", clock()
    )
    third = intake.receive(deps, sms(sid=sid(3)), identity=(before,))
    assert third.new_case and third.case_id != first.case_id
    assert memory_store.find_open_case(before.contact_id) == third.case_id
    assert memory_store.get_case(first.case_id).status == "closed"


@pytest.mark.parametrize("keyword", ["stop", "start", "help", None])
def test_every_message_is_recorded_whatever_it_says(memory_store, clock, keyword):
    outcome = receive(memory_store, clock, sms("x", keyword=keyword))
    first = memory_store.timeline(outcome.case_id)[0]
    assert (first.direction, first.body) == ("in", "x")
