"""Synthetic weeks for the report benchmark: N contacts (a case and an inbound SMS each) written
with BatchWriteItem, through the store's own item builders."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from chalicelib.adapters.dynamodb.items import interaction_item, new_case_item
from chalicelib.domain.ids import interaction_id, new_id, reply_token
from chalicelib.domain.model import CaseOpening, Interaction

_serializer = TypeSerializer()


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def contacts_in_week(monday: datetime, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        at = monday + timedelta(seconds=rng.randrange(7 * 24 * 3600 - 4 * 3600))
        case_id, contact_id = new_id(), new_id()
        opening = CaseOpening(case_id, contact_id, "general", "sms", at, reply_token())
        items.append(new_case_item(opening, {"kind": "phone", "value": "+4500000000"}, at))
        message = Interaction(
            interaction_id(at),
            case_id,
            at,
            "sms",
            "in",
            "x",
            provider="twilio",
            provider_id=new_id(),
        )
        items.append({**interaction_item(message), "contact_id": contact_id})
    return items


def write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    def batch(chunk: list[dict[str, Any]]) -> None:
        pending = {table: [{"PutRequest": {"Item": _typed(i)}} for i in chunk]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")

    chunks = [items[n : n + 25] for n in range(0, len(items), 25)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(batch, chunks))
