"""Issue 14, items 5, 7 and part of 6: authorization follows assignment, a close never buries an
unseen message, and a reply racing a close or transfer never sends and then fails."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from chalicelib.adapters.senders import Sent
from chalicelib.domain import casework
from chalicelib.domain.errors import Conflict
from chalicelib.domain.model import Actor, Practitioner
from tests.conftest import bearer, deps_of
from tests.twilio_fakes import signed, sms_form

ANNA = bearer("anna", "practitioner")  # serves general; will hold the case
BEA = bearer("bea", "practitioner")  # also serves general: a colleague, not the assignee
BOSS = bearer("boss", "manager")
JSON = {"Content-Type": "application/json"}
CITIZEN = "+4520000001"


def call(api, method: str, path: str, headers: dict, body: dict | None = None):
    kwargs: dict[str, Any] = {"headers": {**headers, **(JSON if body is not None else {})}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return getattr(api, method.lower())(path, **kwargs)


def text_in(api, body: str) -> None:
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", sms_form(CITIZEN, body)))


@pytest.fixture
def case_id(api, local_services) -> str:
    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 5))
    store.create_practitioner(Practitioner("bea", "Bea", ("general",), ("da",), 5))
    text_in(api, "I need help")
    [case] = [
        i for i in store.client.scan(TableName=store.table)["Items"] if i["type"]["S"] == "case"
    ]
    return case["id"]["S"]


@pytest.fixture
def held(api, case_id) -> str:
    """The case, claimed by Anna."""
    assert call(api, "POST", f"/cases/{case_id}/claim", ANNA).status_code == 200
    return case_id


def latest(api, case_id: str, who: dict) -> str:
    """The id of the newest timeline event `who` sees when opening the case."""
    return json.loads(call(api, "GET", f"/cases/{case_id}", who).body)["timeline"][-1]["id"]


def error(answer) -> dict:
    return json.loads(answer.body)["error"]


# --- item 5: authorization follows assignment ----------------------------------------------


def test_a_colleague_cannot_transfer_an_assigned_case_to_themselves(api, held, local_services):
    answer = call(api, "POST", f"/cases/{held}/transfer", BEA, {"practitioner_id": "bea"})
    assert answer.status_code == 403
    assert local_services.store.get_case(held).assignee == "anna"
    seen = latest(api, held, BEA)
    reply = call(api, "POST", f"/cases/{held}/replies", BEA, {"body": "Hi, Bea here", "seen": seen})
    assert reply.status_code == 403


def test_a_colleague_cannot_move_an_assigned_case_to_another_queue(api, held, local_services):
    answer = call(api, "POST", f"/cases/{held}/transfer", BEA, {"queue": "careers"})
    assert answer.status_code == 403
    case = local_services.store.get_case(held)
    assert (case.queue, case.assignee) == ("general", "anna")


def test_the_assignee_and_managers_may_transfer(api, held, local_services):
    assert (
        call(api, "POST", f"/cases/{held}/transfer", ANNA, {"queue": "careers"}).status_code == 200
    )
    assert local_services.store.get_case(held).queue == "careers"
    moved = call(api, "POST", f"/cases/{held}/transfer", BOSS, {"practitioner_id": "bea"})
    assert moved.status_code == 200 and json.loads(moved.body)["assignee"] == "bea"


@pytest.mark.parametrize("who", [ANNA, BEA], ids=["assignee", "colleague"])
def test_only_managers_move_a_case_to_quarantine(api, held, local_services, who):
    answer = call(api, "POST", f"/cases/{held}/transfer", who, {"queue": "quarantine"})
    assert answer.status_code == 403
    assert local_services.store.get_case(held).queue == "general"
    boss = call(api, "POST", f"/cases/{held}/transfer", BOSS, {"queue": "quarantine"})
    assert boss.status_code == 200 and json.loads(boss.body)["queue"] == "quarantine"


def test_a_practitioner_cannot_quarantine_a_waiting_case_either(api, case_id, local_services):
    answer = call(api, "POST", f"/cases/{case_id}/transfer", BEA, {"queue": "quarantine"})
    assert answer.status_code == 403
    assert local_services.store.get_case(case_id).queue == "general"


def test_removal_from_a_queue_takes_effect_on_the_next_request(api, case_id, local_services):
    """The manager's change may land in another Lambda container: no cached profile decides."""
    assert call(api, "GET", f"/cases/{case_id}", BEA).status_code == 200
    assert [c["id"] for c in json.loads(call(api, "GET", "/inbox", BEA).body)["cases"]] == [case_id]
    local_services.store.update_practitioner("bea", {"queues": ("careers",)})
    assert call(api, "GET", f"/cases/{case_id}", BEA).status_code == 403
    assert call(api, "POST", f"/cases/{case_id}/notes", BEA, {"body": "x"}).status_code == 403
    assert call(api, "POST", f"/cases/{case_id}/claim", BEA).status_code == 403
    assert json.loads(call(api, "GET", "/inbox", BEA).body)["cases"] == []


