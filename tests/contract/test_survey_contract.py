"""The satisfaction part of the store's contract, on the in-memory fake and DynamoDB Local."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters.memory import MemoryStore
from chalicelib.domain.model import Interaction, Survey
from tests.contract.test_store_contract import OTHER, T0, first


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue("local_store")


def rating(case_id: str, n: int, suffix: str = "") -> Interaction:
    return Interaction(
        f"20261124T100000000000Z-0000000{n}{suffix}",
        case_id,
        T0 + timedelta(hours=1),
        "sms",
        "in",
        f"Rated {n} of 5",
        status="rating",
        rating=n,
        author="anna",
    )


def test_a_case_is_asked_once_and_answered_once(store):
    write = first()
    store.record_inbound(write)
    asked = Survey(write.case_id, "sms", T0, "anna", "da")
    until = T0 + timedelta(days=7)
    assert store.start_survey("phone#abc", asked, until)
    assert not store.start_survey("phone#other", asked, until)  # the same case again
    assert store.find_survey("phone#other", T0) is None
    assert store.find_survey("phone#abc", T0) == asked
    assert store.find_survey("phone#abc", until) is None  # expired
    assert store.answer_survey("phone#abc", 4, "SM1", rating(write.case_id, 4))
    assert not store.answer_survey("phone#abc", 2, "SM2", rating(write.case_id, 2, "x"))
    assert store.find_survey("phone#abc", T0) == Survey(
        write.case_id, "sms", T0, "anna", "da", rating=4, answered_by="SM1"
    )
    case = store.get_case(write.case_id, with_timeline=True)
    assert [(e.status, e.rating, e.author) for e in case.timeline if e.rating] == [
        ("rating", 4, "anna")
    ]
    assert case.rating == 4  # the case holds its first answer, whenever it came
    assert not store.answer_survey("phone#nobody", 5, "SM3", rating(write.case_id, 5, "y"))


def test_forgetting_a_cases_question_leaves_a_newer_one_under_the_same_key(store):
    erased, later = first(sid="SM1"), first(OTHER, sid="SM2")
    store.record_inbound(erased)
    store.record_inbound(later)
    until = T0 + timedelta(days=7)
    assert store.start_survey("phone#abc", Survey(erased.case_id, "sms", T0, "anna", "da"), until)
    store.forget_survey(erased.case_id)
    assert store.find_survey("phone#abc", T0) is None
    assert not store.answer_survey("phone#abc", 4, "SM9", rating(erased.case_id, 4))
    assert not store.start_survey("phone#abc", Survey(erased.case_id, "sms", T0), until)

    newer = Survey(later.case_id, "sms", T0, "anna", "da")
    assert store.start_survey("phone#abc", newer, until)
    store.forget_survey(erased.case_id)  # erasing again: the number's newer question stays
    assert store.find_survey("phone#abc", T0) == newer
