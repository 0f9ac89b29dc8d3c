"""One contract for the store, run against the in-memory fake and DynamoDB Local alike.

Every test here runs twice: `memory` (chalicelib.adapters.memory.MemoryStore, what the fast
domain unit tests use) and `dynamodb` (the real adapter, on a fresh DynamoDB Local table). A
behaviour the domain relies on that one of them lacks fails here, so the fake cannot drift.
It covers the methods intake, routing, case work, outbound messages, the outbox, opening hours
and the weekly report use (see the list in chalicelib/adapters/memory.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.memory import MemoryStore
from chalicelib.domain import errors
from chalicelib.domain.errors import InvalidCursor
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.ids import interaction_id, new_id
from chalicelib.domain.model import (
    CannedResponse,
    CaseOpening,
    CaseRef,
    EmailDetails,
    Identity,
    InboundMessage,
    InboundWrite,
    InboxFilter,
    InboxQuery,
    Interaction,
    Media,
    Practitioner,
    Retry,
    StatusUpdate,
    new_entry,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PHONE = Identity("phone", "+4520000001")
OTHER = Identity("phone", "+4520000002")


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue("local_store")


def message(case_id: str, at: datetime, body: str = "hello", **fields) -> Interaction:
    return new_entry(case_id, at, "sms", "in", body, provider="twilio", **fields)


def first(identity: Identity = PHONE, sid: str = "SM1", at: datetime = T0, **changes):
    """A first message: a new contact, identity and case."""
    contact_id, case_id = new_id(), new_id()
    inbound = message(case_id, at, provider_id=sid)
    write = InboundWrite(
        identity=identity,
        contact_id=contact_id,
        new_contact=True,
        case_id=case_id,
        opening=CaseOpening(case_id, contact_id, "general", "sms", at, reply_token=new_id()),
        interactions=(inbound,),
        reply="Thanks",
        link_identity=True,
        provider="twilio",
        provider_id=sid,
    )
    return replace(write, **changes)


def later(write: InboundWrite, sid: str, at: datetime, body: str = "more") -> InboundWrite:
    """The same citizen's next message, appended to the open case."""
    return replace(
        write,
        new_contact=False,
        opening=None,
        interactions=(message(write.case_id, at, body, provider_id=sid),),
        reply=None,
        link_identity=False,
        provider_id=sid,
    )


def reopened(write: InboundWrite, sid: str, at: datetime) -> InboundWrite:
    """The same citizen's next message opening a new case (theirs was closed)."""
    case_id = new_id()
    return replace(
        write,
        new_contact=False,
        case_id=case_id,
        opening=CaseOpening(case_id, write.contact_id, "general", "sms", at, new_id()),
        interactions=(message(case_id, at, provider_id=sid),),
        provider_id=sid,
    )


def ref(store, case_id: str) -> CaseRef:
    case = store.get_case(case_id)
    return CaseRef(case.id, case.queue, case.language, case.contact_id, case.assignee)


ANNA = Practitioner("anna", "Anna", ("general",), ("da",), 1)


# --- intake ------------------------------------------------------------------------------------


def test_a_first_message_creates_identity_contact_case_and_delivery(store):
    write = first()
    store.record_inbound(write)
    record = store.find_identity(PHONE)
    assert (record.contact_id, record.open_case_id, record.opted_out) == (
        write.contact_id,
        write.case_id,
        False,
    )
    assert store.find_open_case(write.contact_id) == write.case_id
    delivery = store.find_delivery("twilio", "SM1")
    assert (delivery.case_id, delivery.reply, delivery.interaction_id) == (
        write.case_id,
        "Thanks",
        write.interactions[0].id,
    )
    case = store.get_case(write.case_id, with_timeline=True)
    assert (case.status, case.queue, case.channel, case.inbound_count) == (
        "queued",
        "general",
        "sms",
        1,
    )
    assert case.reply_to == PHONE and case.contact_id == write.contact_id
    assert [(i.body, i.contact_id) for i in case.timeline] == [("hello", write.contact_id)]
    assert store.get_reply_identity(write.case_id) == PHONE
    assert [r.id for r in store.waiting_cases("general")] == [write.case_id]


SOFIE = Identity("email", "sofie@example.com")


def emailed(write: InboundWrite, message_id: str, new: bool = True) -> InboundWrite:
    """The write as an email's: its Message-ID on the message (indexed unless `new` is False)."""
    details = EmailDetails("Question", message_id, new_message_id=new)
    inbound = replace(write.interactions[0], channel="email", email=details)
    return replace(write, interactions=(inbound,), provider="ses")


def mail(sid: str, sender: Identity = SOFIE, token: str | None = None) -> InboundMessage:
    details = EmailDetails("Question", "<new@x>", reply_token=token)
    return InboundMessage("email", "ses", sid, sender, "helpline@x", "Hi", email=details)


def test_one_read_finds_an_emails_delivery_sender_reply_address_and_message_ids(store):
    nothing = store.mail_reads(mail("M1", token="token"), ("<a@x>",))
    assert (nothing.delivery, nothing.identity, nothing.by_token) == (None, None, None)
    assert nothing.by_message_id == {}
    write = emailed(first(SOFIE, "M1"), "<a@x>")
    store.record_inbound(write)
    store.record_inbound(emailed(later(write, "M2", T0 + timedelta(minutes=1)), "<b@x>", new=False))
    store.index_message_id("<ours@helpline>", write.case_id, write.contact_id)
    case = CaseRef(write.case_id, "", None, write.contact_id)
    token = write.opening.reply_token
    ids = ("<ours@helpline>", "<a@x>", "<b@x>", "<unknown@x>")
    reads = store.mail_reads(mail("M1", token=token), ids)
    assert reads.delivery == store.find_delivery("ses", "M1")
    assert reads.delivery.case_id == write.case_id
    assert reads.identity == store.find_identity(SOFIE)
    assert reads.identity.open_case_id == write.case_id
    assert reads.by_token == case
    # a Message-ID another message held already was not indexed again: it names nothing
    assert reads.by_message_id == {"<ours@helpline>": case, "<a@x>": case}
    other = store.mail_reads(mail("M9", Identity("email", "mum@example.org")), ())
    assert (other.delivery, other.identity, other.by_token, other.by_message_id) == (
        None,
        None,
        None,
        {},
    )
    store.forget_threading(write.case_id, list(ids), token)
    forgotten = store.mail_reads(mail("M1", token=token), ids)
    assert (forgotten.by_token, forgotten.by_message_id) == (None, {})
    with pytest.raises(ValueError):
        store.mail_reads(mail("M1", token=token), tuple(f"<{n}@x>" for n in range(98)))


