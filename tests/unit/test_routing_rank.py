"""The ranking alone: who is offered a case first (pure, no storage)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.model import CaseRef, Practitioner
from chalicelib.domain.routing import rank

CASE = CaseRef("c1", "education", None, "contact-1")


def p(pid, queues=("education",), languages=("da",), active=0, cap=5, on=True, last=None):
    return Practitioner(pid, pid, tuple(queues), tuple(languages), cap, on, active, last)


def ids(practitioners):
    return [x.id for x in practitioners]


def test_only_on_duty_practitioners_of_the_queue_with_room():
    candidates = [p("off", on=False), p("other", queues=("careers",)), p("full", active=5), p("ok")]
    assert ids(rank(candidates, CASE)) == ["ok"]


def test_those_who_speak_the_case_language_come_first_even_before_the_previous_one():
    # Issue 18 changed this from "must speak it": a case nobody on duty speaks still goes to
    # someone rather than waiting.
    arabic = CaseRef("c2", "education", "ar", "contact-2")
    candidates = [p("da"), p("ar", languages=("da", "ar"), active=3)]
    assert ids(rank(candidates, arabic, previous="da")) == ["ar", "da"]


def test_least_loaded_then_longest_idle():
    early = datetime(2026, 11, 24, 8, tzinfo=UTC)
    late = datetime(2026, 11, 24, 9, tzinfo=UTC)
    candidates = [
        p("busy", active=3),
        p("recent", active=1, last=late),
        p("idle", active=1, last=early),
        p("never", active=1),
    ]
    assert ids(rank(candidates, CASE)) == ["never", "idle", "recent", "busy"]


def test_the_previous_practitioner_comes_first_when_they_can_take_it():
    candidates = [p("a"), p("b", active=4)]
    assert ids(rank(candidates, CASE, previous="b")) == ["b", "a"]
    assert ids(rank([p("a"), p("b", active=5)], CASE, previous="b")) == ["a"]


def test_excluded_practitioners_are_skipped():
    assert ids(rank([p("a"), p("b")], CASE, exclude=frozenset({"a"}))) == ["b"]
