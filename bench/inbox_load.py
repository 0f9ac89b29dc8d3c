"""Open cases for the inbox benchmark and its scale test, written with BatchWriteItem (25 a
request, a few in parallel) through the store's own item builder, as intake and routing leave
them: waiting in a queue, or assigned to a practitioner."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.codec import OPEN_SHARDS, dump, iso, mine_key, open_count_key
from chalicelib.adapters.dynamodb.items import new_case_item
from chalicelib.domain.ids import new_id
from chalicelib.domain.model import CaseOpening

REPLY_TO = {"kind": "phone", "value": "+4520000000"}
# what neither the inbox nor its measures read: fewer bytes, a faster load
UNREAD = ("gsi2pk", "gsi2sk", "reply_to", "reply_token", "channels", "queued_at")


def open_cases(
    client: Any,
    table: str,
    at: datetime,
    count: int,
    queue: str,
    assignee: str | None = None,
    start: int = 0,
    shards: int = OPEN_SHARDS,
) -> list[str]:
    """`count` open cases, one a second from `at + start` seconds; their ids, oldest first."""
    ids, items = [], []
    for n in range(count):
        when = at + timedelta(seconds=start + n)
        case_id = new_id()
        opening = CaseOpening(case_id, new_id(), queue, "sms", when, new_id())
        item = new_case_item(opening, REPLY_TO, when, shards)
        for name in UNREAD:
            del item[name]
        if assignee is not None:
            del item["gsi3pk"], item["gsi3sk"]
            item.update(status="assigned", assignee=assignee, assigned_at=iso(when))
            item.update(gsi4pk=mine_key(assignee), gsi4sk=f"{iso(when)}#{case_id}")
        ids.append(case_id)
        items.append(item)
    batches = [
        [{"PutRequest": {"Item": dump(item)}} for item in items[i : i + 25]]
        for i in range(0, len(items), 25)
    ]

    def write(batch: list[dict[str, Any]]) -> None:
        while batch:
            answer = client.batch_write_item(RequestItems={table: batch})
            batch = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, batches))
    for shard, count in Counter(item["gsi1pk"] for item in items).items():
        client.update_item(  # as intake counts each case it opens
            TableName=table,
            Key=dump(open_count_key(shard)),
            UpdateExpression="SET #type = :count ADD open_cases :n",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues=dump({":n": count, ":count": "count"}),
        )
    return ids
