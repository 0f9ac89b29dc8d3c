"""The client, the table, and the two primitives everything else uses: reads and transactions."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.codec import dump, load


class Cancelled(Exception):
    """A transaction lost; `failed` names the roles whose condition failed (empty: a conflict)."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)) or "conflict")
        self.failed = failed


class StoreBase:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def _get(self, key: dict[str, str], consistent: bool = True) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=dump(key), ConsistentRead=consistent
        )
        item = answer.get("Item")
        return load(item) if item else None

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Create unless it exists; True when created."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=dump(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

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


def put(
    table: str, item: dict[str, Any], condition: str | None = "attribute_not_exists(pk)"
) -> dict[str, Any]:
    operation: dict[str, Any] = {"TableName": table, "Item": dump(item)}
    if condition:
        operation["ConditionExpression"] = condition
    return {"Put": operation}


def update(
    table: str,
    key: dict[str, str],
    expression: str,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "TableName": table,
        "Key": dump(key),
        "UpdateExpression": expression,
    }
    if values:
        operation["ExpressionAttributeValues"] = dump(values)
    if condition:
        operation["ConditionExpression"] = condition
    if names:
        operation["ExpressionAttributeNames"] = names
    return {"Update": operation}


def delete(
    table: str,
    key: dict[str, str],
    condition: str,
    values: dict[str, Any],
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "TableName": table,
        "Key": dump(key),
        "ConditionExpression": condition,
        "ExpressionAttributeValues": dump(values),
    }
    if names:
        operation["ExpressionAttributeNames"] = names
    return {"Delete": operation}


def _reasons_from(error: ClientError, count: int) -> list[dict[str, str]]:
    """Some servers give the reasons only in the message: "[None, ConditionalCheckFailed]"."""
    message = error.response["Error"].get("Message", "")
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end == -1:
        return [{}] * count
    return [{"Code": part.strip()} for part in message[start + 1 : end].split(",")]
