"""Issue 19 under load, against DynamoDB Local with real threads: ordinary and high-risk
messages arriving at once over SMS, email and chat, while practitioners raise and lower other
waiting cases' risk. Afterwards the practitioner's first inbox page and routing's next offers
put every high-risk waiting case before every other, oldest first within a level; a case
lowered to none waits where its arrival puts it. While it all happens, no reader ever sees a
high-risk case waiting behind an ordinary one, nor an urgent new case waiting as ordinary.

DynamoDB Local updates its indexes with each write; DynamoDB's GSIs lag (well under a second).
The checks read the index only after every write has returned, and the readers during the
race check each snapshot against itself (a case's entry in the index is one version of the
item: its risk and its position always agree), so both checks hold on DynamoDB as well."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from itertools import cycle

from chalicelib.domain import casework, intake, routing, safeguarding
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import (
    Actor,
    CaseRef,
    EmailDetails,
    Identity,
    InboundMessage,
    Practitioner,
)
from tests.conftest import make_services, seen

URGENT = "I have 40 paracetamol and I'm going to take them all tonight"
LYRIC = "I want to die, tonight I take the pills (a song we sing in class)"
ORDINARY = "Which course fits me after year nine?"
ANNA = Actor("anna", "practitioner")
ORDINARY_NEW, URGENT_NEW, RAISED, LOWERED, CONTESTED, REQUEUED = 14, 10, 4, 4, 4, 3


def message(n: int, channel: str, body: str) -> InboundMessage:
    """The n-th citizen's message on a channel, as its edge would hand it to intake."""
    if channel == "email":
        details = EmailDetails(subject="A question", message_id=f"<m{n}@pupil.example>")
        sender = Identity("email", f"pupil{n}@pupil.example")
        return InboundMessage("email", "email", f"m{n}", sender, "studyhelp", body, email=details)
    if channel == "chat":
        return InboundMessage("chat", "chat", new_id(), Identity("chat", new_id()), "chat", body)
    return InboundMessage(
        "sms", "twilio", f"SM{n:032x}", Identity("phone", f"+4521{n:06d}"), "", body
    )


def ordered(cases, since=None) -> bool:
    """Every high-risk case before every other; given `since` (when each case came to wait in
    its queue), within a level the longest waiting first."""
    keys = [(not _high(c), since[c.id] if since else "", c.id if since else "") for c in cases]
    return keys == sorted(keys)


def queued_at(store, case_id: str) -> str:
    """When the case came (back) to wait in its queue, as the table holds it (read
    consistently): a requeued case waits from when it was put back."""
    key = {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}}
    item = store.client.get_item(TableName=store.table, Key=key, ConsistentRead=True)["Item"]
    return item["queued_at"]["S"]


def _high(case) -> bool:
    return case.risk is not None and case.risk.level == "high"