def test_nothing_is_found_before_anything_is_written(store):
    assert store.find_identity(PHONE) is None
    assert store.find_open_case("nobody") is None
    assert store.find_delivery("twilio", "SM1") is None
    assert store.get_case("nothing") is None
    assert store.get_reply_identity("nothing") is None
    assert store.load_hours() is None


def test_a_provider_retry_is_refused_whole(store):
    write = first()
    store.record_inbound(write)
    with pytest.raises(errors.DuplicateDelivery):
        store.record_inbound(later(write, "SM1", T0 + timedelta(minutes=1)))
    assert len(store.get_case(write.case_id, with_timeline=True).timeline) == 1
    assert store.get_case(write.case_id).inbound_count == 1


def test_an_identity_is_created_once_and_a_lost_race_writes_nothing(store):
    store.record_inbound(first(sid="SM1"))
    rival = first(sid="SM2")
    with pytest.raises(errors.IdentityTaken):
        store.record_inbound(rival)
    assert store.get_case(rival.case_id) is None
    assert store.find_delivery("twilio", "SM2") is None
    assert store.find_open_case(rival.contact_id) is None


def test_a_contact_has_one_open_case(store):
    write = first()
    store.record_inbound(write)
    with pytest.raises(errors.OpenCaseExists):
        store.record_inbound(reopened(write, "SM2", T0 + timedelta(minutes=1)))
    assert store.find_delivery("twilio", "SM2") is None


def test_later_messages_are_appended_to_the_open_case(store):
    write = first()
    store.record_inbound(write)
    store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=1), "again"))
    case = store.get_case(write.case_id, with_timeline=True)
    assert case.inbound_count == 2
    assert [i.body for i in case.timeline] == ["hello", "again"]
    assert case.last_activity_at == T0 + timedelta(minutes=1)


def test_nothing_is_appended_to_a_closed_case_and_a_new_one_opens(store):
    write = first()
    store.record_inbound(write)
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(minutes=1))
    with pytest.raises(errors.CaseNotOpen):
        store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=2)))
    assert store.find_delivery("twilio", "SM2") is None
    again = reopened(write, "SM3", T0 + timedelta(minutes=3))
    store.record_inbound(again)
    assert store.find_open_case(write.contact_id) == again.case_id
    assert store.find_identity(PHONE).open_case_id == again.case_id


def test_a_case_of_bookings_waits_only_once_the_citizen_writes(store):
    booking = first()
    booking = replace(
        booking,
        opening=replace(booking.opening, channel="webinar"),
        interactions=(replace(booking.interactions[0], channel="webinar"),),
        reply=None,
    )
    store.record_inbound(booking)
    assert store.find_identity(PHONE).open_case_booked
    assert store.waiting_cases("general") == []
    store.record_inbound(later(booking, "SM2", T0 + timedelta(minutes=1)))
    promoted = store.promote_booked(booking.case_id, PHONE, T0 + timedelta(minutes=1))
    assert promoted is not None and promoted.id == booking.case_id
    assert [c.id for c in store.waiting_cases("general")] == [booking.case_id]
    assert not store.find_identity(PHONE).open_case_booked
    assert store.promote_booked(booking.case_id, PHONE, T0 + timedelta(minutes=2)) is None


def test_a_case_to_answer_is_not_promoted_again(store):
    write = first()
    store.record_inbound(write)
    assert not store.find_identity(PHONE).open_case_booked
    assert store.promote_booked(write.case_id, PHONE, T0) is None
    assert [c.id for c in store.waiting_cases("general")] == [write.case_id]


def test_opting_out_is_kept_on_the_identity(store):
    write = first()
    store.record_inbound(write)
    store.record_inbound(replace(later(write, "SM2", T0), opted_out=True))
    assert store.find_identity(PHONE).opted_out is True
    store.record_inbound(replace(later(write, "SM3", T0), opted_out=False))
    assert store.find_identity(PHONE).opted_out is False


# --- changes of hands --------------------------------------------------------------------------


def test_a_queued_case_is_assigned_once_within_capacity(store):
    store.create_practitioner(ANNA)
    store.go_on_duty("anna", T0)
    one, two = first(), first(OTHER, "SM2")
    store.record_inbound(one)
    store.record_inbound(two)
    store.assign(ref(store, one.case_id), "anna", T0, require_on_duty=True)
    case = store.get_case(one.case_id)
    assert (case.status, case.assignee, case.assigned_at) == ("assigned", "anna", T0)
    assert store.get_practitioner("anna").active_cases == 1
    assert store.last_practitioner(one.contact_id) == "anna"
    assert [r.id for r in store.waiting_cases("general")] == [two.case_id]
    assert [r.id for r in store.unanswered_since_before(T0 + timedelta(minutes=1))] == [one.case_id]
    with pytest.raises(errors.CaseChanged):
        store.assign(ref(store, one.case_id), "anna", T0, require_on_duty=True)
    with pytest.raises(errors.PractitionerUnavailable):  # full
        store.assign(ref(store, two.case_id), "anna", T0, require_on_duty=True)
    assert store.get_case(two.case_id).status == "queued"


def test_an_off_duty_practitioner_is_not_given_cases_by_routing(store):
    store.create_practitioner(ANNA)
    write = first()
    store.record_inbound(write)
    with pytest.raises(errors.PractitionerUnavailable):
        store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=True)
    store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=False)
    assert store.get_case(write.case_id).assignee == "anna"


def assigned_to_anna(store) -> InboundWrite:
    """A first message whose case Anna, on duty, holds."""
    store.create_practitioner(ANNA)
    store.go_on_duty("anna", T0)
    write = first()
    store.record_inbound(write)
    store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=True)
    return write


