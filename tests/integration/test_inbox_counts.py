"""The inbox's counts under real concurrency, against DynamoDB Local: while cases arrive, are
routed and are closed from many threads, the figures beside the inbox match the cases."""

from __future__ import annotations

from collections import Counter

from chalicelib.domain import casework
from chalicelib.domain.model import Actor
from tests.conftest import deps_of
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
