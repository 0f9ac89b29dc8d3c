"""Issue 19 follow-up against DynamoDB Local: a practitioner lowers a case's risk only over
every citizen message she read. Urgent words on a case already high change nothing by the
rules, so a lowering landing after them would leave them unread at "none". The lowering's
write is conditional on the case's count of citizen messages as read with her `seen` check,
in the same UpdateItem that writes the risk, so a message landing at any moment wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain import casework, intake, safeguarding
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import make_services, seen

URGENT = "I have 40 paracetamol and I'm going to take them all tonight"
WORSE = "I took them all. I want to die"
ANNA = Actor("anna", "practitioner")
CASES, ROUNDS = 6, 3


def sms(n: int, body: str) -> InboundMessage:
    """A message from the n-th citizen (a new provider id each time: not a retry)."""
    return InboundMessage("sms", "twilio", new_id(), Identity("phone", f"+4522{n:06d}"), "", body)


@pytest.fixture
def deps(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da", "en"), 3))
    return make_services(store, clock)


def inbound_ids(store, case_id: str) -> set[str]:
    case = store.get_case(case_id, with_timeline=True)
    return {e.id for e in case.timeline if e.direction == "in"}


def test_a_message_landing_inside_the_lowerings_write_refuses_it(deps, store, monkeypatch):
    """Made to happen every time: the citizen's urgent message lands after the store read the
    case for the lowering and before its UpdateItem; the condition refuses it, 409 with the
    message, and the case stays high."""
    case_id = intake.receive(deps, sms(1, URGENT)).case_id
    read = seen(case_id, store)
    write = store.client.update_item
    landed: list[str] = []

    def update_item(**request):
        if not landed and ":inbound" in request.get("ExpressionAttributeValues", {}):
            landed.append(intake.receive(deps, sms(1, WORSE)).case_id)
        return write(**request)

    monkeypatch.setattr(store.client, "update_item", update_item)
    with pytest.raises(casework.UnseenMessages) as refused:
        safeguarding.change(deps, ANNA, case_id, "none", "A song lyric", seen=read)
    assert landed == [case_id]
    assert [m.body for m in refused.value.messages] == [WORSE]
    case = store.get_case(case_id)
    assert case.risk.level == "high" and case.risk.by == "rules"


def test_lowerings_racing_urgent_messages_land_only_over_what_was_read(deps, store):
    """Real threads: on each of several high cases, a practitioner lowers what she read while
    the citizen writes urgent words again. Every lowering that landed was written while the
    case held exactly the messages she had read (the case as the write left it counts them);
    the others were refused, and the case stayed high."""
    cases = [intake.receive(deps, sms(n, URGENT)).case_id for n in range(CASES)]
    landed: list[tuple[int, int]] = []
    refused: list[str] = []
    lock = threading.Lock()

    def lower(case_id: str) -> None:
        case = store.get_case(case_id, with_timeline=True)  # her screen: one read
        read = case.timeline[-1].id
        try:
            written = safeguarding.change(deps, ANNA, case_id, "none", "A lyric", seen=read)
        except Conflict:
            with lock:
                refused.append(case_id)
            return
        with lock:
            landed.append((written.inbound_count, case.inbound_count))

    for _ in range(ROUNDS):
        with ThreadPoolExecutor(max_workers=2 * CASES) as pool:
            work = [pool.submit(lower, case_id) for case_id in cases]
            work += [pool.submit(intake.receive, deps, sms(n, WORSE)) for n in range(CASES)]
            for future in work:
                future.result()
        for case_id in cases:
            case = store.get_case(case_id)
            # her lowering came last, or the citizen's urgent words raised it again after it
            assert case.risk.level == "high" or case.risk.by == "anna"
            if case.risk.level != "high":  # the next round starts from high
                safeguarding.change(deps, ANNA, case_id, "high", "Next round")

    assert len(landed) + len(refused) == CASES * ROUNDS
    assert landed, "no lowering landed: the race never ran both ways"
    unread = [(wrote, read) for wrote, read in landed if wrote != read]
    assert not unread, f"lowerings over messages their author never read: {unread}"