def test_back_to_the_queue_frees_the_slot(store):
    write = assigned_to_anna(store)
    stale = replace(ref(store, write.case_id), assignee=None)
    with pytest.raises(errors.CaseChanged):
        store.to_queue(stale, "general", T0)
    store.to_queue(ref(store, write.case_id), "general", T0, only_if_unanswered=True)
    case = store.get_case(write.case_id)
    assert (case.status, case.assignee) == ("queued", None)
    assert store.get_practitioner("anna").active_cases == 0
    assert store.unanswered_since_before(T0 + timedelta(days=1)) == []
    assert [r.id for r in store.waiting_cases("general")] == [write.case_id]


def test_closing_needs_the_case_as_read_and_leaves_a_note(store):
    write = assigned_to_anna(store)
    read = replace(ref(store, write.case_id), inbound_count=1)
    store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=1)))
    with pytest.raises(errors.CaseChanged):  # a message landed since it was read
        store.close(read, "answered", "anna", T0 + timedelta(minutes=2))
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(minutes=2))
    case = store.get_case(write.case_id, with_timeline=True)
    assert (case.status, case.outcome, case.closed_at) == (
        "closed",
        "answered",
        T0 + timedelta(minutes=2),
    )
    note = case.timeline[-1]
    assert (note.channel, note.status, note.body, note.author) == (
        "note",
        "closed",
        "Closed: answered",
        "anna",
    )
    assert store.find_open_case(write.contact_id) is None
    assert store.get_practitioner("anna").active_cases == 0
    with pytest.raises(errors.CaseChanged):
        store.close(ref(store, write.case_id), "again", "anna", T0 + timedelta(minutes=3))


def test_a_transfer_moves_the_slot_to_the_new_practitioner(store):
    store.create_practitioner(ANNA)
    store.create_practitioner(replace(ANNA, id="bo", display_name="Bo"))
    write = first()
    store.record_inbound(write)
    store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=False)
    with pytest.raises(errors.CaseChanged):
        store.transfer_to(replace(ref(store, write.case_id), assignee=None), "bo", T0)
    store.transfer_to(ref(store, write.case_id), "bo", T0 + timedelta(minutes=1))
    case = store.get_case(write.case_id)
    assert (case.status, case.assignee) == ("assigned", "bo")
    assert store.get_practitioner("anna").active_cases == 0
    assert store.get_practitioner("bo").active_cases == 1
    assert store.last_practitioner(write.contact_id) == "bo"
    other = first(OTHER, "SM2")
    store.record_inbound(other)
    store.assign(ref(store, other.case_id), "anna", T0, require_on_duty=False)
    with pytest.raises(errors.PractitionerUnavailable):  # bo is full
        store.transfer_to(ref(store, other.case_id), "bo", T0)
    assert store.get_case(other.case_id).assignee == "anna"


def test_a_closed_case_reopens_unless_another_is_open(store):
    write = first()
    store.record_inbound(write)
    with pytest.raises(errors.CaseChanged):  # not closed
        store.reopen(replace(ref(store, write.case_id), contact_id="elsewhere"), T0)
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(minutes=1))
    store.reopen(ref(store, write.case_id), T0 + timedelta(minutes=2))
    case = store.get_case(write.case_id)
    assert (case.status, case.outcome, case.closed_at) == ("queued", None, None)
    assert store.find_open_case(write.contact_id) == write.case_id
    assert [r.id for r in store.waiting_cases("general")] == [write.case_id]
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(minutes=3))
    again = reopened(write, "SM2", T0 + timedelta(minutes=4))
    store.record_inbound(again)
    with pytest.raises(errors.OpenCaseExists):
        store.reopen(ref(store, write.case_id), T0 + timedelta(minutes=5))
    store.close(ref(store, again.case_id), "answered", "anna", T0 + timedelta(minutes=6))
    store.mark_case_erased(write.case_id, T0)
    with pytest.raises(errors.CaseChanged):  # an erased case stays closed
        store.reopen(ref(store, write.case_id), T0 + timedelta(minutes=7))


def test_a_reply_needs_the_case_as_read_and_ends_unanswered(store):
    store.create_practitioner(ANNA)
    write = first()
    store.record_inbound(write)
    store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=False)
    answer = replace(reply(write.case_id, T0), author="anna")
    with pytest.raises(errors.CaseChanged):
        store.add_reply(
            answer, replace(ref(store, write.case_id), assignee=None), answered_by_assignee=True
        )
    with pytest.raises(errors.CaseChanged):
        store.add_reply(
            answer, replace(ref(store, write.case_id), inbound_count=2), answered_by_assignee=True
        )
    store.add_reply(answer, ref(store, write.case_id), answered_by_assignee=True)
    case = store.get_case(write.case_id, with_timeline=True)
    assert case.first_response_at == answer.at and case.last_activity_at == answer.at
    assert [i.id for i in case.timeline][-1] == answer.id
    assert store.unanswered_since_before(T0 + timedelta(days=1)) == []
    second = replace(reply(write.case_id, T0 + timedelta(minutes=1)), author="anna")
    store.add_reply(second, ref(store, write.case_id), answered_by_assignee=True)
    assert store.get_case(write.case_id).first_response_at == answer.at


def test_a_case_shows_the_latest_message_and_what_waits_for_an_answer(store):
    store.create_practitioner(ANNA)
    write = first()
    store.record_inbound(write)
    case = store.get_case(write.case_id)
    assert (case.preview, case.last_inbound_channel, case.waiting_since) == ("hello", "sms", T0)
    store.assign(ref(store, write.case_id), "anna", T0, require_on_duty=False)
    answer = replace(reply(write.case_id, T0 + timedelta(minutes=1)), author="anna")
    store.add_reply(answer, ref(store, write.case_id), answered_by_assignee=True)
    assert not store.get_case(write.case_id).needs_reply
    for n in (2, 3):
        store.record_inbound(later(write, f"SM{n}", T0 + timedelta(minutes=n), f"more {n}"))
    case = store.get_case(write.case_id)
    assert case.needs_reply and case.waiting_since == T0 + timedelta(minutes=2)
    assert case.preview == "more 3"