def test_removal_through_the_api_takes_effect_at_once(api, case_id):
    assert call(api, "GET", f"/cases/{case_id}", BEA).status_code == 200
    update = call(api, "PUT", "/practitioners/bea", BOSS, {"queues": ["careers"]})
    assert update.status_code == 200
    assert call(api, "GET", f"/cases/{case_id}", BEA).status_code == 403


# --- item 6 (casework part): clear 4xx answers, nothing half done ---------------------------


def test_transfer_to_the_current_assignee_changes_nothing(api, held, local_services):
    answer = call(api, "POST", f"/cases/{held}/transfer", ANNA, {"practitioner_id": "anna"})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["assignee"] == "anna"
    assert local_services.store.get_practitioner("anna").active_cases == 1


def _cursor(plain: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor({"pk": "", "sk": "", "gsi1pk": "INBOX#open", "gsi1sk": ""}),
        _cursor({"pk": "CASE#x", "sk": "", "gsi1pk": "INBOX#open", "gsi1sk": "2026"}),
        _cursor({"pk": "CASE#" + "x" * 1000, "sk": "CASE", "gsi1pk": "INBOX#open", "gsi1sk": "2"}),
        _cursor({"pk": "CASE#x", "sk": "CASE", "gsi1pk": "INBOX#open", "gsi1sk": "9" * 1000}),
        _cursor({"pk": "CASE#x", "sk": "CASE", "gsi1pk": "INBOX#open", "gsi1sk": {"a": 1}}),
        _cursor(["pk", "sk", "gsi1pk", "gsi1sk"]),
        "A" * 5000,
    ],
    ids=["empty", "empty-sk", "huge-pk", "huge-sk", "non-string", "a-list", "huge-cursor"],
)
def test_forged_inbox_cursors_are_400(api, case_id, cursor):
    for who in (BOSS, BEA):
        answer = call(api, "GET", f"/inbox?cursor={cursor}", who)
        assert answer.status_code == 400, answer.body
        # Over 2 KB, the edge refuses any query value before the inbox reads the cursor.
        expected = "invalid_query" if len(cursor) > 2048 else "invalid_cursor"
        assert error(answer)["code"] == expected


def test_a_real_cursor_still_pages(api, case_id, local_services):
    text_in_other = sms_form("+4520000002", "Another question")
    api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", text_in_other))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        cases, cursor = casework.inbox(
            deps_of(local_services.store, None), Actor("boss", "manager"), cursor=cursor, limit=1
        )
        seen += [c.id for c in cases]
        if cursor is None:
            break
    assert case_id in seen and len(seen) == 2


@dataclass
class CountingSms:
    sent: list[str] = field(default_factory=list)

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        self.sent.append(body)
        return Sent(provider="local", provider_id=f"SM{len(self.sent)}", status="queued")


class ChangedAfterRead:
    """The store, but between a request's read of the case and its first write, `meanwhile`
    happens: a manager closes or transfers it, or the citizen writes (what a concurrent request
    does on another container)."""

    def __init__(self, store: Any, meanwhile: Any) -> None:
        self._store, self._meanwhile, self._done = store, meanwhile, False

    def get_case(self, *args: Any, **kwargs: Any) -> Any:
        case = self._store.get_case(*args, **kwargs)
        if not self._done:
            self._done = True
            self._meanwhile()
        return case

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("meanwhile", ["close", "transfer"])
def test_a_reply_racing_a_close_or_transfer_is_refused_before_sending(
    api, held, local_services, clock, meanwhile
):
    store = local_services.store
    seen = latest(api, held, ANNA)
    boss = Actor("boss", "manager")

    def change() -> None:
        fresh = store.get_case(held, with_timeline=True)
        if meanwhile == "close":
            casework.close(deps_of(store, clock()), held, boss, "other", seen=fresh.timeline[-1].id)
        else:
            casework.transfer(deps_of(store, clock()), held, boss, practitioner_id="bea")

    sms = CountingSms()
    deps = replace(local_services, store=ChangedAfterRead(store, change), sms=sms)
    before = len(store.get_case(held, with_timeline=True).timeline)
    with pytest.raises(Conflict) as refused:
        casework.reply(
            deps,
            held,
            Actor("anna", "practitioner"),
            "Here is what I found",
            seen=seen,
        )
    assert refused.value.status == 409
    assert refused.value.code == ("closed" if meanwhile == "close" else "changed")
    assert sms.sent == []
    after = store.get_case(held, with_timeline=True).timeline
    assert not [e for e in after if e.body == "Here is what I found"]
    assert len(after) == before + (1 if meanwhile == "close" else 0)


