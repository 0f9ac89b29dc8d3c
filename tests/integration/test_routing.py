"""Routing and claiming under real concurrency, against DynamoDB Local."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib.domain import casework, intake, routing, staffing
from chalicelib.domain.errors import Conflict
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import deps_of

HOURS = demo_hours()


def practitioner(store, pid, queues=("general",), cap=5, on_duty=True, clock=None):
    store.create_practitioner(Practitioner(pid, pid.title(), tuple(queues), ("da",), cap))
    if on_duty:
        staffing.set_duty(deps_of(store, clock()), Actor(pid, "practitioner"), True)


def new_case(store, clock, n: int, number: str | None = None) -> str:
    sender = Identity("phone", number or f"+4531{n:06d}")
    message = InboundMessage("sms", "twilio", f"SM{n:032x}", sender, "+4570203040", f"hello {n}")
    return intake.receive(deps_of(store, clock, hours=HOURS), message).case_id


def together(count: int, action):
    start = threading.Barrier(count)

    def run(i):
        start.wait(timeout=10)
        try:
            return action(i)
        except Conflict as refused:
            return refused

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_a_new_case_goes_to_an_on_duty_practitioner_of_its_queue(store, clock):
    practitioner(store, "anna", clock=clock)
    case = store.get_case(new_case(store, clock, 1))
    assert (case.status, case.assignee) == ("assigned", "anna")
    assert store.get_practitioner("anna").active_cases == 1


def test_nobody_on_duty_the_case_waits_and_is_offered_when_someone_comes_on(store, clock):
    practitioner(store, "anna", on_duty=False, clock=clock)
    first, second = new_case(store, clock, 1), new_case(store, clock, 2)
    assert store.get_case(first).status == "queued"
    staffing.set_duty(deps_of(store, clock()), Actor("anna", "practitioner"), True)
    assert store.get_case(first).assignee == "anna" and store.get_case(second).assignee == "anna"


def test_oldest_waiting_case_is_offered_first_when_a_slot_frees(store, clock):
    practitioner(store, "anna", cap=1, clock=clock)
    held, older, newer = (new_case(store, clock, n) for n in (1, 2, 3))
    assert store.get_case(held).assignee == "anna"
    anna = Actor("anna", "practitioner")
    casework.close(
        deps_of(store, clock()),
        held,
        anna,
        "answered",
        seen=store.get_case(held, with_timeline=True).timeline[-1].id,
    )
    assert store.get_case(older).assignee == "anna"
    assert store.get_case(newer).status == "queued"


def test_ten_concurrent_claims_of_one_case_have_one_winner(store, clock):
    for i in range(10):
        practitioner(store, f"p{i}", on_duty=False, clock=clock)
    case_id = new_case(store, clock, 1)
    assert store.get_case(case_id).status == "queued"
    results = together(
        10,
        lambda i: casework.claim(deps_of(store, clock()), case_id, Actor(f"p{i}", "practitioner")),
    )
    winners = [r for r in results if not isinstance(r, Conflict)]
    assert len(winners) == 1
    assert all(r.code == "not_claimable" for r in results if isinstance(r, Conflict))
    assert store.get_case(case_id).assignee == winners[0].assignee
    loads = {p.id: p.active_cases for p in store.list_practitioners()}
    assert sorted(loads.values()) == [0] * 9 + [1]


def test_50_cases_routed_concurrently_to_3_practitioners_never_exceed_capacity(store, clock):
    for pid in ("anna", "jonas", "sara"):
        practitioner(store, pid, cap=5, clock=clock)
    case_ids = together(50, lambda i: new_case(store, clock, 100 + i))
    cases = [store.get_case(c) for c in case_ids]
    assigned = [c for c in cases if c.status == "assigned"]
    assert len(assigned) == 15 and sum(c.status == "queued" for c in cases) == 35
    for p in store.list_practitioners():
        mine = [c for c in assigned if c.assignee == p.id]
        assert len(mine) == p.active_cases == 5


def test_unanswered_cases_go_back_to_the_queue_and_to_someone_else(store, clock):
    practitioner(store, "anna", cap=1, clock=clock)
    case_id = new_case(store, clock, 1)
    practitioner(store, "jonas", cap=1, clock=clock)
    assert store.get_case(case_id).assignee == "anna"
    assert (
        routing.requeue_unanswered(
            deps_of(store, clock() + timedelta(minutes=29)), timedelta(minutes=30)
        )
        == []
    )
    moved = routing.requeue_unanswered(
        deps_of(store, clock() + timedelta(minutes=31)), timedelta(minutes=30)
    )
    assert moved == [case_id]
    assert store.get_case(case_id).assignee == "jonas"
    assert store.get_practitioner("anna").active_cases == 0


def test_an_answered_case_is_not_requeued(store, clock):
    from tests.conftest import make_services

    practitioner(store, "anna", clock=clock)
    case_id = new_case(store, clock, 1)
    casework.reply(
        make_services(store, clock), case_id, Actor("anna", "practitioner"), "Hi! Tell me more."
    )
    case = store.get_case(case_id)
    assert case.first_response_at is not None
    assert (
        routing.requeue_unanswered(
            deps_of(store, clock() + timedelta(hours=5)), timedelta(minutes=30)
        )
        == []
    )


def test_a_returning_citizen_reaches_the_same_practitioner(store, clock):
    for pid in ("anna", "jonas", "sara"):
        practitioner(store, pid, clock=clock)
    first = store.get_case(new_case(store, clock, 1, number="+4520000001"))
    anna = Actor(first.assignee, "practitioner")
    casework.close(
        deps_of(store, clock()),
        first.id,
        anna,
        "answered",
        seen=store.get_case(first.id, with_timeline=True).timeline[-1].id,
    )
    # others are now less loaded or longer idle: without memory, someone else would get it
    second = store.get_case(new_case(store, clock, 2, number="+4520000001"))
    assert second.id != first.id and second.assignee == first.assignee


def test_pagination_returns_every_case_exactly_once(store, clock):
    practitioner(store, "anna", on_duty=False, clock=clock)
    created = {new_case(store, clock, n) for n in range(23)}
    seen, cursor, pages = [], None, 0
    while True:
        cases, cursor = casework.inbox(
            deps_of(store, None), Actor("boss", "manager"), cursor=cursor, limit=5
        )
        seen += [c.id for c in cases]
        pages += 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    assert pages >= 5


def test_an_sms_keyword_routes_to_that_queues_practitioner(store, clock):
    from chalicelib.channels.twilio_sms import parse_inbound
    from tests.twilio_fakes import sms_form

    practitioner(store, "anna", queues=("general",), clock=clock)
    practitioner(store, "omar", queues=("careers",), clock=clock)
    message = parse_inbound(sms_form("+4520000042", "CAREERS which jobs fit me?"))
    case = store.get_case(intake.receive(deps_of(store, clock, hours=HOURS), message).case_id)
    assert (case.queue, case.assignee) == ("careers", "omar")


def test_the_every_minute_schedule_requeues_and_offers(local_services, clock):
    from chalice.test import Client

    import app as application

    store = local_services.store
    practitioner(store, "anna", cap=1, clock=clock)
    case_id = new_case(store, clock, 1)
    practitioner(store, "jonas", cap=1, clock=clock)
    clock.at += timedelta(minutes=31)
    with Client(application.app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        result = client.lambda_.invoke("route_waiting_cases", event)
    assert result.payload == {"requeued": 1, "offered": 0}
    assert store.get_case(case_id).assignee == "jonas"
