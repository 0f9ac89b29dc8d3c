"""Storage for case work: reading cases, the inbox index, and every change of hands.

Each change of hands is one transaction whose conditions carry the rules: a case is assigned only
while it is queued (so two claims never both win), a practitioner's load only grows below their
capacity, and the open-case pointer moves with closing and reopening.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, delete, put, update
from chalicelib.adapters.dynamodb.codec import (
    INBOX_CLOSED,
    INBOX_OPEN,
    MAX_OPEN_SHARDS,
    PROFILE_SK,
    UNANSWERED,
    case_key,
    contact_key,
    dump,
    iso,
    load,
    mine_key,
    open_case_key,
    open_count_key,
    open_key,
    parse_iso,
    practitioner_key,
    queue_inbox_key,
    read_key,
    waiting_key,
    week_key,
)
from chalicelib.adapters.dynamodb.items import (
    case_from,
    case_ref,
    interaction_from,
    interaction_item,
    open_count,
    practitioner_from,
    waiting_place,
)
from chalicelib.domain import positions
from chalicelib.domain.errors import (
    CaseChanged,
    InvalidCursor,
    OpenCaseExists,
    PractitionerUnavailable,
    WriteConflict,
)
from chalicelib.domain.model import (
    Case,
    CaseRead,
    CaseRef,
    InboxFilter,
    InboxQuery,
    Interaction,
    Practitioner,
    closing_note,
)

NAMES = {"#status": "status"}


def _raise_for(lost: Cancelled) -> None:
    if "case" in lost.failed:
        raise CaseChanged("case") from lost
    if "practitioner" in lost.failed:
        raise PractitionerUnavailable("practitioner") from lost
    if "open_case" in lost.failed:
        raise OpenCaseExists("open_case") from lost
    raise WriteConflict(str(lost)) from lost


FILTERED_READS = 5  # Queries a filtered section reads at most before it answers a short page


def _filter(only: InboxFilter) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A FilterExpression for the inbox's filters: the entry's channel is its latest citizen
    message's (the case's own channel before any); needs a reply: `waiting_since` is set."""
    terms: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if only.channel is not None:
        terms.append(
            "(#last_channel = :channel OR "
            "(attribute_not_exists(#last_channel) AND #channel = :channel))"
        )
        names.update({"#last_channel": "last_inbound_channel", "#channel": "channel"})
        values[":channel"] = only.channel
    if only.needs_reply is not None:
        terms.append(
            "attribute_exists(#waiting_since)"
            if only.needs_reply
            else "attribute_not_exists(#waiting_since)"
        )
        names["#waiting_since"] = "waiting_since"
    return " AND ".join(terms), names, values