def test_a_reply_that_wins_the_race_is_recorded_and_sent(api, held, local_services, clock):
    store = local_services.store
    sms = CountingSms()
    anna = Actor("anna", "practitioner")
    seen = latest(api, held, ANNA)
    casework.reply(replace(local_services, sms=sms), held, anna, "First answer", seen=seen)
    assert sms.sent == ["First answer"]
    case = store.get_case(held, with_timeline=True)
    assert case.first_response_at is not None
    assert case.timeline[-1].body == "First answer" and case.timeline[-1].status == "queued"


# --- item 7: a close never buries a message the practitioner has not seen -------------------


def test_close_requires_the_latest_event_seen(api, held, local_services):
    answer = call(api, "POST", f"/cases/{held}/close", ANNA, {"outcome": "answered"})
    assert answer.status_code == 400
    assert local_services.store.get_case(held).status == "assigned"


def test_a_reply_requires_the_latest_event_seen(api, held, local_services):
    """Nobody answers a citizen past a message they have not read (a disclosure, say)."""
    before = len(local_services.store.get_case(held, with_timeline=True).timeline)
    answer = call(api, "POST", f"/cases/{held}/replies", ANNA, {"body": "All good?"})
    assert answer.status_code == 400 and "seen" in error(answer)["message"]
    assert len(local_services.store.get_case(held, with_timeline=True).timeline) == before


def test_a_close_with_an_unknown_seen_is_refused(api, held, local_services):
    answer = call(
        api, "POST", f"/cases/{held}/close", ANNA, {"outcome": "answered", "seen": "nope"}
    )
    assert answer.status_code == 400, answer.body
    assert local_services.store.get_case(held).status == "assigned"


def test_a_close_never_buries_a_message_that_arrived_since(api, held, local_services):
    seen = latest(api, held, ANNA)
    text_in(api, "Actually, one more thing: I feel unsafe at home")
    answer = call(api, "POST", f"/cases/{held}/close", ANNA, {"outcome": "answered", "seen": seen})
    assert answer.status_code == 409, answer.body
    refusal = error(answer)
    assert refusal["code"] == "unseen_messages"
    assert [m["body"] for m in refusal["unseen"]] == [
        "Actually, one more thing: I feel unsafe at home"
    ]
    case = local_services.store.get_case(held)
    assert (case.status, case.assignee) == ("assigned", "anna")
    now_seen = refusal["unseen"][-1]["id"]
    done = call(
        api, "POST", f"/cases/{held}/close", ANNA, {"outcome": "answered", "seen": now_seen}
    )
    assert done.status_code == 200 and json.loads(done.body)["status"] == "closed"


def test_notes_and_our_own_messages_since_do_not_block_a_close(api, held):
    seen = latest(api, held, ANNA)
    call(api, "POST", f"/cases/{held}/notes", BEA, {"body": "Colleague note"})
    answer = call(api, "POST", f"/cases/{held}/close", ANNA, {"outcome": "answered", "seen": seen})
    assert answer.status_code == 200, answer.body


def test_a_reply_to_a_stale_view_is_409_and_sends_nothing(api, held, local_services):
    seen = latest(api, held, ANNA)
    text_in(api, "Are you there?")
    before = len(local_services.store.get_case(held, with_timeline=True).timeline)
    answer = call(api, "POST", f"/cases/{held}/replies", ANNA, {"body": "Bye", "seen": seen})
    assert answer.status_code == 409, answer.body
    assert [m["body"] for m in error(answer)["unseen"]] == ["Are you there?"]
    assert len(local_services.store.get_case(held, with_timeline=True).timeline) == before


def test_a_message_landing_during_the_close_is_not_buried(api, held, local_services, clock):
    store = local_services.store
    seen = latest(api, held, ANNA)
    gate = ChangedAfterRead(store, lambda: text_in(api, "wait, please"))  # the citizen writes
    with pytest.raises(casework.UnseenMessages) as refused:
        casework.close(
            deps_of(gate, clock()), held, Actor("anna", "practitioner"), "answered", seen=seen
        )
    assert [m.body for m in refused.value.messages] == ["wait, please"]
    assert store.get_case(held).status == "assigned"
