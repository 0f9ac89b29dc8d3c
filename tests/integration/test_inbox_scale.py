"""The inbox of a busy helpline, against DynamoDB Local: a practitioner's first page holds every
case of theirs and then their queues' longest waiting cases, whatever the number of open cases
elsewhere, and reads only what it shows."""

from __future__ import annotations

import pytest

from bench import inbox_load as load
from chalicelib.adapters.dynamodb.codec import case_key, dump
from chalicelib.domain import casework, intake, staffing
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner
from tests.conftest import deps_of


def open_cases(store, clock, count, queue, assignee=None, start=0):
    return load.open_cases(store.client, store.table, clock.at, count, queue, assignee, start)


class Requests:
    """Counts the DynamoDB requests the client makes."""

    def __init__(self, client):
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model, **_):
        self.calls.append(model.name)


def test_my_first_page_holds_all_my_cases_among_10000_open_cases_of_others(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 25))
    waiting_mine = open_cases(store, clock, 30, "general")  # the oldest, all in my queue
    open_cases(store, clock, 5000, "careers", start=100)  # waiting in a queue I do not serve
    for p in range(200):  # 200 colleagues with 25 cases each, most recent activity of all
        open_cases(store, clock, 25, "general", assignee=f"p{p}", start=6000 + p * 25)
    mine = open_cases(store, clock, 21, "general", assignee="anna", start=50)
    counted = Requests(store.client)
    cases, cursor = casework.inbox(deps_of(store, clock), Actor("anna", "practitioner"))
    assert [c.id for c in cases[:21]] == list(reversed(mine))  # newest activity first
    assert [c.id for c in cases[21:]] == waiting_mine[:4]  # then the longest waiting
    assert cursor is not None
    # my profile (read afresh) with my cases in one Query, and one Query per queue I serve
    assert counted.calls == ["Query", "Query"]
    counted.calls.clear()
    rest, cursor = casework.inbox(
        deps_of(store, clock), Actor("anna", "practitioner"), cursor=cursor
    )
    assert [c.id for c in rest] == waiting_mine[4:29]
    assert counted.calls == ["Query", "Query"]  # a later page too: 1 + queues


