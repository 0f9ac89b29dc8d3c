"""The client, the table, and the two primitives everything else uses: reads and transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.codec import OPEN_SHARDS, dump, load

T = TypeVar("T")


class Cancelled(Exception):
    """A transaction lost; `failed` names the roles whose condition failed (empty: a conflict)."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)) or "conflict")
        self.failed = failed


class StoreBase:
    def __init__(self, client: Any, table_name: str, open_shards: int = OPEN_SHARDS) -> None:
        self.client = client
        self.table = table_name
        self.open_shards = open_shards  # the same for every writer and reader of a table

    def _get(self, key: dict[str, str], consistent: bool = True) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=dump(key), ConsistentRead=consistent
        )
        item = answer.get("Item")
        return load(item) if item else None

    def _batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The items of up to 100 distinct keys, read consistently in one BatchGetItem (more
        only for the keys DynamoDB left unprocessed, when throttled); those with no item are
        absent from the answer, which comes in no particular order."""
        if len(keys) > 100:
            raise ValueError("BatchGetItem reads at most 100 keys")
        if not keys:
            return []
        pending: dict[str, Any] = {
            self.table: {"Keys": [dump(key) for key in keys], "ConsistentRead": True}
        }
        items: list[dict[str, Any]] = []
        while pending:  # throttled: the rest again
            answer = self.client.batch_get_item(RequestItems=pending)
            items += answer.get("Responses", {}).get(self.table, [])
            pending = answer.get("UnprocessedKeys", {})
        return [load(item) for item in items]

    def _get_as(self, key: dict[str, str], into: Callable[[dict[str, Any]], T]) -> T | None:
        """The item read (consistently) into a domain object; None when there is none."""
        item = self._get(key)
        return into(item) if item else None

    def _put(self, item: dict[str, Any]) -> None:
        """Write the item whole, replacing any with its key."""
        self.client.put_item(TableName=self.table, Item=dump(item))

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Create unless it exists; True when created."""
        return self._unless_lost(self.client.put_item, put(self.table, item)["Put"])

    def _update(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        """One UpdateItem; False when its condition did not hold."""
        operation = update(self.table, key, expression, values, condition, names)["Update"]
        return self._unless_lost(self.client.update_item, operation)

    def _delete(
        self,
        key: dict[str, str],
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        """One DeleteItem; False when its condition did not hold."""
        operation = delete(self.table, key, condition, values, names)["Delete"]
        return self._unless_lost(self.client.delete_item, operation)

    def _set_fields(
        self,
        key: dict[str, str],
        fields: dict[str, Any],
        condition: str,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Set each of `fields` (through names, so reserved words are fine) when `condition`
        holds; the item as it is afterwards, or None when the condition did not hold."""
        return self._update_new(
            key,
            "SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            {**{f":{k}": v for k, v in fields.items()}, **(values or {})},
            condition,
            {**{f"#{k}": k for k in fields}, **(names or {})},
        )

    def _update_new(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        condition: str,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The item as it is after one UpdateItem; None when its condition did not hold."""
        operation = update(self.table, key, expression, values, condition, names)["Update"]
        answer = self._write(self.client.update_item, {**operation, "ReturnValues": "ALL_NEW"})
        return load(answer["Attributes"]) if answer is not None else None

    def _unless_lost(self, call: Any, operation: dict[str, Any]) -> bool:
        """One conditional write; False when only its condition failed."""
        return self._write(call, operation) is not None

    @staticmethod
    def _write(call: Any, operation: dict[str, Any]) -> dict[str, Any] | None:
        """One conditional write and its answer; None when only its condition failed (callers
        read that as "someone else got there first" or "it is gone"), other errors raise."""
        try:
            answer: dict[str, Any] = call(**operation)
        except ClientError as error:
            if lost_condition(error):
                return None
            raise
        return answer

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.query(TableName=self.table, **kwargs)
            items += [load(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _count(self, **kwargs: Any) -> int:
        """How many items a Query matches (`Select=COUNT`): no items cross the wire, but DynamoDB
        still charges the RCU of reading them, so only partitions bounded by what they hold."""
        count = 0
        while True:
            page = self.client.query(TableName=self.table, Select="COUNT", **kwargs)
            count += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return count
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _transact(self, ops: list[tuple[str, dict[str, Any]]]) -> None:
        """One TransactWriteItems; a lost condition raises Cancelled naming the roles."""
        try:
            self.client.transact_write_items(TransactItems=[op for _, op in ops])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "TransactionConflictException":
                raise Cancelled(set()) from error
            if code != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or _reasons_from(error, len(ops))
            raise Cancelled(
                {
                    role
                    for (role, _), reason in zip(ops, reasons, strict=False)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
            ) from error


def lost_condition(error: ClientError) -> bool:
    """True when a single write failed only because its condition did not hold."""
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def put(
    table: str, item: dict[str, Any], condition: str | None = "attribute_not_exists(pk)"
) -> dict[str, Any]:
    return {"Put": _conditioned({"TableName": table, "Item": dump(item)}, condition)}


def update(
    table: str,
    key: dict[str, str],
    expression: str,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    operation = {"TableName": table, "Key": dump(key), "UpdateExpression": expression}
    return {"Update": _conditioned(operation, condition, values, names)}


def delete(
    table: str,
    key: dict[str, str],
    condition: str,
    values: dict[str, Any],
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    operation = {"TableName": table, "Key": dump(key)}
    return {"Delete": _conditioned(operation, condition, values, names)}


def _conditioned(
    operation: dict[str, Any],
    condition: str | None,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The operation with whichever of the condition, values and names are given: DynamoDB
    refuses an empty ExpressionAttributeValues or ExpressionAttributeNames."""
    if condition:
        operation["ConditionExpression"] = condition
    if values:
        operation["ExpressionAttributeValues"] = dump(values)
    if names:
        operation["ExpressionAttributeNames"] = names
    return operation


def _reasons_from(error: ClientError, count: int) -> list[dict[str, str]]:
    """Some servers give the reasons only in the message: "[None, ConditionalCheckFailed]"."""
    message = error.response["Error"].get("Message", "")
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end == -1:
        return [{}] * count
    return [{"Code": part.strip()} for part in message[start + 1 : end].split(",")]