def test_high_risk_waits_first_whatever_arrives_at_once(store, clock):
    deps = make_services(store, clock)
    for pid, skills in (("anna", ()), ("sara", ("safeguarding",)), ("tove", ())):
        store.create_practitioner(
            Practitioner(pid, pid.title(), ("general",), ("da", "en"), 3, skills=skills)
        )
    channels = cycle(("sms", "email", "chat"))
    to_raise = [intake.receive(deps, message(n, "sms", ORDINARY)).case_id for n in range(RAISED)]
    to_lower = [
        intake.receive(deps, message(100 + n, next(channels), LYRIC)).case_id
        for n in range(LOWERED)
    ]
    # high-risk cases tove held and never answered: the requeue puts them back meanwhile
    requeued = [
        intake.receive(deps, message(500 + n, "sms", URGENT)).case_id for n in range(REQUEUED)
    ]
    for case in map(store.get_case, requeued):
        held = CaseRef(case.id, case.queue, case.language, case.contact_id)
        store.assign(held, "tove", clock(), require_on_duty=False)
    contested = [
        intake.receive(deps, message(400 + n, "sms", LYRIC)).case_id for n in range(CONTESTED)
    ]
    arrivals = [message(200 + n, next(channels), ORDINARY) for n in range(ORDINARY_NEW)]
    arrivals += [message(300 + n, next(channels), URGENT) for n in range(URGENT_NEW)]
    # while a practitioner raises a case, its citizen writes again (a transaction on the case);
    # while one lowers a case, its citizen writes urgent words (the rules raise it again)
    arrivals += [replace(message(n, "sms", ORDINARY), provider_id=new_id()) for n in range(RAISED)]
    arrivals += [
        replace(message(400 + n, "sms", URGENT), provider_id=new_id()) for n in range(CONTESTED)
    ]
    judgements = [(case_id, "high", "Told me on the phone") for case_id in to_raise]
    judgements += [(case_id, "none", "A song lyric") for case_id in to_lower + contested]
    read = {case_id: seen(case_id, store) for case_id in to_lower + contested}

    def judge(case_id: str, level: str, reason: str) -> None:
        """A contested lowering may be refused: the urgent words came after she read."""
        try:
            safeguarding.change(deps, ANNA, case_id, level, reason, seen=read.get(case_id))
        except Conflict:
            assert case_id in contested

    seen_wrong: list[list[str]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            page, _ = casework.inbox(deps, ANNA, limit=100)
            urgent_as_ordinary = [
                c for c in page if c.preview == URGENT and not _high(c) and c.id not in contested
            ]
            if not ordered(page) or urgent_as_ordinary:
                seen_wrong.append([c.id for c in page])

    with ThreadPoolExecutor(max_workers=12) as pool:
        watchers = [pool.submit(watch) for _ in range(2)]
        work = [pool.submit(intake.receive, deps, m) for m in arrivals]
        work += [pool.submit(judge, *j) for j in judgements]
        work.append(pool.submit(routing.requeue_unanswered, deps, timedelta(0)))
        try:  # a failing write fails the test; the watchers must stop either way
            for future in work:
                future.result()
        finally:
            done.set()
        for future in watchers:
            future.result()

    page, _ = casework.inbox(deps, ANNA, limit=100)
    truth = [store.get_case(c.id) for c in page]  # each read consistently from the table
    assert len(truth) == RAISED + LOWERED + CONTESTED + REQUEUED + ORDINARY_NEW + URGENT_NEW
    high = {c.id for c in truth if _high(c)} - set(contested)  # either way, as they fell
    assert len(high) == RAISED + REQUEUED + URGENT_NEW and high >= set(to_raise + requeued)
    assert not high & set(to_lower)
    since = {c.id: queued_at(store, c.id) for c in truth}
    assert ordered(truth, since), "the inbox does not put high risk first, oldest first"
    assert [c.id for c in page] == [c.id for c in truth]
    assert not seen_wrong, f"{len(seen_wrong)} inbox reads showed high risk behind ordinary"

    store.go_on_duty("sara", clock())
    offered = routing.fill("sara", store, clock())
    assert offered == [c.id for c in truth[:3]], "routing did not offer the oldest high risk first"


def test_a_change_between_a_raise_and_its_place_cannot_split_them(store, clock, monkeypatch):
    """The interleaving behind the disorder, made to happen every time: the rules raise a case
    to high while a practitioner lowers it. Both the level and the place are written in one
    UpdateItem, so whichever lands last leaves them agreeing: here the lowering, so the case
    waits as none, in its arrival order: after the ordinary case that came before it."""
    deps = make_services(store, clock)
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 3))
    earlier = intake.receive(deps, message(2, "sms", ORDINARY)).case_id
    lowered = intake.receive(deps, message(1, "sms", ORDINARY)).case_id
    write = store.client.update_item
    interleaved: list[str] = []

    def update_item(**request):
        answer = write(**request)
        value = request.get("ExpressionAttributeValues", {}).get(":risk", {})
        if not interleaved and value.get("M", {}).get("level") == {"S": "high"}:
            interleaved.append("lowered")  # right after the raise's write returns
            last = seen(lowered, store)  # she read the urgent message, then lowered
            safeguarding.change(deps, ANNA, lowered, "none", "Read again: a lyric", seen=last)
        return answer

    monkeypatch.setattr(store.client, "update_item", update_item)
    intake.receive(deps, replace(message(1, "sms", URGENT), provider_id=new_id()))
    assert interleaved == ["lowered"]
    assert store.get_case(lowered).risk.level == "none"
    page, _ = casework.inbox(deps, ANNA, limit=10)
    assert [c.id for c in page] == [earlier, lowered]
    assert [c.id for c in store.waiting_cases("general")] == [earlier, lowered]