def test_a_removal_from_a_queue_empties_its_part_of_the_very_next_page(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general", "careers"), ("da",), 25))
    mine = open_cases(store, clock, 2, "careers", assignee="anna")
    careers = open_cases(store, clock, 3, "careers", start=10)
    anna = Actor("anna", "practitioner")
    first, cursor = casework.inbox(deps_of(store, clock), anna, limit=3)
    assert [c.id for c in first][2:] == careers[:1] and cursor is not None
    staffing.update(deps_of(store, clock), "anna", {"queues": ("general",)})
    counted = Requests(store.client)
    rest, cursor = casework.inbox(deps_of(store, clock), anna, cursor=cursor, limit=3)
    assert rest == [] and cursor is None  # careers' waiting cases: gone at once
    assert counted.calls == ["Query", "Query"]  # the profile; the one queue left (general)
    assert {c.id for c in casework.inbox(deps_of(store, clock), anna)[0]} == set(mine)


def test_profiles_written_before_they_were_indexed_are_read_as_before_then_indexed(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 25))
    mine = open_cases(store, clock, 2, "general", assignee="anna")
    store.client.update_item(  # as the table held profiles before
        TableName=store.table,
        Key={"pk": {"S": "PRACTITIONER#anna"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="REMOVE gsi4pk, gsi4sk",
    )
    anna = Actor("anna", "practitioner")
    counted = Requests(store.client)
    assert {c.id for c in casework.inbox(deps_of(store, clock), anna)[0]} == set(mine)
    assert counted.calls == ["Query", "GetItem", "Query"]
    assert store.index_profiles() == 1 and store.index_profiles() == 0
    counted.calls.clear()
    assert {c.id for c in casework.inbox(deps_of(store, clock), anna)[0]} == set(mine)
    assert counted.calls == ["Query", "Query"]
    with pytest.raises(Forbidden):  # no profile at all: refused, as before
        casework.inbox(deps_of(store, clock), Actor("zoe", "practitioner"))


def test_a_managers_view_of_one_assignee_or_one_queue_reads_only_those(store, clock):
    theirs = open_cases(store, clock, 3, "careers", assignee="omar")
    open_cases(store, clock, 40, "general", assignee="anna", start=10)
    waiting = open_cases(store, clock, 2, "careers", start=100)
    boss = Actor("boss", "manager")
    counted = Requests(store.client)
    cases, _ = casework.inbox(deps_of(store, clock), boss, assignee="omar")
    assert {c.id for c in cases} == set(theirs)
    cases, _ = casework.inbox(deps_of(store, clock), boss, status="queued", queue="careers")
    assert [c.id for c in cases] == waiting
    assert counted.calls == ["Query", "Query"]


def test_a_practitioners_pages_show_all_their_cases_then_the_longest_waiting(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general", "careers"), ("da",), 25))
    mine = set(open_cases(store, clock, 7, "general", assignee="anna"))
    general = open_cases(store, clock, 6, "general", start=10)
    careers = open_cases(store, clock, 6, "careers", start=20)
    open_cases(store, clock, 9, "education", start=30)  # a queue Anna does not serve
    seen, cursor = [], None
    for _ in range(20):
        cases, cursor = casework.inbox(
            deps_of(store, clock), Actor("anna", "practitioner"), cursor=cursor, limit=4
        )
        seen += [c.id for c in cases]
        if cursor is None:
            break
    assert set(seen[:7]) == mine and len(seen) == 19
    assert seen[7:] == general + careers  # longest waiting first, across my queues


def test_the_inbox_entries_follow_the_case(store, clock):
    """Routed or claimed, a case leaves its queue's waiting list for its assignee's; back in a
    queue, it waits there; closed, it is in neither; reopened, it waits again."""
    store.create_practitioner(Practitioner("anna", "Anna", ("general", "careers"), ("da",), 5))
    hello = InboundMessage(
        "sms", "twilio", "SM" + "1" * 32, Identity("phone", "+4520000001"), "+4570203040", "hi"
    )
    case_id = intake.receive(deps_of(store, clock, hours=demo_hours()), hello).case_id
    anna, boss, deps = (
        Actor("anna", "practitioner"),
        Actor("boss", "manager"),
        deps_of(store, clock),
    )

    def where():
        return (
            [c.id for c in store.mine_page("anna", None, 10)[0]],
            [c.id for c in store.waiting_page(frozenset({"general", "careers"}), None, 10)[0]],
        )

    assert where() == ([], [case_id])
    casework.claim(deps, case_id, anna)
    assert where() == ([case_id], [])
    casework.transfer(deps, case_id, anna, queue="careers")
    assert where() == ([], [case_id]) and store.get_case(case_id).queue == "careers"
    seen = store.get_case(case_id, with_timeline=True).timeline[-1].id
    casework.close(deps, case_id, boss, "answered", seen=seen)
    assert where() == ([], [])
    casework.reopen(deps, case_id, boss)
    assert where() == ([], [case_id])


def test_open_cases_written_before_the_inbox_index_are_indexed_once(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 25))
    waiting = open_cases(store, clock, 2, "general")
    mine = open_cases(store, clock, 1, "general", assignee="anna", start=10)
    for case_id in waiting + mine:  # as the table held them before gsi4
        store.client.update_item(
            TableName=store.table,
            Key={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}},
            UpdateExpression="REMOVE gsi4pk, gsi4sk",
        )
    anna = Actor("anna", "practitioner")
    assert casework.inbox(deps_of(store, clock), anna)[0] == []
    assert store.index_open_cases() == 3
    assert [c.id for c in casework.inbox(deps_of(store, clock), anna)[0]] == mine + waiting
    assert store.index_open_cases() == 0


def tag(store, case_ids, expression: str, values: dict | None = None) -> None:
    """Changes what the bench's cases share (their latest channel, whether they need a reply)."""
    names = {"ExpressionAttributeNames": {"#s": "status"}} if "#s" in expression else {}
    for case_id in case_ids:
        store.client.update_item(
            TableName=store.table,
            Key=dump(case_key(case_id)),
            UpdateExpression=expression,
            **({"ExpressionAttributeValues": dump(values)} if values else {}),
            **names,
        )


def test_a_filtered_inbox_reads_on_boundedly_and_skips_no_case(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general", "careers"), ("da",), 25))
    general = open_cases(store, clock, 200, "general")
    careers = open_cases(store, clock, 30, "careers", start=300)
    emails = [general[3], general[150], general[199], careers[5]]  # longest waiting first
    tag(store, emails, "SET last_inbound_channel = :email", {":email": "email"})
    anna = Actor("anna", "practitioner")
    seen, cursor, pages = [], None, 0
    while pages < 100:
        counted = Requests(store.client)
        cases, cursor = casework.inbox(
            deps_of(store, clock), anna, cursor=cursor, limit=2, channel="email"
        )
        # my profile and cases, and at most 5 Queries per queue served: bounded, if short
        assert len(cases) <= 2 and len(counted.calls) <= 1 + 5 * 2
        seen += [c.id for c in cases]
        pages += 1
        if cursor is None:
            break
    assert seen == emails
    assert pages < 100 and all(c.channel == "sms" for c in cases)  # the case's own channel


def test_managers_and_practitioners_filter_by_needs_reply_and_channel(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 25))
    mine = open_cases(store, clock, 4, "general", assignee="anna")
    waiting = open_cases(store, clock, 4, "general", start=10)
    asked = [mine[1], waiting[2]]
    tag(store, set(mine + waiting) - set(asked), "REMOVE waiting_since")  # answered
    anna, boss = Actor("anna", "practitioner"), Actor("boss", "manager")
    cases, _ = casework.inbox(deps_of(store, clock), anna, needs_reply=True)
    assert [c.id for c in cases] == asked
    cases, _ = casework.inbox(deps_of(store, clock), anna, needs_reply=False)
    assert {c.id for c in cases} == set(mine + waiting) - set(asked)
    cases, _ = casework.inbox(
        deps_of(store, clock), boss, status="queued", queue="general", needs_reply=True
    )
    assert [c.id for c in cases] == [waiting[2]]
    cases, _ = casework.inbox(deps_of(store, clock), boss, needs_reply=True, channel="sms")
    assert {c.id for c in cases} == set(asked)  # all open (gsi1), filtered there too
    assert casework.inbox(deps_of(store, clock), boss, channel="voice")[0] == []


@pytest.fixture
def sharded(store):
    """The store over 4 shards of the managers' open inbox (the setting INBOX_SHARDS)."""
    from chalicelib.adapters.dynamodb import DynamoStore

    return DynamoStore(store.client, store.table, 4)


def open_in_shards(store, clock, count, queue, **kwargs):
    return load.open_cases(
        store.client, store.table, clock.at, count, queue, shards=store.open_shards, **kwargs
    )


def test_a_managers_open_view_pages_through_every_shard_newest_first_none_twice_or_lost(
    sharded, clock
):
    waiting = open_in_shards(sharded, clock, 23, "general")
    held = open_in_shards(sharded, clock, 9, "careers", assignee="omar", start=100)
    keys = {
        i["gsi1pk"]["S"]
        for i in sharded.client.scan(TableName=sharded.table)["Items"]
        if "gsi1pk" in i
    }
    assert keys == {"OPEN#0", "OPEN#1", "OPEN#2", "OPEN#3"}  # spread over every shard
    boss, deps = Actor("boss", "manager"), deps_of(sharded, clock)
    seen, cursor, pages = [], None, 0
    while True:
        counted = Requests(sharded.client)
        cases, cursor = casework.inbox(deps, boss, cursor=cursor, limit=5)
        # one Query a shard not yet exhausted, in parallel; a full page until the last
        assert len(counted.calls) == (4 if pages == 0 else len(counted.calls)) <= 4
        assert len(cases) == 5 or cursor is None
        seen += [c.id for c in cases]
        pages += 1
        if cursor is None:
            break
    assert seen == list(reversed(waiting + held)) and pages == 7  # newest activity first
    assert sharded.count_open() == 32


def test_a_filtered_managers_view_reads_on_over_the_shards_and_skips_no_case(sharded, clock):
    general = open_in_shards(sharded, clock, 60, "general")
    emails = [general[2], general[30], general[31], general[59]]
    tag(sharded, emails, "SET last_inbound_channel = :email", {":email": "email"})
    boss, deps = Actor("boss", "manager"), deps_of(sharded, clock)
    seen, cursor = [], None
    for _ in range(30):
        counted = Requests(sharded.client)
        cases, cursor = casework.inbox(deps, boss, cursor=cursor, limit=2, channel="email")
        assert len(counted.calls) <= 4 * 5  # at most 5 rounds of one Query a shard
        seen += [c.id for c in cases]
        if cursor is None:
            break
    assert seen == list(reversed(emails))


def test_a_forged_or_stale_shard_cursor_is_refused(sharded, clock):
    import base64
    import json

    from chalicelib.adapters.dynamodb import DynamoStore
    from chalicelib.domain.errors import InvalidCursor

    open_in_shards(sharded, clock, 12, "general")
    boss = Actor("boss", "manager")
    _, cursor = casework.inbox(deps_of(sharded, clock), boss, limit=3)
    plain = json.loads(base64.urlsafe_b64decode(cursor))

    def forged(starts):
        return base64.urlsafe_b64encode(json.dumps({"open": starts}).encode()).decode()

    at = "2026-11-24T09:00:00.000000Z"
    for bad in (
        forged(plain["open"][:3]),  # another number of shards
        forged([False] * 4),
        forged([[at, "x" * 100]] + [None] * 3),
        forged([["2026", "abc"]] + [None] * 3),
        forged([[at, "abc", "more"]] + [None] * 3),
        forged([{"a": 1}] + [None] * 3),
        forged([True] + [None] * 3),
        "A" * 5000,
        "!!!",
    ):
        with pytest.raises(InvalidCursor):
            casework.inbox(deps_of(sharded, clock), boss, cursor=bad)
    with pytest.raises(InvalidCursor):  # the setting changed: start again
        casework.inbox(
            deps_of(DynamoStore(sharded.client, sharded.table, 8), clock), boss, cursor=cursor
        )


def test_open_cases_of_before_the_shards_are_moved_into_them_once(sharded, clock):
    before = load.open_cases(sharded.client, sharded.table, clock.at, 6, "general", shards=4)
    tag(sharded, before, "SET gsi1pk = :old", {":old": "INBOX#open"})  # as they were
    boss = Actor("boss", "manager")
    assert casework.inbox(deps_of(sharded, clock), boss)[0] == []
    assert sharded.index_open_cases() == 6 and sharded.index_open_cases() == 0
    assert [c.id for c in casework.inbox(deps_of(sharded, clock), boss)[0]] == before[::-1]


def test_a_cursor_over_the_most_shards_stays_within_what_the_edge_takes(store, clock):
    from chalicelib.adapters.dynamodb import DynamoStore
    from chalicelib.adapters.dynamodb.codec import MAX_OPEN_SHARDS

    widest = DynamoStore(store.client, store.table, MAX_OPEN_SHARDS)
    open_in_shards(widest, clock, 3 * MAX_OPEN_SHARDS, "general")
    _, cursor = casework.inbox(deps_of(widest, clock), Actor("boss", "manager"), limit=40)
    assert cursor is not None and len(cursor) <= 2048


def test_a_filtered_closed_view_reads_on_boundedly_and_skips_no_case(store, clock):
    store.create_practitioner(Practitioner("anna", "Anna", ("general",), ("da",), 25))
    others = open_cases(store, clock, 24, "general", assignee="bea", start=100)
    mine = [
        open_cases(store, clock, 1, "general", assignee="anna", start=104 + n * 8)[0]
        for n in range(3)
    ]  # a practitioner's closed view: the cases they held
    closed = {":closed": "closed", ":inbox": "INBOX#closed"}
    tag(store, others + mine, "SET #s = :closed, gsi1pk = :inbox REMOVE gsi4pk", closed)
    anna = Actor("anna", "practitioner")
    seen, cursor = [], None
    for _ in range(30):
        counted = Requests(store.client)
        cases, cursor = casework.inbox(
            deps_of(store, clock), anna, status="closed", cursor=cursor, limit=2
        )
        assert len(counted.calls) <= 1 + 5  # the profile; at most 5 Queries read on
        assert len(cases) == 2 or cursor is None or len(counted.calls) == 1 + 5  # full, or bound
        seen += [c.id for c in cases]
        if cursor is None:
            break
    assert sorted(seen) == sorted(mine) and len(seen) == 3