def test_presence_is_one_entry_per_user_overwritten_by_their_next(store):
    write = first()
    store.record_inbound(write)
    until = T0 + timedelta(seconds=30)
    store.mark_presence(write.case_id, "anna", "viewing", until)
    store.mark_presence(write.case_id, "bea", "viewing", until)
    store.mark_presence(write.case_id, "anna", "writing", until + timedelta(seconds=5))
    presence = store.get_case(write.case_id).presence
    assert [(p.user_id, p.activity, p.until) for p in presence] == [
        ("anna", "writing", until + timedelta(seconds=5)),
        ("bea", "viewing", until),
    ]


def test_a_note_and_its_mentions_are_written_together(store):
    write = first()
    store.record_inbound(write)
    note = Interaction(
        interaction_id(T0), write.case_id, T0, "note", "internal", "@bea look", author="anna"
    )
    store.add_note(note, ("bea", "carl"))
    later_note = replace(
        note, id=interaction_id(T0 + timedelta(minutes=1)), at=T0 + timedelta(minutes=1)
    )
    store.add_note(later_note, ("bea",))
    assert [(m.case_id, m.note_id, m.author) for m in store.mentions_of("bea", 10)[0]] == [
        (write.case_id, later_note.id, "anna"),
        (write.case_id, note.id, "anna"),
    ]
    assert [m.at for m in store.mentions_of("carl", 10)[0]] == [T0]
    assert store.mentions_of("anna", 10) == ([], None)
    with pytest.raises(errors.WriteConflict):  # the same note again: refused whole
        store.add_note(note, ("dan",))
    assert store.mentions_of("dan", 10) == ([], None)
    assert store.get_case(write.case_id, with_timeline=True).timeline[-1].id == later_note.id


def test_mentions_page_newest_first_and_are_read_once_their_case_is_opened(store):
    write, other = first(), first(Identity("phone", "+4520000002"), sid="SM2")
    store.record_inbound(write)
    store.record_inbound(other)
    notes = []
    for minute, case_id in enumerate([write.case_id, other.case_id] * 3):
        at = T0 + timedelta(minutes=minute)
        notes.append(
            Interaction(interaction_id(at), case_id, at, "note", "internal", "@bea", author="anna")
        )
        store.add_note(notes[-1], ("bea",))
    seen, after = [], None
    for _ in range(4):
        page, after = store.mentions_of("bea", 4, after)
        seen += page
        if after is None:
            break
    assert [m.note_id for m in seen] == [n.id for n in reversed(notes)]  # none twice or lost
    assert not any(m.read for m in seen) and store.count_mentions("bea") == 6
    store.read_mentions("bea", write.case_id)
    store.read_mentions("bea", write.case_id)  # again (another tab): nothing more changes
    store.read_mentions("carl", other.case_id)  # not named there: nothing
    page, _ = store.mentions_of("bea", 10)
    assert [m.read for m in page] == [m.case_id == write.case_id for m in page]
    assert store.count_mentions("bea") == 3
    with pytest.raises(InvalidCursor):
        store.mentions_of("bea", 10, "MENTIONS#anna")


def test_canned_responses_are_kept_per_owner(store):
    shared = CannedResponse("c1", "Hello", "Hi {first_name}")
    mine = CannedResponse("c2", "Mine", "Later", owner="anna")
    store.save_canned(shared)
    store.save_canned(mine)
    assert store.canned_of(None) == [shared] and store.canned_of("anna") == [mine]
    assert store.get_canned("bea", "c2") is None and store.get_canned("anna", "c2") == mine
    edited = CannedResponse("c2", "Mine", "Sooner", owner="anna")
    assert not store.replace_canned(CannedResponse("c2", "Theirs", "x", owner="bea"))
    assert store.replace_canned(edited) and store.canned_of("anna") == [edited]
    assert store.canned_of("bea") == []
    assert store.delete_canned("anna", "c2") and not store.delete_canned("anna", "c2")
    assert store.canned_of("anna") == []
    assert not store.replace_canned(edited)  # deleted stays deleted


def test_a_waiting_case_moves_queue_and_keeps_its_place(store):
    one, two = first(), first(OTHER, "SM2", at=T0 + timedelta(minutes=1))
    store.record_inbound(one)
    store.record_inbound(two)
    assert store.set_waiting_queue(two.case_id, "jobs") is True
    assert [r.id for r in store.waiting_cases("jobs")] == [two.case_id]
    assert [r.id for r in store.waiting_cases("general")] == [one.case_id]
    assert store.get_case(two.case_id).queue == "jobs"
    store.create_practitioner(ANNA)
    store.assign(ref(store, one.case_id), "anna", T0, require_on_duty=False)
    assert store.set_waiting_queue(one.case_id, "jobs") is False


def test_reads_are_kept_per_case(store):
    write = first()
    store.record_inbound(write)
    store.record_read(write.case_id, "anna", "practitioner", T0 + timedelta(minutes=1))
    store.record_read(write.case_id, "boss", "manager", T0 + timedelta(minutes=2))
    assert [(r.user_id, r.role, r.at) for r in store.case_reads(write.case_id)] == [
        ("anna", "practitioner", T0 + timedelta(minutes=1)),
        ("boss", "manager", T0 + timedelta(minutes=2)),
    ]
    assert store.case_reads("other") == []


