"""50 chats at once, each answered twice, on real threads against DynamoDB Local: every message
reaches its own conversation and its own case exactly once.

Each thread does what one Lambda invocation does after the edge (Chalice keeps the request on the
app object, so one process cannot serve concurrent requests through its test client; one Lambda
container serves one request at a time, so concurrency lives here), as in test_sms_concurrency.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib.domain import casework, chat
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, Practitioner
from tests.conftest import deps_of

CHATS = 50
BOSS = Actor("boss", "manager")


def test_fifty_concurrent_chats_with_replies_lose_and_duplicate_nothing(store, clock):
    lock = threading.Lock()

    def now():
        with lock:
            return clock()

    deps = deps_of(store, now, hours=demo_hours())
    for n in range(3):
        store.create_practitioner(Practitioner(f"p{n}", f"P{n}", ("general",), ("da",), 20))
        store.go_on_duty(f"p{n}", now())
    start = threading.Barrier(CHATS)

    def answer(case_id: str, body: str) -> None:
        latest = store.get_case(case_id, with_timeline=True).timeline[-1].id
        casework.reply(deps, case_id, BOSS, body, seen=latest)

    def wait_for(token: str, after: int | None, body: str) -> int | None:
        for _ in range(20):
            found, _ = chat.messages(deps, token, after, 5)
            for message in found:
                after = message.seq
                if message.body == body:
                    return after
        raise AssertionError(f"{body!r} never arrived")

    def one(n: int) -> tuple[str, str]:
        start.wait(timeout=30)
        started = chat.start(deps, f"198.51.100.{n}", "da", f"hej {n}")
        assert started.first is not None
        known = store.find_identity(Identity("chat", chat.find(deps, started.token).id))
        assert known is not None and known.open_case_id is not None
        case_id = known.open_case_id
        answer(case_id, f"svar {n}")
        last = wait_for(started.token, started.first.seq, f"svar {n}")
        chat.post(deps, started.token, f"tak {n}")
        answer(case_id, f"farvel {n}")
        wait_for(started.token, last, f"farvel {n}")
        return started.token, case_id

    with ThreadPoolExecutor(CHATS) as pool:
        chats = list(pool.map(one, range(CHATS)))

    assert len({case_id for _, case_id in chats}) == CHATS
    for n, (token, case_id) in enumerate(chats):
        found, _ = chat.messages(deps, token, None, 0)
        lines = [(m.sender, m.body) for m in found]
        assert lines == [
            ("citizen", f"hej {n}"),
            ("service", lines[1][1]),
            ("practitioner", f"svar {n}"),
            ("citizen", f"tak {n}"),
            ("practitioner", f"farvel {n}"),
        ]
        case = store.get_case(case_id, with_timeline=True)
        assert [(e.direction, e.body) for e in case.timeline] == [
            ("in", f"hej {n}"),
            ("out", lines[1][1]),
            ("out", f"svar {n}"),
            ("in", f"tak {n}"),
            ("out", f"farvel {n}"),
        ]
        assert [e.id for e in case.timeline] == [m.id for m in found]


def test_a_poll_never_skips_a_message_written_late_with_an_earlier_id(store, clock):
    """Two writers whose clocks are a second apart (two Lambda containers; a citizen's message
    and a practitioner's reply) and a poller reading `after` its cursor all the while: every
    message reaches the poller exactly once, though their ids sort otherwise than they land."""
    from chalicelib.domain.ids import interaction_id
    from chalicelib.domain.model import ChatMessage

    deps = deps_of(store, clock, hours=demo_hours())
    started = chat.start(deps, "198.51.100.7", "da", None)
    conversation = chat.find(deps, started.token).id
    each, lock = 40, threading.Lock()
    begin = threading.Barrier(3)

    def write(who: str, skew: timedelta) -> None:
        begin.wait(timeout=30)
        for n in range(each):
            with lock:
                at = clock() + skew
            deps.chat.send_chat(
                conversation, ChatMessage(interaction_id(at), at, who, f"{who} {n}")
            )

    def poll() -> list[str]:
        begin.wait(timeout=30)
        seen, after, deadline = [], None, time.monotonic() + 60
        while len(seen) < 2 * each and time.monotonic() < deadline:
            found, _ = chat.messages(deps, started.token, after, 0.5)
            seen += [m.body for m in found]
            after = found[-1].seq if found else after
        return seen

    with ThreadPoolExecutor(3) as pool:
        seen = pool.submit(poll)
        pool.submit(write, "citizen", timedelta(0))
        pool.submit(write, "practitioner", timedelta(seconds=-1))
        seen_by_poller = seen.result()

    expected = {f"{who} {n}" for who in ("citizen", "practitioner") for n in range(each)}
    assert sorted(seen_by_poller) == sorted(expected)  # each once, none skipped


def test_the_same_message_sent_twice_is_one_line_with_one_number(store, clock):
    """A send that died after writing is retried (delivery.retry_due): no second copy."""
    from chalicelib.domain.ids import interaction_id
    from chalicelib.domain.model import ChatMessage

    deps = deps_of(store, clock, hours=demo_hours())
    started = chat.start(deps, "198.51.100.8", "da", None)
    conversation = chat.find(deps, started.token).id
    at = clock()
    said = ChatMessage(interaction_id(at), at, "practitioner", "Hej")
    first = store.add_chat_message(conversation, said)
    again = store.add_chat_message(conversation, said)
    found, _ = chat.messages(deps, started.token, None, 0)
    assert [(m.body, m.seq) for m in found] == [("Hej", 1)] and first.seq == again.seq == 1