class DynamoCases(StoreBase):
    # --- reading -----------------------------------------------------------------------------

    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None:
        """The case, and its timeline oldest first, from one Query of its partition."""
        if not with_timeline:
            return self._get_as(case_key(case_id), case_from)
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :case AND :events",
            ExpressionAttributeValues=dump(
                {":pk": f"CASE#{case_id}", ":case": "CASE", ":events": "EVENT#\uffff"}
            ),
            ConsistentRead=True,
        )
        head = [i for i in items if i["sk"] == "CASE"]
        if not head:
            return None
        events = tuple(interaction_from(i) for i in items if i["sk"].startswith("EVENT#"))
        return case_from(head[0], events)

    def record_read(self, case_id: str, user_id: str, role: str, at: datetime) -> None:
        self._put(
            {
                **read_key(case_id, at, user_id),
                "type": "case_read",
                "case_id": case_id,
                "user_id": user_id,
                "role": role,
                "at": iso(at),
                # in the week's partition, so the retention job finds it without a scan
                "gsi2pk": week_key(at),
                "gsi2sk": f"{iso(at)}#READ#{case_id}",
            }
        )
        # the inbox's `unread` reads this marker from the case item, not the reads' items
        self._set_in_map(case_id, "last_read", user_id, iso(at))

    def case_reads(self, case_id: str) -> list[CaseRead]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :read)",
            ExpressionAttributeValues=dump({":pk": f"CASE#{case_id}", ":read": "READ#"}),
        )
        return [
            CaseRead(i["case_id"], i["user_id"], i["role"], parse_iso(i["at"]))  # type: ignore[arg-type]  # always set
            for i in items
        ]

    def inbox_page(self, query: InboxQuery) -> tuple[list[Case], str | None]:
        """One Query on gsi1, newest activity first; the cursor is opaque to clients."""
        values: dict[str, Any] = {":pk": INBOX_CLOSED if query.closed else INBOX_OPEN}
        filters: list[str] = []
        statuses = sorted(query.statuses)
        filters.append("#status IN (" + ", ".join(f":s{i}" for i in range(len(statuses))) + ")")
        values.update({f":s{i}": s for i, s in enumerate(statuses)})
        if query.queues is not None:
            queues = sorted(query.queues) or ["\u0000none"]
            filters.append("#queue IN (" + ", ".join(f":q{i}" for i in range(len(queues))) + ")")
            values.update({f":q{i}": q for i, q in enumerate(queues)})
        if query.assignee is not None:
            filters.append("assignee = :assignee")
            values[":assignee"] = query.assignee
        if query.mine_or_waiting_in is not None:
            me, mine = query.mine_or_waiting_in
            queues = sorted(mine) or ["\u0000none"]
            values[":me"] = me
            values[":queued"] = "queued"
            values.update({f":m{i}": q for i, q in enumerate(queues)})
            filters.append(
                "(assignee = :me OR (#status = :queued AND #queue IN ("
                + ", ".join(f":m{i}" for i in range(len(queues)))
                + ")))"
            )
        names: dict[str, str] = {}
        if query.only is not None:
            expression, names, filter_values = _filter(query.only)
            filters.append(expression)
            values.update(filter_values)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ScanIndexForward": False,
            "FilterExpression": " AND ".join(filters),
            "ExpressionAttributeNames": {
                "#status": "status",
                **({"#queue": "queue"} if any("#queue" in f for f in filters) else {}),
                **names,
            },
            "ExpressionAttributeValues": dump(values),
            "Limit": query.limit,
        }
        if not query.closed:
            return self._open_page(kwargs, query.limit, query.cursor)
        if query.cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(query.cursor, values[":pk"])
        cases: list[Case] = []
        for _ in range(FILTERED_READS):  # filtered: read on, boundedly, for a full page
            page = self.client.query(**{**kwargs, "Limit": query.limit - len(cases)})
            cases += [case_from(load(item)) for item in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            if last is None or len(cases) >= query.limit:
                break
            kwargs["ExclusiveStartKey"] = last
        return cases, _encode_cursor(last) if last else None

    def _open_page(
        self, kwargs: dict[str, Any], limit: int, cursor: str | None
    ) -> tuple[list[Case], str | None]:
        """The open cases, newest activity first, from every shard `OPEN#<n>` (one Query each,
        in parallel), merged. The cursor holds each shard's position. Filtered, the shards are
        read on (at most FILTERED_READS rounds) until the page is full or they are exhausted."""
        starts = _decode_shards(cursor, self.open_shards)
        cases: list[Case] = []
        for _ in range(FILTERED_READS):
            found, starts = self._open_round(kwargs, starts, limit - len(cases))
            cases += found
            if len(cases) >= limit or all(start is False for start in starts):
                break
        if all(start is False for start in starts):
            return cases, None
        return cases, _encode_shards(starts)

    def _open_round(
        self, kwargs: dict[str, Any], starts: list[Start], room: int
    ) -> tuple[list[Case], list[Start]]:
        """One Query of `room` per shard not yet exhausted, merged by last activity. A shard
        that has more stops the page at the last entry it read (past it, its entries are
        unseen), so no case is skipped; each shard goes on after the last it showed."""

        def read(shard: int) -> tuple[list[dict[str, Any]], Start]:
            start = starts[shard]
            if start is False:
                return [], False
            query = {**kwargs, "Limit": room}
            query["ExpressionAttributeValues"] = {
                **kwargs["ExpressionAttributeValues"],
                ":pk": {"S": f"OPEN#{shard}"},
            }
            if start is not None:
                query["ExclusiveStartKey"] = _shard_key(shard, start)
            page = self.client.query(**query)
            last = page.get("LastEvaluatedKey")
            more: Start = _position(load(last)) if last else False
            return [load(i) for i in page.get("Items", [])], more

        with ThreadPoolExecutor(max_workers=min(self.open_shards, 8)) as pool:
            results = list(pool.map(read, range(self.open_shards)))
        stop = max((more for _, more in results if more), default=None)
        streams = [
            [(_position(item), shard, item) for item in items]
            for shard, (items, _) in enumerate(results)
        ]
        shown: list[dict[str, Any]] = []
        last_shown: dict[int, tuple[str, str]] = {}
        taken = [0] * self.open_shards
        merged = heapq.merge(*streams, key=lambda entry: entry[0], reverse=True)
        for position, shard, item in merged:
            if len(shown) == room or (stop is not None and position < stop):
                break
            shown.append(item)
            last_shown[shard] = position
            taken[shard] += 1
        after: list[Start] = []
        for shard, (items, more) in enumerate(results):
            if starts[shard] is False:
                after.append(False)
            elif taken[shard] == len(items):  # all it read is shown: on after what it read
                after.append(more)
            else:
                after.append(last_shown.get(shard, starts[shard]))
        return [case_from(item) for item in shown], after

    def mine_page(
        self, practitioner_id: str, after: str | None, limit: int, only: InboxFilter | None = None
    ) -> tuple[list[Case], str | None]:
        """A practitioner's open cases in the order they were handed them: one Query of their
        own gsi4 partition, after their profile. The position is where the next page starts
        (None: no more)."""
        cases, _, resume = self._section(mine_key(practitioner_id), after, limit, only)
        return cases, resume

    def practitioner_page(
        self, practitioner_id: str, after: str | None, limit: int, only: InboxFilter | None = None
    ) -> tuple[Practitioner | None, list[Case], str | None]:
        """Their profile and their open cases after `after` (up to `limit`; 0: the profile
        only), from ONE Query of their gsi4 partition: the profile sorts first. The partition is
        read whole (the profile and at most `max_active_cases`, 50, cases: under 1 MB), so a
        page is complete even when filtered or far into it. None: no indexed profile (written
        before gsi4 held profiles: `index_profiles`)."""
        if after is not None:
            positions.checked(after, positions.CASE)
        kwargs: dict[str, Any] = {
            "IndexName": "gsi4",
            "KeyConditionExpression": "gsi4pk = :pk",
            "ExpressionAttributeValues": {":pk": mine_key(practitioner_id)},
        }
        if limit == 0:
            kwargs["Limit"] = 1
        elif only is not None:
            expression, names, values = _filter(only)
            # AND binds before OR: the profile, or a case matching every filter
            kwargs["FilterExpression"] = f"#type = :profile OR {expression}"
            kwargs["ExpressionAttributeNames"] = {**names, "#type": "type"}
            kwargs["ExpressionAttributeValues"].update(values, **{":profile": "practitioner"})
        kwargs["ExpressionAttributeValues"] = dump(kwargs["ExpressionAttributeValues"])
        items = [load(item) for item in self.client.query(TableName=self.table, **kwargs)["Items"]]
        profile = next((i for i in items if i["gsi4sk"] == PROFILE_SK), None)
        after = after or PROFILE_SK
        rest = [i for i in items if i["gsi4sk"] > after]
        page = rest[:limit]
        more = page[-1]["gsi4sk"] if len(rest) > limit and page else None
        return (
            practitioner_from(profile) if profile else None,
            [case_from(item) for item in page],
            more,
        )

    def waiting_page(
        self,
        queues: frozenset[str],
        after: str | None,
        limit: int,
        only: InboxFilter | None = None,
    ) -> tuple[list[Case], str | None]:
        """The waiting cases of these queues, longest waiting first: one Query per queue (each
        reads at most `limit`), merged by waiting time. Only the queues' own partitions are read,
        whatever the number of open cases elsewhere. The page stops at the earliest position a
        queue was read to (past it, that queue's cases are unseen): nothing is skipped."""
        found: list[tuple[str, Case]] = []
        cutoff: str | None = None
        for queue in sorted(queues):
            cases, places, resume = self._section(queue_inbox_key(queue), after, limit, only)
            found += zip(places, cases, strict=True)
            if resume is not None:
                cutoff = resume if cutoff is None else min(cutoff, resume)
        found.sort(key=lambda pair: pair[0])
        if cutoff is not None:
            found = [pair for pair in found if pair[0] <= cutoff]
        page = found[:limit]
        if len(found) > limit:
            return [case for _, case in page], page[-1][0]
        return [case for _, case in page], cutoff

    def count_mine(self, practitioner_id: str) -> int:
        """How many open cases a practitioner holds: their gsi4 partition, at most
        `max_active_cases` items (plus reopened ones), so it costs what their page costs."""
        return self._count_gsi4(mine_key(practitioner_id))

    def count_waiting(self, queue: str) -> int:
        """How many cases wait in a queue: a COUNT of routing's waiting list (gsi3
        `WAITING#<q>`), which every hand-over moves in the same UpdateItem as the page's gsi4
        key, so it holds exactly the cases the page lists; its entries project a few small
        attributes (~0.25 KB, not the page's 2 KB): the count reads ~8x less."""
        return self._count(
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :pk",
            ExpressionAttributeValues=dump({":pk": waiting_key(queue)}),
        )

    def count_open(self) -> int:
        """Every open case in the managers' inbox: the sum of its shards' counters (one
        BatchGetItem, whatever the number of open cases), each moved in the transaction that
        moves a case into or out of its shard (opening, a booked case's first message, close,
        reopen)."""
        items = self._batch_get([open_count_key(f"OPEN#{n}") for n in range(self.open_shards)])
        return sum(int(item.get("open_cases", 0)) for item in items)

    def _count_gsi4(self, partition: str) -> int:
        return self._count(
            IndexName="gsi4",
            KeyConditionExpression="gsi4pk = :pk AND gsi4sk > :profile",  # cases only
            ExpressionAttributeValues=dump({":pk": partition, ":profile": PROFILE_SK}),
        )

    def _section(
        self, partition: str, after: str | None, limit: int, only: InboxFilter | None
    ) -> tuple[list[Case], list[str], str | None]:
        """A gsi4 partition after a position: cases, their positions, where to resume (None:
        read to its end). Unfiltered, one Query of `limit`. Filtered (DynamoDB drops what does
        not match after reading it), reads on until `limit` match or the key is exhausted, at
        most FILTERED_READS Queries: a page may then be short, its cursor goes on."""
        if after is not None:
            positions.checked(after, positions.CASE)
        condition = "gsi4pk = :pk AND gsi4sk > :after"  # past a practitioner's profile, too
        values = {":pk": partition, ":after": after or PROFILE_SK}
        kwargs: dict[str, Any] = {"IndexName": "gsi4", "KeyConditionExpression": condition}
        if only is not None:
            expression, names, filter_values = _filter(only)
            kwargs.update(FilterExpression=expression, ExpressionAttributeNames=names)
            values.update(filter_values)
        kwargs["ExpressionAttributeValues"] = dump(values)
        items: list[dict[str, Any]] = []
        for _ in range(FILTERED_READS if only is not None else 1):
            page = self.client.query(TableName=self.table, Limit=limit - len(items), **kwargs)
            items += [load(item) for item in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            if last is None or len(items) >= limit:
                break
            kwargs["ExclusiveStartKey"] = last
        resume = load(last)["gsi4sk"] if last is not None else None
        return [case_from(item) for item in items], [item["gsi4sk"] for item in items], resume

    def index_open_cases(self) -> int:
        """Once, on deploying gsi4 or the open shards (or after changing their number): every
        open case gets its inbox entry (as waiting or as its assignee's) and its shard, under
        the condition that it is still as read, so a hand-over or close meanwhile wins. Reads
        the one key of before the shards and every shard key there may be. Safe to run again;
        returns how many cases it changed."""
        indexed = 0
        for partition in [INBOX_OPEN] + [f"OPEN#{n}" for n in range(MAX_OPEN_SHARDS)]:
            for item in self._query_all(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues=dump({":pk": partition}),
            ):
                indexed += self._index_open_case(item)
        self.recount_open()
        return indexed

    def recount_open(self) -> None:
        """Each shard's counter set to the cases in it, counted afresh: once, when the counters
        are deployed (or the shards re-keyed). Not safe against cases opened or closed while it
        counts (a change between its count and its write is lost): run it in a quiet moment;
        run again, it repairs."""
        for n in range(MAX_OPEN_SHARDS):
            shard = f"OPEN#{n}"
            count = self._count(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues=dump({":pk": shard}),
            )
            self._put({**open_count_key(shard), "type": "count", "open_cases": count})

    def _index_open_case(self, item: dict[str, Any]) -> bool:
        sets, values = [], {":status": item["status"], ":was": item["gsi1pk"]}
        condition = "#status = :status AND gsi1pk = :was"  # as read: a change meanwhile wins
        shard = open_key(item["id"], self.open_shards)
        if item["gsi1pk"] != shard:
            sets.append("gsi1pk = :shard")
            values[":shard"] = shard
        if "gsi4pk" not in item and item.get("status") in ("queued", "assigned"):
            if item["status"] == "assigned":
                entry = (mine_key(item["assignee"]), item.get("assigned_at"))
            else:
                entry = (queue_inbox_key(item["queue"]), item.get("queued_at"))
            since = entry[1] or item["opened_at"]
            sets.append("gsi4pk = :pk, gsi4sk = :sk")
            values.update({":pk": entry[0], ":sk": f"{since}#{item['id']}"})
            condition += " AND attribute_not_exists(gsi4pk)"
        if not sets:
            return False
        return self._update(
            case_key(item["id"]),
            "SET " + ", ".join(sets),
            values,
            condition,
            NAMES,
        )

    def waiting_cases(self, queue: str, limit: int = 10) -> list[CaseRef]:
        """The queue's waiting cases, longest waiting first (sparse gsi3)."""
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :pk",
            ExpressionAttributeValues=dump({":pk": waiting_key(queue)}),
            Limit=limit,
        )
        return [case_ref(load(i)) for i in page.get("Items", [])]

    def unanswered_since_before(self, cutoff: datetime) -> list[CaseRef]:
        """Assigned cases with no reply since they were assigned before `cutoff`."""
        items = self._query_all(
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :pk AND gsi3sk < :cutoff",
            ExpressionAttributeValues=dump({":pk": UNANSWERED, ":cutoff": iso(cutoff)}),
        )
        return [case_ref(i) for i in items]

    # --- changes of hands ----------------------------------------------------------------------

    def assign(
        self, case: CaseRef, practitioner_id: str, now: datetime, *, require_on_duty: bool
    ) -> None:
        """Queued case → practitioner, atomically with their load and the contact's memory."""
        ops = self._hand_to(
            case, practitioner_id, now, "#status = :queued", {":queued": "queued"}, require_on_duty
        )
        self._run(ops)

    def to_queue(
        self, case: CaseRef, queue: str, now: datetime, *, only_if_unanswered: bool = False
    ) -> None:
        """Back to a queue (transfer or time-out), releasing the previous assignee's slot."""
        condition, values = _held_by(case.assignee)
        if only_if_unanswered:
            condition += " AND gsi3pk = :unanswered"
            values[":unanswered"] = UNANSWERED

        def ops(place: str, risk: str, held: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
            return [
                (
                    "case",
                    update(
                        self.table,
                        case_key(case.id),
                        "SET #status = :queued, #queue = :queue, queued_at = :now, "
                        "gsi3pk = :waiting, gsi3sk = :since, gsi4pk = :queued_in, gsi4sk = :since "
                        "REMOVE assignee, assigned_at",
                        {
                            **values,
                            **held,
                            ":queued": "queued",
                            ":queue": queue,
                            ":now": iso(now),
                            ":waiting": waiting_key(queue),
                            ":queued_in": queue_inbox_key(queue),
                            ":since": place,
                        },
                        f"{condition} AND {risk}",
                        {**NAMES, "#queue": "queue"},
                    ),
                ),
                *self._release(case.assignee),
            ]

        self._to_wait(case.id, iso(now), ops)

    def transfer_to(self, case: CaseRef, practitioner_id: str, now: datetime) -> None:
        condition, values = _held_by(case.assignee)
        ops = self._hand_to(case, practitioner_id, now, condition, values, on_duty=False)
        ops += self._release(case.assignee)
        self._run(ops)

    def _hand_to(
        self,
        case: CaseRef,
        practitioner_id: str,
        now: datetime,
        condition: str,
        values: dict[str, Any],
        on_duty: bool,
    ) -> list[tuple[str, dict[str, Any]]]:
        """The case to the practitioner (when `condition` still holds of it), one more case on
        their load (within capacity, and on duty if asked), and the contact's memory of them."""
        capacity = "active_cases < max_active_cases" + (" AND on_duty = :true" if on_duty else "")
        return [
            (
                "case",
                update(
                    self.table,
                    case_key(case.id),
                    "SET #status = :assigned, assignee = :p, assigned_at = :now, "
                    "gsi3pk = :unanswered, gsi3sk = :since, gsi4pk = :mine, gsi4sk = :since",
                    {
                        **values,
                        ":assigned": "assigned",
                        ":p": practitioner_id,
                        ":mine": mine_key(practitioner_id),
                        ":now": iso(now),
                        ":unanswered": UNANSWERED,
                        ":since": f"{iso(now)}#{case.id}",
                    },
                    condition,
                    NAMES,
                ),
            ),
            (
                "practitioner",
                update(
                    self.table,
                    practitioner_key(practitioner_id),
                    "SET last_assigned_at = :now ADD active_cases :one",
                    {":now": iso(now), ":one": 1, **({":true": True} if on_duty else {})},
                    f"attribute_exists(pk) AND {capacity}",
                ),
            ),
            (
                "contact",
                update(
                    self.table,
                    contact_key(case.contact_id),
                    "SET last_practitioner_id = :p",
                    {":p": practitioner_id},
                ),
            ),
        ]

    def close(self, case: CaseRef, outcome: str, closed_by: str, now: datetime) -> None:
        """Closed only as read: same assignee and, when `case.inbound_count` is set, no citizen
        message since (a close never buries a message nobody has seen). A case in the managers'
        open inbox leaves its shard's count in the same transaction; one in none (bookings only,
        closed by an erasure; or indexed before the shards) is closed without: a second try
        only when the first found it outside the inbox."""
        try:
            self._transact(self._closing(case, outcome, closed_by, now, in_inbox=True))
        except Cancelled as lost:
            if "case" not in lost.failed:
                _raise_for(lost)
            self._run(self._closing(case, outcome, closed_by, now, in_inbox=False))

    def _closing(
        self, case: CaseRef, outcome: str, closed_by: str, now: datetime, *, in_inbox: bool
    ) -> list[tuple[str, dict[str, Any]]]:
        condition, values = _held_by(case.assignee, case.inbound_count)
        condition += " AND " + ("" if in_inbox else "NOT ") + "begins_with(gsi1pk, :open)"
        values[":open"] = "OPEN#"
        ops = [
            (
                "case",
                update(
                    self.table,
                    case_key(case.id),
                    "SET #status = :closed, outcome = :outcome, closed_at = :now, closed_by = :by, "
                    "gsi1pk = :inbox REMOVE gsi3pk, gsi3sk, gsi4pk, gsi4sk",
                    {
                        **values,
                        ":closed": "closed",
                        ":outcome": outcome,
                        ":now": iso(now),
                        ":by": closed_by,
                        ":inbox": INBOX_CLOSED,
                    },
                    condition,
                    NAMES,
                ),
            ),
            (
                "open_case",
                delete(
                    self.table, open_case_key(case.contact_id), "case_id = :id", {":id": case.id}
                ),
            ),
            # On the timeline, and in the week's reporting partition (gsi2) of when it closed.
            (
                "event",
                put(
                    self.table,
                    interaction_item(closing_note(case.id, outcome, closed_by, now)),
                ),
            ),
        ]
        ops += self._release(case.assignee)
        if in_inbox:
            ops.append(("count", open_count(self.table, case.id, self.open_shards, -1)))
        return ops

    def reopen(self, case: CaseRef, now: datetime) -> None:
        """A closed case back to its queue; refused while the citizen has another open case."""

        def ops(place: str, risk: str, held: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
            return [
                (
                    "open_case",
                    put(
                        self.table,
                        {**open_case_key(case.contact_id), "type": "open_case", "case_id": case.id},
                    ),
                ),
                (
                    "case",
                    update(
                        self.table,
                        case_key(case.id),
                        "SET #status = :queued, queued_at = :now, gsi1pk = :inbox, gsi1sk = :now, "
                        "last_activity_at = :now, gsi3pk = :waiting, gsi3sk = :since, "
                        "gsi4pk = :queued_in, gsi4sk = :since "
                        "REMOVE assignee, assigned_at, closed_at, outcome, closed_by",
                        {
                            **held,
                            ":queued": "queued",
                            ":closed": "closed",
                            ":now": iso(now),
                            ":inbox": open_key(case.id, self.open_shards),
                            ":waiting": waiting_key(case.queue),
                            ":queued_in": queue_inbox_key(case.queue),
                            ":since": place,
                        },
                        # never an erased case
                        f"#status = :closed AND attribute_not_exists(erased_at) AND {risk}",
                        NAMES,
                    ),
                ),
                ("count", open_count(self.table, case.id, self.open_shards, 1)),
            ]

        self._to_wait(case.id, iso(now), ops)

    def _to_wait(
        self,
        case_id: str,
        since: str,
        ops: Callable[[str, str, dict[str, Any]], list[tuple[str, dict[str, Any]]]],
    ) -> None:
        """A case (back) in its queue waits from `since`, first if its risk is high: its place
        is written on condition that its risk is still as read (`waiting_place`), so a risk and a
        place never disagree. A lost transaction whose case is as before (but for its risk) is
        planned again; otherwise its loss is the caller's, as from `_run`."""
        for _ in range(3):
            place, risk, held = waiting_place(self._get(case_key(case_id)), case_id, since)
            try:
                self._run(ops(place, risk, held))
                return
            except CaseChanged:
                now_held = waiting_place(self._get(case_key(case_id)), case_id, since)
                if now_held == (place, risk, held):
                    raise
        raise WriteConflict("risk")

    def add_reply(self, reply: Interaction, case: CaseRef, *, answered_by_assignee: bool) -> None:
        """A practitioner's reply onto the timeline, before it is sent, and only while the case
        is as they read it: open, with the same assignee (and, when `case.inbound_count` is set,
        no citizen message since). A reply racing a close or transfer is refused here, before
        anything leaves, never after. The first reply sets first_response_at; a reply by the
        assignee ends 'unanswered'."""
        condition, values = _held_by(case.assignee, case.inbound_count)
        expression = (
            "SET last_activity_at = :now, gsi1sk = :now, "
            "first_response_at = if_not_exists(first_response_at, :now)"
            " REMOVE waiting_since"
        )
        if answered_by_assignee:
            expression += ", gsi3pk, gsi3sk"
        self._run(
            [
                (
                    "case",
                    update(
                        self.table,
                        case_key(case.id),
                        expression,
                        {**values, ":now": iso(reply.at)},
                        "attribute_exists(pk) AND " + condition,
                        NAMES,
                    ),
                ),
                ("event", put(self.table, interaction_item(reply))),
            ]
        )

    def mark_presence(self, case_id: str, user_id: str, activity: str, until: datetime) -> None:
        """One entry per user in the case's `presence` map, overwritten by their next signal;
        readers ignore it once `until` has passed, so it expires by itself."""
        entry = {"activity": activity, "until": iso(until)}
        self._set_in_map(case_id, "presence", user_id, entry)

    def _set_in_map(self, case_id: str, attribute: str, user_id: str, value: Any) -> None:
        """One entry per user in a map attribute of the case item (a nested SET needs the map
        to exist, so the first entry creates it, unless someone just did)."""
        names = {"#m": attribute, "#u": user_id}
        for _ in range(3):
            if self._update(
                case_key(case_id),
                "SET #m.#u = :entry",
                {":entry": value},
                "attribute_exists(#m)",
                names,
            ):
                return
            # the case's first entry in the map: create it, unless someone just did
            if self._update(
                case_key(case_id),
                "SET #m = :map",
                {":map": {user_id: value}},
                "attribute_exists(pk) AND attribute_not_exists(#m)",
                {"#m": attribute},
            ):
                return
        raise WriteConflict(attribute)

    def set_waiting_queue(self, case_id: str, queue: str) -> bool:
        """A waiting case moves to the queue the citizen chose (it keeps its place in time)."""
        return self._update(
            case_key(case_id),
            "SET #queue = :queue, gsi3pk = :waiting, gsi4pk = :queued_in",
            {
                ":queue": queue,
                ":waiting": waiting_key(queue),
                ":queued_in": queue_inbox_key(queue),
                ":queued": "queued",
            },
            "#status = :queued",
            {**NAMES, "#queue": "queue"},
        )

    def request_callback(self, case_id: str, number: str, now: datetime) -> None:
        """The case shows a pending callback until a practitioner makes it."""
        self.client.update_item(
            TableName=self.table,
            Key=dump(case_key(case_id)),
            UpdateExpression="SET callback_number = :n, callback_requested_at = :now, "
            "last_activity_at = :now, gsi1sk = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=dump({":n": number, ":now": iso(now)}),
        )

    def count_callback_request(self, number: str, now: datetime, limit: int) -> bool:
        """Counts one callback request for `number` today; False once it has had `limit`.

        The item is keyed by a digest of the number, not the number, and expires after two
        days (DynamoDB's TTL), so it outlives no erasure by long and holds nothing readable."""
        day = now.astimezone(UTC).date().isoformat()
        digest = hashlib.sha256(number.encode()).hexdigest()
        return self._update(
            {"pk": f"CALLBACKS#{digest}", "sk": day},
            "ADD requests :one SET expires_at = :expires",
            {":one": 1, ":limit": limit, ":expires": int((now + timedelta(days=2)).timestamp())},
            "attribute_not_exists(requests) OR requests < :limit",
        )

    def clear_callback(self, case_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(case_key(case_id)),
            UpdateExpression="REMOVE callback_number, callback_requested_at",
        )

    def _release(self, practitioner_id: str | None) -> list[tuple[str, dict[str, Any]]]:
        if practitioner_id is None:
            return []
        return [
            (
                "previous",
                update(
                    self.table,
                    practitioner_key(practitioner_id),
                    "ADD active_cases :minus",
                    {":minus": -1, ":zero": 0},
                    "active_cases > :zero",
                ),
            )
        ]

    def _run(self, ops: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            self._transact(ops)
        except Cancelled as lost:
            _raise_for(lost)


def _held_by(assignee: str | None, inbound_count: int | None = None) -> tuple[str, dict[str, Any]]:
    """The case must still be open and with the assignee we read (nobody moved it meanwhile),
    and, given `inbound_count`, have received no message since we read it."""
    values: dict[str, Any] = {":closed": "closed"}
    if assignee is None:
        condition = "#status <> :closed AND attribute_not_exists(assignee)"
    else:
        values[":held_by"] = assignee
        condition = "#status <> :closed AND assignee = :held_by"
    if inbound_count is not None:
        values[":inbound"] = inbound_count
        condition += " AND inbound_count = :inbound"
    return condition, values


Start = tuple[str, str] | Literal[False] | None  # a shard's place: None its start, False done


def _position(item: dict[str, Any]) -> tuple[str, str]:
    """Where an entry sorts in a shard: last activity, then case id."""
    return item["gsi1sk"], item["pk"].removeprefix("CASE#")


def _shard_key(shard: int, position: tuple[str, str]) -> dict[str, Any]:
    at, case_id = position
    return dump({"gsi1pk": f"OPEN#{shard}", "gsi1sk": at, "pk": f"CASE#{case_id}", "sk": "CASE"})


def _encode_shards(starts: list[Start]) -> str:
    plain = {"open": [list(s) if isinstance(s, tuple) else s for s in starts]}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def _decode_shards(cursor: str | None, shards: int) -> list[Start]:
    """Every shard's position, each shaped like one we gave out; a cursor of another number of
    shards (the setting changed) or forged is refused: it could only move a manager's view of
    cases they may all see, but a bad key must be a 400, never DynamoDB's 500."""
    if cursor is None:
        return [None] * shards
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(plain, dict) or set(plain) != {"open"}:
            raise ValueError
        starts = plain["open"]
        if not isinstance(starts, list) or len(starts) != shards:
            raise ValueError
        decoded: list[Start] = []
        for start in starts:
            if start is None or start is False:
                decoded.append(start)
                continue
            if not isinstance(start, list) or len(start) != 2:
                raise ValueError
            at, case_id = start
            if not isinstance(at, str) or not isinstance(case_id, str):
                raise ValueError
            if not re.match(CURSOR_KEY["gsi1sk"], at) or not re.match(CASE_ID, case_id):
                raise ValueError
            decoded.append((at, case_id))
        if all(start is False for start in decoded):
            raise ValueError
        return decoded
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise InvalidCursor("The cursor is not one this inbox gave out.") from error


def _encode_cursor(key: dict[str, Any]) -> str:
    plain = {k: v["S"] for k, v in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


MAX_CURSOR = 2048  # ours are ~150 characters (~75 a shard); far longer was not given out by us
CASE_ID = r"[0-9a-zA-Z_-]{1,64}\Z"
CURSOR_KEY = {
    "pk": r"CASE#[0-9a-zA-Z_-]{1,64}\Z",
    "sk": r"CASE\Z",
    "gsi1sk": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z",
}


def _decode_cursor(cursor: str, partition: str) -> dict[str, Any]:
    """Only a key shaped like one we gave out: a forged one (empty, huge, another partition,
    not strings) would otherwise reach DynamoDB and come back as a 500."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(plain, dict) or set(plain) != {"pk", "sk", "gsi1pk", "gsi1sk"}:
            raise ValueError
        if not all(isinstance(v, str) for v in plain.values()) or plain["gsi1pk"] != partition:
            raise ValueError
        if not all(re.match(pattern, plain[k]) for k, pattern in CURSOR_KEY.items()):
            raise ValueError
        return {k: {"S": v} for k, v in plain.items()}
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise InvalidCursor("The cursor is not one this inbox gave out.") from error
