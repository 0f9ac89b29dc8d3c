"""The inbox's counts under real concurrency, against DynamoDB Local: while cases arrive, are
routed and are closed from many threads, the figures beside the inbox match the cases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from chalicelib.domain import casework, privacy, webinars
from chalicelib.domain.model import Actor, Identity
from tests.conftest import Requests, deps_of
from tests.integration.test_routing import new_case, practitioner, together

BOSS = Actor("boss", "manager")


def close_some_of(store, clock, pid: str, closes: int) -> None:
    """Closes cases the practitioner holds, one by one: each close routes them the next."""
    actor = Actor(pid, "practitioner")
    for _ in range(closes):
        [case, *_] = casework.inbox(deps_of(store, clock()), actor, status="assigned")[0]
        seen = store.get_case(case.id, with_timeline=True).timeline[-1].id
        casework.close(deps_of(store, clock()), case.id, actor, "answered", seen=seen)


def test_counts_match_the_cases_after_concurrent_routing_and_closing(store, clock):
    for pid, queues in (("anna", ("general",)), ("jonas", ("general",)), ("sara", ("careers",))):
        practitioner(store, pid, queues=queues, cap=3, clock=clock)
    case_ids = together(30, lambda i: new_case(store, clock, i))
    assert casework.inbox_counts(deps_of(store, clock()), Actor("anna", "practitioner")) == {
        "mine": 3,
        "waiting": 24,
        "mentions": 0,
    }

    def act(i: int) -> object:  # two closers among new citizens being routed
        if i < 2:
            return close_some_of(store, clock, ("anna", "jonas")[i], 8)
        return new_case(store, clock, 100 + i)

    case_ids += [c for c in together(22, act) if isinstance(c, str)]

    cases = [store.get_case(c) for c in case_ids]
    held = Counter(c.assignee for c in cases if c.status == "assigned")
    waiting = sum(c.status == "queued" for c in cases)
    assert sum(c.status == "closed" for c in cases) == 16 and waiting == 50 - 16 - 6
    for pid in ("anna", "jonas"):
        counts = casework.inbox_counts(deps_of(store, clock()), Actor(pid, "practitioner"))
        assert counts == {"mine": held[pid], "waiting": waiting, "mentions": 0}
    assert casework.inbox_counts(deps_of(store, clock()), BOSS) == {
        "open": waiting + sum(held.values()),
        "waiting": {"careers": 0, "general": waiting},
    }


def open_count_is_the_cases(store, clock, case_ids) -> None:
    """The managers' count (the shards' counters) against the cases themselves."""
    cases = [store.get_case(c) for c in case_ids]
    open_ = sum(c.status != "closed" and c.id not in BOOKED for c in cases)
    assert store.count_open() == open_
    assert casework.inbox_counts(deps_of(store, clock()), BOSS)["open"] == open_


BOOKED: set[str] = set()  # cases of bookings only: in no inbox, so in no count


def test_the_open_count_stays_exact_under_concurrent_closes_reopens_erasures_and_arrivals(
    store, clock
):
    case_ids = [new_case(store, clock, i) for i in range(16)]
    deps = deps_of(store, clock())
    for case_id in case_ids[:4]:
        casework.close(deps, case_id, BOSS, "answered", seen=last_event(store, case_id))
    open_count_is_the_cases(store, clock, case_ids)
    contacts = {c: store.get_case(c).contact_id for c in case_ids}

    def act(i: int) -> object:  # each closed case reopened twice, each open one closed twice
        deps = deps_of(store, clock())
        if i < 8:
            return casework.reopen(deps, case_ids[i % 4], BOSS)
        if i < 16:
            case_id = case_ids[4 + i % 4]
            return casework.close(deps, case_id, BOSS, "answered", seen=last_event(store, case_id))
        if i < 20:  # erasure closes the citizen's open case
            return privacy.erase(deps, contacts[case_ids[i - 8]], "boss")
        return new_case(store, clock, 100 + i)

    arrived = [c for c in together(26, act) if isinstance(c, str)]
    assert len(arrived) == 6
    statuses = Counter(store.get_case(c).status for c in case_ids)
    assert statuses == {"queued": 8, "closed": 8}  # 4 reopened; 4 closed, 4 erased
    open_count_is_the_cases(store, clock, case_ids + arrived)
    counted = Requests(store.client)
    store.count_open()
    assert counted.calls == ["BatchGetItem"]  # the shards' counters, not the cases


def test_a_case_of_bookings_only_closed_by_an_erasure_leaves_the_count_alone(store, clock):
    from chalicelib.domain.model import Webinar

    case_ids = [new_case(store, clock, i) for i in range(2)]
    store.create_webinar(
        Webinar("w1", "Choosing", clock() + timedelta(days=2), 60, 5, 5, "general", "https://x")
    )
    deps = deps_of(store, clock())
    webinars.book(deps, deps.webinar("w1"), {"phone": "+4520000009", "consent": True})
    booked = store.find_identity(Identity("phone", "+4520000009")).open_case_id
    BOOKED.add(booked)
    open_count_is_the_cases(store, clock, [*case_ids, booked])
    privacy.erase(deps, store.get_case(booked).contact_id, "boss")
    assert store.get_case(booked).status == "closed"
    open_count_is_the_cases(store, clock, [*case_ids, booked])
    privacy.erase(deps, store.get_case(case_ids[0]).contact_id, "boss")
    assert store.count_open() == 1


def last_event(store, case_id: str) -> str:
    return store.get_case(case_id, with_timeline=True).timeline[-1].id
