"""The satisfaction question in web chat: a card in the open conversation once its case is
closed with an answer, rated once under the conversation's token, never asked of a citizen who
has left."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, seen
from tests.integration.test_chat_api import anna, chat_case, get, post, start  # noqa: F401

ANNA = bearer("anna", "practitioner")
pytestmark = pytest.mark.usefixtures("anna")  # on duty, so the chat's case is hers


def close(api, case_id: str, outcome: str = "answered") -> None:
    status, _ = post(
        api, f"/cases/{case_id}/close", {"outcome": outcome, "seen": seen(case_id)}, ANNA
    )
    assert status == 200


def answered_and_closed(api, local_services, outcome: str = "answered") -> tuple[str, str]:
    token = start(api, language="en", body="Which school for nursing?")["token"]
    case_id = chat_case(local_services.store)["id"]
    status, _ = post(
        api, f"/cases/{case_id}/replies", {"body": "Try UCN", "seen": seen(case_id)}, ANNA
    )
    assert status == 201
    close(api, case_id, outcome)
    return token, case_id


def cards(api, token: str) -> list[dict]:
    _, answer = get(api, f"/chat/conversations/{token}/messages?wait=0")
    return [m for m in answer["messages"] if "survey" in m]


def test_the_card_comes_after_the_close_and_the_rating_is_kept_once(api, local_services):
    token, case_id = answered_and_closed(api, local_services)
    [card] = cards(api, token)
    assert card["from"] == "service" and card["survey"] == {"ratings": [1, 2, 3, 4, 5]}
    assert card["body"] == "How did we do? 1 is poor, 5 is very good."
    path = f"/chat/conversations/{token}/rating"
    assert post(api, path, {"rating": 5, "comment": "Very\u202e helpful"})[0] == 204
    status, again = post(api, path, {"rating": 1})
    assert status == 409 and again["error"]["code"] == "already_rated"
    case = local_services.store.get_case(case_id, with_timeline=True)
    [rating] = [i for i in case.timeline if i.status == "rating"]
    assert (rating.rating, rating.author, rating.channel) == (5, "anna", "chat")
    assert rating.body == "Rated 5 of 5: Very helpful"  # the bidi override dropped
    assert case.rating == 5


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 4.5},
        {"rating": True},
        {},
        {"rating": 3, "comment": "x" * 1001},
        {"rating": 3, "extra": 1},
    ],
)
def test_anything_but_a_rating_1_to_5_is_a_400_and_rates_nothing(api, local_services, body):
    token, case_id = answered_and_closed(api, local_services)
    status, answer = post(api, f"/chat/conversations/{token}/rating", body)
    assert status == 400 and answer["error"]
    timeline = local_services.store.get_case(case_id, with_timeline=True).timeline
    assert not [i for i in timeline if i.status == "rating"]


def test_an_unknown_or_ended_token_is_404_and_reveals_nothing(api, local_services):
    token, _ = answered_and_closed(api, local_services)
    status, unknown = post(api, "/chat/conversations/" + "x" * 43 + "/rating", {"rating": 5})
    assert status == 404
    assert post(api, f"/chat/conversations/{token}/end")[0] == 204
    status, ended = post(api, f"/chat/conversations/{token}/rating", {"rating": 5})
    assert status == 404 and ended == unknown


def test_nothing_is_asked_of_a_citizen_who_left_or_of_a_case_not_answered(api, local_services):
    token = start(api, language="en", body="Hello")["token"]
    case_id = chat_case(local_services.store)["id"]
    assert post(api, f"/chat/conversations/{token}/end")[0] == 204
    close(api, case_id)
    timeline = local_services.store.get_case(case_id, with_timeline=True).timeline
    asked = [i for i in timeline if i.status == "survey-asked" or i.body.startswith("How did we")]
    assert asked == []


def test_no_card_for_a_case_closed_without_an_answer_and_no_rating_then(api, local_services):
    token, _ = answered_and_closed(api, local_services, outcome="no_reply_needed")
    assert cards(api, token) == []
    status, answer = post(api, f"/chat/conversations/{token}/rating", {"rating": 5})
    assert status == 409 and answer["error"]["code"] == "not_asked"


def test_ratings_sent_at_once_from_many_tabs_keep_exactly_one(api, local_services):
    """A citizen (or a script with their token) sends the card's answer from eight places at
    the same moment: one rating is kept, on the timeline and the case alike; the rest are 409."""
    import threading

    from chalicelib.domain import satisfaction
    from chalicelib.domain.errors import Conflict

    token, case_id = answered_and_closed(api, local_services)
    kept, refused = [], []
    start_together = threading.Barrier(8)

    def rate(rating: int) -> None:
        start_together.wait()
        try:
            satisfaction.answer_chat(local_services, token, rating, f"from tab {rating}")
            kept.append(rating)
        except Conflict as error:
            refused.append(error.code)

    tabs = [threading.Thread(target=rate, args=(1 + n % 5,)) for n in range(8)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(30)
    assert len(kept) == 1 and refused == ["already_rated"] * 7
    case = local_services.store.get_case(case_id, with_timeline=True)
    ratings = [i for i in case.timeline if i.status == "rating"]
    assert [r.rating for r in ratings] == kept and case.rating == kept[0]