def test_duty_and_shifts(store):
    assert store.create_practitioner(ANNA) is True
    assert store.create_practitioner(ANNA) is False
    assert store.list_practitioners(on_duty_only=True) == []
    assert store.go_on_duty("anna", T0) is True
    assert store.go_on_duty("anna", T0) is False
    anna = store.get_practitioner("anna")
    assert [p.id for p in store.list_practitioners(on_duty_only=True)] == ["anna"]
    shift = store.go_off_duty(anna, T0 + timedelta(hours=2))
    assert (shift.start, shift.end) == (T0, T0 + timedelta(hours=2))
    assert store.get_practitioner("anna").on_duty is False
    _, _, shifts = store.week_items(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [(s.practitioner_id, s.start) for s in shifts] == [("anna", T0)]


def test_a_callback_waits_on_the_case_until_made(store):
    write = first()
    store.record_inbound(write)
    store.request_callback(write.case_id, PHONE.value, T0 + timedelta(minutes=1))
    case = store.get_case(write.case_id)
    assert (case.callback_number, case.callback_requested_at) == (
        PHONE.value,
        T0 + timedelta(minutes=1),
    )
    assert case.last_activity_at == T0 + timedelta(minutes=1)
    store.clear_callback(write.case_id)
    case = store.get_case(write.case_id)
    assert (case.callback_number, case.callback_requested_at) == (None, None)


def test_callback_requests_are_limited_per_number_and_day(store):
    assert [store.count_callback_request(PHONE.value, T0, 2) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert store.count_callback_request(OTHER.value, T0, 2) is True
    assert store.count_callback_request(PHONE.value, T0 + timedelta(days=1), 2) is True


# --- outbound messages and the outbox ----------------------------------------------------------


def reply(case_id: str, at: datetime, to: str | None = PHONE.value) -> Interaction:
    at += timedelta(seconds=1)  # after the citizen's message on the timeline
    return Interaction(
        interaction_id(at), case_id, at, "sms", "out", "We can talk", status="queued", to=to
    )


def replied(store, at: datetime, to: str | None = PHONE.value) -> tuple[InboundWrite, Interaction]:
    """A citizen's first message, and a reply recorded on its case (not sent yet)."""
    write = first()
    store.record_inbound(write)
    sent = reply(write.case_id, at, to)
    store.add_interaction(sent)
    return write, sent


def test_a_delivery_status_only_moves_forward(store):
    write, sent = replied(store, T0 + timedelta(minutes=1))
    assert store.add_interaction_once(sent) is False
    assert store.update_delivery_status(write.case_id, sent.id, StatusUpdate("sent", 2, "SMx"))
    assert store.update_delivery_status(write.case_id, sent.id, StatusUpdate("delivered", 3))
    assert not store.update_delivery_status(write.case_id, sent.id, StatusUpdate("sent", 2))
    assert not store.update_delivery_status(write.case_id, "missing", StatusUpdate("sent", 2))
    [_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert (out.status, out.provider_id) == ("delivered", "SMx")


def test_a_call_is_marked_answered_and_an_address_undeliverable(store):
    write = first()
    store.record_inbound(write)
    call = replace(reply(write.case_id, T0), channel="voice", body="Callback")
    store.add_interaction(call)
    store.mark_call_answered(write.case_id, call.id, True)
    [_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert out.answered is True
    assert store.mark_undeliverable(PHONE, "bounced") is True
    assert store.find_identity(PHONE).undeliverable == "bounced"
    assert store.mark_undeliverable(OTHER, "bounced") is False


def test_a_calls_wait_is_kept_once_its_first_report_stands(store):
    write = first()
    store.record_inbound(write)
    call = replace(reply(write.case_id, T0), channel="voice", body="Callback")
    store.add_interaction(call)
    store.mark_call_wait(write.case_id, call.id, T0 + timedelta(seconds=10), ended=False)
    store.mark_call_wait(write.case_id, call.id, T0 + timedelta(seconds=40), ended=False)  # again
    store.mark_call_wait(write.case_id, call.id, T0 + timedelta(seconds=25), ended=True)
    store.mark_call_wait(write.case_id, call.id, T0 + timedelta(seconds=55), ended=True)
    [_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert (out.waiting_at, out.waited_until) == (
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=25),
    )
    [week_call] = [i for i in store.week_items(T0, T0 + timedelta(days=1))[1] if i.id == call.id]
    assert week_call.waited_until == T0 + timedelta(seconds=25)


def test_a_parked_message_is_retried_once_per_claim(store):
    write, sent = replied(store, T0)
    retry_at = T0 + timedelta(minutes=1)
    assert store.park(write.case_id, sent.id, Retry(1, retry_at, "Timeout", "raw/1"))
    assert store.due(T0) == []
    [entry] = store.due(retry_at)
    assert (entry.interaction_id, entry.to, entry.body, entry.attempts, entry.raw_key) == (
        sent.id,
        PHONE.value,
        "We can talk",
        1,
        "raw/1",
    )
    assert store.claim(entry, retry_at + timedelta(minutes=5)) is True
    assert store.claim(entry, retry_at + timedelta(minutes=5)) is False
    store.unpark(write.case_id, sent.id, StatusUpdate("sent", 2, "SMy", "twilio"))
    assert store.due(T0 + timedelta(days=1)) == []
    [_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert (out.status, out.provider_id) == ("sent", "SMy")


def test_a_message_without_an_address_is_never_parked(store):
    write, sent = replied(store, T0, to=None)
    assert store.park(write.case_id, sent.id, Retry(1, T0, "Timeout")) is False
    assert store.due(T0 + timedelta(days=1)) == []


def test_a_parked_message_is_cancelled_once(store):
    write, sent = replied(store, T0)
    store.park(write.case_id, sent.id, Retry(1, T0, "Timeout"))
    assert store.cancel_parked(write.case_id, sent.id) is True
    assert store.cancel_parked(write.case_id, sent.id) is False
    assert store.due(T0 + timedelta(days=1)) == []
    [_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert (out.status, out.error_code) == ("failed", "cancelled: erased")


def test_an_unsent_message_is_not_recorded_on_an_erased_case(store):
    write = first()
    store.record_inbound(write)
    record = store.add_interaction_unless_erased
    assert record(reply(write.case_id, T0 + timedelta(seconds=1))) is True
    store.mark_case_erased(write.case_id, T0)
    assert record(reply(write.case_id, T0 + timedelta(seconds=2))) is False
    assert len(store.get_case(write.case_id, with_timeline=True).timeline) == 2


# --- settings and reports ----------------------------------------------------------------------


def test_opening_hours_round_trip(store):
    hours = demo_hours()
    store.save_hours(hours)
    assert store.load_hours() == hours


def test_a_week_holds_what_happened_in_it(store):
    inside, outside = first(at=T0), first(OTHER, "SM2", at=T0 + timedelta(days=8))
    store.record_inbound(inside)
    store.record_inbound(outside)
    cases, interactions, _ = store.week_items(T0, T0 + timedelta(days=7))
    assert [c.id for c in cases] == [inside.case_id]
    assert [i.case_id for i in interactions] == [inside.case_id]
    cases, _, _ = store.week_items(T0 + timedelta(microseconds=1), T0 + timedelta(days=7))
    assert cases == []


def test_a_weekly_report_is_saved_and_emailed_once(store):
    assert store.get_report("2026-W48") is None
    assert store.claim_report_email("2026-W48", T0) is False
    store.save_report("2026-W48", {"cases": {"opened": 3}})
    assert store.get_report("2026-W48") == {"cases": {"opened": 3}}
    assert store.claim_report_email("2026-W48", T0) is True
    assert store.claim_report_email("2026-W48", T0) is False


# --- one citizen's data: export, erasure, retention --------------------------------------------


def test_a_contact_is_tombstoned_and_forgotten(store):
    write = first()
    store.record_inbound(write)
    contact = store.contact(write.contact_id)
    assert (contact.id, contact.cases, contact.identities, contact.erased_at) == (
        write.contact_id,
        (write.case_id,),
        (PHONE,),
        None,
    )
    assert store.contact("nobody") is None and store.tombstone_contact("nobody", T0) is None
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(seconds=1))
    erased = store.tombstone_contact(write.contact_id, T0 + timedelta(minutes=1))
    assert erased.erased_at == T0 + timedelta(minutes=1)
    assert store.tombstone_contact(write.contact_id, T0 + timedelta(minutes=2)).erased_at == (
        T0 + timedelta(minutes=1)
    )
    with pytest.raises(errors.IdentityTaken):  # an erased contact gets no new case
        store.record_inbound(reopened(write, "SM9", T0 + timedelta(minutes=3)))
    assert store.identities_of(erased) == [PHONE]
    store.erase_identity(PHONE)
    assert store.identities_of(erased) == [] and store.find_identity(PHONE) is None
    store.forget_contact(write.contact_id)
    assert store.contact(write.contact_id).identities == ()
    assert store.contact(write.contact_id).cases == (write.case_id,)
    assert store.find_open_case(write.contact_id) is None


def test_case_records_name_what_erasure_must_reach(store):
    write, sent = replied(store, T0)
    store.park(write.case_id, sent.id, Retry(1, T0, "Timeout", "outbox/raw1"))
    records = store.case_records(write.case_id)
    assert records.id == write.case_id and records.email_thread == ()
    assert records.reply_token == store.get_case(write.case_id).reply_token
    inbound, out = records.messages
    assert (inbound.id, inbound.direction, inbound.provider, inbound.provider_id) == (
        write.interactions[0].id,
        "in",
        "twilio",
        "SM1",
    )
    assert inbound.personal and inbound.files == ()
    assert (out.status, out.files, out.personal) == ("retrying", ("outbox/raw1",), True)


def test_scrubbing_keeps_what_the_reports_count(store):
    write = first()
    store.record_inbound(write)
    store.request_callback(write.case_id, PHONE.value, T0)
    store.scrub_case(write.case_id)
    [message] = store.case_records(write.case_id).messages
    store.scrub_event(write.case_id, message.id, forget_provider_id=True)
    case = store.get_case(write.case_id, with_timeline=True)
    assert (case.reply_to, case.reply_token, case.callback_number) == (None, None, None)
    assert case.preview is None  # the inbox's copy of the citizen's words goes too
    [scrubbed] = case.timeline
    assert (scrubbed.body, scrubbed.to, scrubbed.provider_id) == ("", None, None)
    assert (scrubbed.channel, scrubbed.direction, scrubbed.at) == ("sms", "in", T0)
    assert store.case_records(write.case_id).messages[0].personal is False


def test_a_delivery_is_tombstoned_or_forgotten(store):
    one, two = first(), first(OTHER, "SM2")
    store.record_inbound(one)
    store.record_inbound(two)
    store.tombstone_delivery("twilio", "SM1")
    tomb = store.find_delivery("twilio", "SM1")
    assert (tomb.case_id, tomb.reply, tomb.reply_ref, tomb.interaction_id) == ("", None, None, None)
    store.forget_delivery("twilio", "SM2")
    assert store.find_delivery("twilio", "SM2") is None
    store.tombstone_delivery("twilio", "SM3")  # nothing there: stays nothing
    assert store.find_delivery("twilio", "SM3") is None


def test_a_recording_reference_is_removed(store):
    write = first()
    store.record_inbound(write)
    call = replace(
        reply(write.case_id, T0), status="voicemail", media=(Media("https://r", "audio/wav"),)
    )
    store.add_interaction(call)
    store.remove_media(write.case_id, call.id)
    [_, kept] = store.get_case(write.case_id, with_timeline=True).timeline
    assert kept.media == () and kept.status == "voicemail"


def test_reads_and_audits_are_forgotten_by_age(store):
    write = first()
    store.record_inbound(write)
    store.record_read(write.case_id, "anna", "practitioner", T0)
    store.record_read(write.case_id, "anna", "practitioner", T0 + timedelta(days=10))
    store.audit("export", write.contact_id, "boss", T0 + timedelta(hours=1), {"cases": 1})
    assert store.forget_records_between(T0 - timedelta(days=1), T0 + timedelta(days=1)) == 2
    assert [r.at for r in store.case_reads(write.case_id)] == [T0 + timedelta(days=10)]
    assert store.forget_records_between(T0 - timedelta(days=1), T0 + timedelta(days=1)) == 0


def test_the_inbox_counts_follow_hand_overs_and_closes(store):
    store.create_practitioner(replace(ANNA, max_active_cases=2))
    one, two, three = first(), first(OTHER, "SM2"), first(Identity("phone", "+4520000003"), "SM3")
    booking = first(Identity("phone", "+4520000004"), "SM4")
    booking = replace(  # bookings only: in no inbox, counted nowhere
        booking,
        opening=replace(booking.opening, channel="webinar"),
        interactions=(replace(booking.interactions[0], channel="webinar"),),
        reply=None,
    )
    for write in (one, two, three, booking):
        store.record_inbound(write)
    assert (store.count_open(), store.count_waiting("general"), store.count_mine("anna")) == (
        3,
        3,
        0,
    )
    store.assign(ref(store, one.case_id), "anna", T0, require_on_duty=False)
    store.assign(ref(store, two.case_id), "anna", T0, require_on_duty=False)
    store.close(ref(store, two.case_id), "answered", "anna", T0 + timedelta(minutes=1))
    assert (store.count_open(), store.count_waiting("general"), store.count_mine("anna")) == (
        2,
        1,
        1,
    )
    assert (store.count_waiting("careers"), store.count_mine("bea")) == (0, 0)
    note = Interaction(
        interaction_id(T0), one.case_id, T0, "note", "internal", "@bea", author="anna"
    )
    store.add_note(note, ("bea",))
    assert (store.count_mentions("bea"), store.count_mentions("anna")) == (1, 0)


def test_a_read_marks_the_case_for_its_reader_until_the_read_is_forgotten(store):
    write = first()
    store.record_inbound(write)
    assert store.get_case(write.case_id).last_inbound_at == T0
    store.record_read(write.case_id, "anna", "practitioner", T0 + timedelta(minutes=1))
    store.record_read(write.case_id, "bea", "practitioner", T0 + timedelta(minutes=3))
    store.record_read(write.case_id, "anna", "practitioner", T0 + timedelta(minutes=2))
    store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=4)))
    case = store.get_case(write.case_id)
    assert case.last_inbound_at == T0 + timedelta(minutes=4)
    assert case.last_read == (
        ("anna", T0 + timedelta(minutes=2)),
        ("bea", T0 + timedelta(minutes=3)),
    )
    # retention forgets the reads up to minute 3: anna's marker goes, bea's (minute 3) stays
    store.forget_records_between(T0, T0 + timedelta(minutes=3))
    assert store.get_case(write.case_id).last_read == (("bea", T0 + timedelta(minutes=3)),)


# --- languages and templates ---------------------------------------------------------------------


def test_a_case_keeps_the_language_it_opened_with_until_it_is_corrected(store):
    write = first()
    write = replace(write, opening=replace(write.opening, language="da"))
    store.record_inbound(write)
    assert store.get_case(write.case_id).language == "da"
    assert ref(store, write.case_id).language == "da"
    assert store.set_case_language(write.case_id, "en") is True
    assert store.get_case(write.case_id).language == "en"
    assert store.set_case_language("no-such-case", "en") is False


def test_a_contact_keeps_its_language_across_cases_until_told_otherwise(store):
    write = first(contact_language="en")
    store.record_inbound(write)
    assert store.contact_language(write.contact_id) == "en"
    assert store.contact(write.contact_id).language == "en"
    store.record_inbound(later(write, "SM2", T0 + timedelta(minutes=1)))  # leaves it as it is
    assert store.contact_language(write.contact_id) == "en"
    store.close(ref(store, write.case_id), "answered", "anna", T0 + timedelta(minutes=2))
    again = replace(reopened(write, "SM3", T0 + timedelta(days=2)), contact_language="da")
    store.record_inbound(again)  # a new case and the contact's new language in one write
    assert store.contact_language(write.contact_id) == "da"
    assert store.contact(write.contact_id).cases == (write.case_id, again.case_id)
    choice = replace(later(again, "SM4", T0 + timedelta(days=2, minutes=1)), contact_language="en")
    store.record_inbound(choice)  # a booking page's choice, on the case already open
    assert store.contact_language(write.contact_id) == "en"
    assert store.set_contact_language(write.contact_id, "da") is True
    assert store.contact_language(write.contact_id) == "da"
    assert store.set_contact_language(write.contact_id, "en") is True
    assert store.personal_data(store.contact(write.contact_id), []).contact["language"] == "en"
    assert store.contact_language("nobody") is None
    assert store.set_contact_language("nobody", "en") is False
    assert store.contact("nobody") is None  # a refused choice creates no contact


def test_an_erased_contact_takes_no_language_and_forgets_its_own(store):
    write = first(contact_language="en")
    store.record_inbound(write)
    store.tombstone_contact(write.contact_id, T0 + timedelta(minutes=1))
    assert store.set_contact_language(write.contact_id, "da") is False
    with pytest.raises(errors.IdentityTaken):  # nor from a message read before the erasure
        store.record_inbound(replace(later(write, "SM2", T0), contact_language="da"))
    assert store.contact_language(write.contact_id) == "en"
    store.forget_contact(write.contact_id)
    assert store.contact_language(write.contact_id) is None
    assert store.contact(write.contact_id).language is None
    assert "language" not in store.personal_data(store.contact(write.contact_id), []).contact


def test_template_versions_follow_each_other_and_the_latest_is_the_override(store):
    from chalicelib.domain.wording import TemplateVersion

    v1 = TemplateVersion("da", "sms.ack_open", "Hej", 1, "boss", T0)
    v2 = replace(v1, text="Hej igen", version=2, at=T0 + timedelta(minutes=1))
    assert store.template_overrides() == []
    assert store.save_template(v1) is True
    assert store.save_template(replace(v1, text="Hej, samtidig")) is False  # version 1 is taken
    assert store.save_template(replace(v2, version=3)) is False  # no version 2 yet
    assert store.save_template(v2) is True
    assert store.template_overrides() == [v2]
    assert store.template_versions("da", "sms.ack_open") == [v1, v2]
    assert store.template_versions("en", "sms.ack_open") == []


QUEUES = ("general", "careers", "education")


def inbox_of_ten(store) -> list[str]:
    """Ten cases a minute apart, in turn in general, careers and education; anna (general and
    careers) was handed cases 0 and 3; case 6 is closed. Their ids, in order."""
    store.create_practitioner(Practitioner("anna", "Anna", QUEUES[:2], ("da",), 10))
    ids = []
    for n in range(10):
        write = first(
            Identity("phone", f"+452000{n:04d}"), sid=f"SM{n}", at=T0 + timedelta(minutes=n)
        )
        write = replace(write, opening=replace(write.opening, queue=QUEUES[n % 3]))
        store.record_inbound(write)
        ids.append(write.case_id)
    store.assign(ref(store, ids[0]), "anna", T0 + timedelta(hours=1), require_on_duty=False)
    store.assign(ref(store, ids[3]), "anna", T0 + timedelta(hours=2), require_on_duty=False)
    store.close(ref(store, ids[6]), "answered", "boss", T0 + timedelta(hours=3))
    return ids


def every_page(read, limit: int) -> list[str]:
    """Every page of a view, following its cursor: the ids in the order shown."""
    seen, after = [], None
    for _ in range(30):
        cases, after = read(after, limit)
        seen += [c.id for c in cases]
        if after is None:
            return seen
    raise AssertionError("the cursor never ended")


def test_a_practitioners_page_reads_their_profile_own_cases_and_queues_alike(store):
    ids = inbox_of_ten(store)
    profile, mine, more = store.practitioner_page("anna", None, 10)
    assert profile.queues == QUEUES[:2] and [c.id for c in mine] == [ids[0], ids[3]]
    assert more is None
    profile, mine, more = store.practitioner_page("anna", None, 1)
    assert [c.id for c in mine] == [ids[0]] and more is not None
    assert [c.id for c in store.practitioner_page("anna", more, 1)[1]] == [ids[3]]
    assert store.practitioner_page("anna", None, 0)[1:] == ([], None)  # the profile only
    assert store.practitioner_page("zoe", None, 5) == (None, [], None)
    assert every_page(lambda a, n: store.mine_page("anna", a, n), 1) == [ids[0], ids[3]]
    waiting = [ids[n] for n in (1, 4, 7, 9)]  # careers; general's 0, 3 anna's, 6 closed
    assert every_page(lambda a, n: store.waiting_page(frozenset(QUEUES[:2]), a, n), 2) == waiting
    only_sms = InboxFilter(channel="sms", needs_reply=True)
    assert [c.id for c in store.waiting_page(frozenset(QUEUES[:2]), None, 10, only_sms)[0]] == (
        waiting
    )
    assert store.waiting_page(frozenset(QUEUES[:2]), None, 10, InboxFilter("email"))[0] == []
    with pytest.raises(InvalidCursor):
        store.mine_page("anna", "MINE#bea", 5)
    assert (store.count_mine("anna"), store.count_waiting("careers")) == (2, 3)


def test_the_managers_views_page_newest_first_alike(store):
    ids = inbox_of_ten(store)
    open_ = [i for i in reversed(ids) if i != ids[6]]

    def view(**asked):
        query = InboxQuery(False, frozenset({"queued", "assigned"}), **asked)
        return lambda after, n: store.inbox_page(replace(query, cursor=after, limit=n))

    assert every_page(view(), 3) == open_  # none twice, none lost
    assert every_page(view(), 100) == open_
    assert every_page(view(queues=frozenset({"careers"})), 2) == [ids[7], ids[4], ids[1]]
    assert every_page(view(assignee="anna"), 1) == [ids[3], ids[0]]
    assert every_page(view(only=InboxFilter(needs_reply=False)), 2) == []
    closed = InboxQuery(True, frozenset({"closed"}))
    assert store.inbox_page(closed) == ([store.get_case(ids[6])], None)
    assert store.count_open() == 9
    for forged in ("x", "e30=", "A" * 3000):
        with pytest.raises(InvalidCursor):
            store.inbox_page(InboxQuery(False, frozenset({"queued"}), cursor=forged))


def test_scrubbing_a_case_drops_its_risks_words_and_keeps_its_level(store):
    from chalicelib.domain.risk import Risk

    write = first()
    store.record_inbound(write)
    store.scrub_case(write.case_id)  # never flagged: nothing to drop, and no error
    assert store.get_case(write.case_id).risk is None
    flag = Risk("high", ("panodil", "i nat"), "anna", "2026-11-24T10:00:00Z", "quoted panodil")
    store.set_risk(write.case_id, flag, only_if_higher=False)
    store.scrub_case(write.case_id)
    risk = store.get_case(write.case_id).risk
    assert (risk.level, risk.reasons, risk.note, risk.at) == ("high", (), None, flag.at)


def test_a_message_recorded_for_sending_is_due_when_its_lease_ends_unless_its_status_came(store):
    write, _ = replied(store, T0)
    lease = T0 + timedelta(minutes=3)
    leased = replace(reply(write.case_id, T0 + timedelta(seconds=1)), lease_until=lease)
    store.add_interaction(leased)
    assert [e.interaction_id for e in store.due(lease - timedelta(seconds=1))] == []
    [entry] = store.due(lease)
    assert (entry.interaction_id, entry.attempts, entry.to) == (leased.id, 0, PHONE.value)
    assert store.update_delivery_status(write.case_id, leased.id, StatusUpdate("sent", 3))
    assert store.claim(entry, lease + timedelta(minutes=5)) is False  # the provider has it
    assert store.due(T0 + timedelta(days=1)) == []
    [*_, out] = store.get_case(write.case_id, with_timeline=True).timeline
    assert (out.id, out.status, out.lease_until) == (leased.id, "sent", None)


def test_active_minutes_count_each_minute_once_per_practitioner_and_hour(store):
    ten = T0.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for at, user in (
        (ten + timedelta(minutes=5), "anna"),
        (ten + timedelta(minutes=5, seconds=30), "anna"),  # the same minute again
        (ten + timedelta(minutes=6), "anna"),
        (ten + timedelta(minutes=6), "jonas"),
        (ten + timedelta(minutes=61), "anna"),  # the next hour
    ):
        store.record_active_minute("c1", user, "sms", at)
    found = store.active_time(ten, ten + timedelta(hours=2))
    assert sorted((a.user_id, a.hour, a.minutes, a.channel) for a in found) == [
        ("anna", ten, 2, "sms"),
        ("anna", ten + timedelta(hours=1), 1, "sms"),
        ("jonas", ten, 1, "sms"),
    ]
    assert store.active_time(ten + timedelta(hours=2), ten + timedelta(hours=3)) == []
