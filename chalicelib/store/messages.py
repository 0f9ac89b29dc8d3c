"""Storage for messages on a case timeline and their delivery status."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.model import Identity, Interaction
from chalicelib.store.base import StoreBase
from chalicelib.store.codec import case_key, dump, event_key
from chalicelib.store.items import interaction_item


class MessageStore(StoreBase):
    def get_reply_identity(self, case_id: str) -> Identity | None:
        """Where a reply on this case goes: the identity of the citizen's latest message."""
        item = self._get(case_key(case_id))
        if item is None:
            return None
        return Identity(kind=item["reply_to"]["kind"], value=item["reply_to"]["value"])

    def add_interaction(self, interaction: Interaction) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=dump(interaction_item(interaction)),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def add_interaction_once(self, interaction: Interaction) -> bool:
        """For ids derived from the provider's: False when it was recorded already."""
        try:
            self.add_interaction(interaction)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_call_answered(self, case_id: str, interaction_id: str, answered: bool) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(event_key(case_id, interaction_id)),
            UpdateExpression="SET answered = :a",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=dump({":a": answered}),
        )

    def update_delivery_status(
        self,
        case_id: str,
        interaction_id: str,
        status: str,
        rank: int,
        provider_id: str | None = None,
        error_code: str | None = None,
        provider: str | None = None,
        duration_seconds: int | None = None,
    ) -> bool:
        """Move a message's or call's status forward only: a late or repeated callback changes
        nothing, so a call's minutes are never counted twice."""
        sets = ["#status = :status", "status_rank = :rank"]
        values: dict[str, Any] = {":status": status, ":rank": rank}
        for name, value in (
            ("provider_id", provider_id),
            ("error_code", error_code),
            ("provider", provider),
            ("duration_seconds", duration_seconds),
        ):
            if value is not None and value != "":
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump(event_key(case_id, interaction_id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=(
                    "attribute_exists(pk) AND (attribute_not_exists(status_rank) "
                    "OR status_rank < :rank)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=dump(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
