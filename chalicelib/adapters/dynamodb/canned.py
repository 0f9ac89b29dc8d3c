"""Storage for canned responses: the shared ones in one partition, each practitioner's own in
theirs, so a practitioner's list is two Queries whatever the number of colleagues."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb.base import StoreBase, put
from chalicelib.adapters.dynamodb.codec import dump
from chalicelib.domain.model import CannedResponse


def _partition(owner: str | None) -> str:
    return "CANNED#shared" if owner is None else f"CANNED#user#{owner}"


def _item(canned: CannedResponse) -> dict[str, Any]:
    return {
        "pk": _partition(canned.owner),
        "sk": f"CANNED#{canned.id}",
        "type": "canned",
        "id": canned.id,
        "title": canned.title,
        "body": canned.body,
        "owner": canned.owner,
    }


def _from(item: dict[str, Any]) -> CannedResponse:
    return CannedResponse(item["id"], item["title"], item["body"], item.get("owner"))


class DynamoCanned(StoreBase):
    def save_canned(self, canned: CannedResponse) -> None:
        self._put(_item(canned))

    def replace_canned(self, canned: CannedResponse) -> bool:
        """Overwrite one that exists under its owner; False when there is none (never made,
        deleted meanwhile, or someone else's: another owner's partition is not this key)."""
        item = _item(canned)
        return self._unless_lost(
            self.client.put_item, put(self.table, item, "attribute_exists(pk)")["Put"]
        )

    def canned_of(self, owner: str | None) -> list[CannedResponse]:
        """One owner's (None: the shared ones), in id order."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": _partition(owner)}),
        )
        return [_from(item) for item in items]

    def get_canned(self, owner: str | None, canned_id: str) -> CannedResponse | None:
        return self._get_as({"pk": _partition(owner), "sk": f"CANNED#{canned_id}"}, _from)

    def delete_canned(self, owner: str | None, canned_id: str) -> bool:
        answer = self.client.delete_item(
            TableName=self.table,
            Key=dump({"pk": _partition(owner), "sk": f"CANNED#{canned_id}"}),
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in answer
