"""DynamoDB adapter: the only module that knows keys, items and expressions.

Single-table layout (docs/data-model.md). Every multi-item change is one TransactWriteItems with
conditions, and a lost condition comes back as the domain's WriteRejected subclass naming which one,
so the domain can re-plan without knowing DynamoDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.hours import OpeningHours
from chalicelib.model import (
    CaseOpening,
    Delivery,
    Identity,
    IdentityRecord,
    InboundWrite,
    Interaction,
    Media,
    Practitioner,
    Webinar,
)
from chalicelib.ports import (
    CaseNotOpen,
    DuplicateDelivery,
    IdentityTaken,
    OpenCaseExists,
    WriteConflict,
)

DEDUPE_DAYS = 35  # longer than any provider's retry window

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def iso(at: datetime) -> str:
    """UTC timestamps with microseconds, so that string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def week_key(at: datetime) -> str:
    """gsi2 partition: the UTC ISO week. A report for a local week reads at most two of them."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"WEEK#{year}-W{week:02d}"


def identity_key(identity: Identity) -> dict[str, str]:
    return {"pk": f"IDENTITY#{identity.kind}#{identity.value}", "sk": "IDENTITY"}


def case_key(case_id: str) -> dict[str, str]:
    return {"pk": f"CASE#{case_id}", "sk": "CASE"}


def event_key(case_id: str, interaction_id: str) -> dict[str, str]:
    return {"pk": f"CASE#{case_id}", "sk": f"EVENT#{interaction_id}"}


def open_case_key(contact_id: str) -> dict[str, str]:
    return {"pk": f"CONTACT#{contact_id}", "sk": "OPENCASE"}


def dedupe_key(provider: str, provider_id: str) -> dict[str, str]:
    return {"pk": f"DEDUPE#{provider}#{provider_id}", "sk": "DEDUPE"}


HOURS_KEY = {"pk": "SETTINGS", "sk": "HOURS"}


class DynamoStore:
    """Storage for every domain module, over one boto3 DynamoDB client (thread-safe)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name

    # --- reads -------------------------------------------------------------------------------

    def _get(self, key: dict[str, str], consistent: bool = False) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=_dump(key), ConsistentRead=consistent
        )
        item = answer.get("Item")
        return _load(item) if item else None

    def find_identity(self, identity: Identity) -> IdentityRecord | None:
        item = self._get(identity_key(identity), consistent=True)
        if item is None:
            return None
        return IdentityRecord(
            identity=identity,
            contact_id=item["contact_id"],
            open_case_id=item.get("open_case_id"),
            opted_out=bool(item.get("opted_out", False)),
        )

    def find_open_case(self, contact_id: str) -> str | None:
        item = self._get(open_case_key(contact_id), consistent=True)
        return item["case_id"] if item else None

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None:
        item = self._get(dedupe_key(provider, provider_id), consistent=True)
        if item is None:
            return None
        return Delivery(
            case_id=item["case_id"], reply=item.get("reply"), reply_ref=item.get("reply_ref")
        )

    def load_hours(self) -> OpeningHours | None:
        item = self._get(HOURS_KEY)
        return OpeningHours.from_item(item["hours"]) if item else None

    def save_hours(self, hours: OpeningHours) -> None:
        self.client.put_item(
            TableName=self.table, Item=_dump({**HOURS_KEY, "hours": hours.to_item()})
        )

    def ensure_practitioner(self, practitioner: Practitioner) -> bool:
        """Create a practitioner profile unless it exists; True when created."""
        return self._put_new(
            {
                "pk": f"PRACTITIONER#{practitioner.id}",
                "sk": "PROFILE",
                "type": "practitioner",
                "id": practitioner.id,
                "display_name": practitioner.display_name,
                "queues": list(practitioner.queues),
                "languages": list(practitioner.languages),
                "max_active_cases": practitioner.max_active_cases,
                "active_cases": 0,
                "on_duty": practitioner.on_duty,
            }
        )

    def ensure_webinar(self, webinar: Webinar) -> bool:
        """Create a webinar session unless it exists; True when created."""
        return self._put_new(
            {
                "pk": f"WEBINAR#{webinar.id}",
                "sk": "WEBINAR",
                "type": "webinar",
                "id": webinar.id,
                "title": webinar.title,
                "starts_at": iso(webinar.starts_at),
                "duration_minutes": webinar.duration_minutes,
                "capacity": webinar.capacity,
                "waitlist_size": webinar.waitlist_size,
                "seats_taken": 0,
                "queue": webinar.queue,
                "join_url": webinar.join_url,
                "status": "scheduled",
                "gsi1pk": "WEBINARS",
                "gsi1sk": iso(webinar.starts_at),
            }
        )

    def _put_new(self, item: dict[str, Any]) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_dump(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_case_item(self, case_id: str) -> dict[str, Any] | None:
        return self._get(case_key(case_id), consistent=True)

    def get_reply_identity(self, case_id: str) -> Identity | None:
        """Where a reply on this case goes: the identity of the citizen's latest message."""
        item = self.get_case_item(case_id)
        if item is None:
            return None
        reply_to = item["reply_to"]
        return Identity(kind=reply_to["kind"], value=reply_to["value"])

    def timeline(self, case_id: str) -> list[Interaction]:
        """The whole timeline of a case, oldest first (paged through, consistent)."""
        interactions: list[Interaction] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :event)",
            "ExpressionAttributeValues": _dump({":pk": f"CASE#{case_id}", ":event": "EVENT#"}),
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            interactions += [_interaction(_load(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return interactions
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- writes ------------------------------------------------------------------------------

    def record_inbound(self, write: InboundWrite) -> None:
        """One transaction: identity, contact, case, interactions and the provider's dedupe item."""
        now = write.interactions[0].at
        inbound = write.interactions[0]
        reply_to = {"kind": write.identity.kind, "value": write.identity.value}
        ops: list[tuple[str, dict[str, Any]]] = []

        if write.new_contact:
            ops.append(
                (
                    "identity",
                    _put(
                        self.table,
                        {
                            **identity_key(write.identity),
                            "type": "identity",
                            "kind": write.identity.kind,
                            "value": write.identity.value,
                            "contact_id": write.contact_id,
                            "open_case_id": write.case_id,
                            "opted_out": bool(write.opted_out),
                            "created_at": iso(now),
                        },
                    ),
                )
            )
            ops.append(
                (
                    "contact",
                    _put(
                        self.table,
                        {
                            "pk": f"CONTACT#{write.contact_id}",
                            "sk": "PROFILE",
                            "type": "contact",
                            "id": write.contact_id,
                            "created_at": iso(now),
                            "identities": [f"{write.identity.kind}#{write.identity.value}"],
                        },
                    ),
                )
            )
        elif write.link_identity or write.opted_out is not None:
            sets, values = ["contact_id = :cid"], {":cid": write.contact_id}
            if write.link_identity:
                sets.append("open_case_id = :case")
                values[":case"] = write.case_id
            if write.opted_out is not None:
                sets.append("opted_out = :out")
                values[":out"] = write.opted_out
            ops.append(
                (
                    "identity",
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _dump(identity_key(write.identity)),
                            "UpdateExpression": "SET " + ", ".join(sets[1:]),
                            "ConditionExpression": "contact_id = :cid",
                            "ExpressionAttributeValues": _dump(values),
                        }
                    },
                )
            )

        if write.opening is not None:
            ops.append(
                (
                    "open_case",
                    _put(
                        self.table,
                        {
                            **open_case_key(write.contact_id),
                            "type": "open_case",
                            "case_id": write.case_id,
                        },
                    ),
                )
            )
            ops.append(("case", _put(self.table, _case_item(write.opening, reply_to, now))))
        else:
            ops.append(
                (
                    "case",
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _dump(case_key(write.case_id)),
                            "UpdateExpression": (
                                "SET last_activity_at = :at, gsi1sk = :at, reply_to = :reply_to, "
                                "last_inbound_at = :at ADD inbound_count :one"
                            ),
                            "ConditionExpression": "attribute_exists(pk) AND #status <> :closed",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": _dump(
                                {
                                    ":at": iso(now),
                                    ":reply_to": reply_to,
                                    ":one": 1,
                                    ":closed": "closed",
                                }
                            ),
                        }
                    },
                )
            )

        for interaction in write.interactions:
            ops.append(("interaction", _put(self.table, _interaction_item(interaction))))

        ops.append(
            (
                "dedupe",
                _put(
                    self.table,
                    {
                        **dedupe_key(write.provider, write.provider_id),
                        "type": "dedupe",
                        "case_id": write.case_id,
                        "interaction_id": inbound.id,
                        "reply": write.reply,
                        "reply_ref": (
                            f"{write.case_id}.{write.interactions[1].id}"
                            if len(write.interactions) > 1
                            else None
                        ),
                        "expires_at": int((now + timedelta(days=DEDUPE_DAYS)).timestamp()),
                    },
                ),
            )
        )
        self._transact(ops)

    def add_interaction(self, interaction: Interaction) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_dump(_interaction_item(interaction)),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def update_delivery_status(
        self,
        case_id: str,
        interaction_id: str,
        status: str,
        rank: int,
        provider_id: str | None = None,
        error_code: str | None = None,
    ) -> bool:
        """Move a message's status forward only: a late or repeated callback changes nothing."""
        sets = ["#status = :status", "status_rank = :rank"]
        values: dict[str, Any] = {":status": status, ":rank": rank}
        if provider_id:
            sets.append("provider_id = :pid")
            values[":pid"] = provider_id
        if error_code:
            sets.append("error_code = :err")
            values[":err"] = error_code
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_dump(event_key(case_id, interaction_id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=(
                    "attribute_exists(pk) AND (attribute_not_exists(status_rank) "
                    "OR status_rank < :rank)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_dump(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _transact(self, ops: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            self.client.transact_write_items(TransactItems=[op for _, op in ops])
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "TransactionConflictException":
                raise WriteConflict(code) from error
            if code != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or _reasons_from(error, len(ops))
            failed = {
                role
                for (role, _), reason in zip(ops, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            }
            if "dedupe" in failed:
                raise DuplicateDelivery(code) from error
            if "identity" in failed:
                raise IdentityTaken(code) from error
            if "open_case" in failed:
                raise OpenCaseExists(code) from error
            if "case" in failed:
                raise CaseNotOpen(code) from error
            raise WriteConflict(code) from error


def _reasons_from(error: ClientError, count: int) -> list[dict[str, str]]:
    """Some servers give the reasons only in the message: "[None, ConditionalCheckFailed]"."""
    message = error.response["Error"].get("Message", "")
    start, end = message.rfind("["), message.rfind("]")
    if start == -1 or end == -1:
        return [{}] * count
    codes = [part.strip() for part in message[start + 1 : end].split(",")]
    return [{"Code": code} for code in codes]


def _put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table,
            "Item": _dump(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _case_item(opening: CaseOpening, reply_to: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        **case_key(opening.case_id),
        "type": "case",
        "id": opening.case_id,
        "contact_id": opening.contact_id,
        "status": "queued",
        "queue": opening.queue,
        "channel": opening.channel,
        "opened_at": iso(opening.opened_at),
        "last_activity_at": iso(now),
        "last_inbound_at": iso(now),
        "inbound_count": 1,
        "reply_to": reply_to,
        "gsi1pk": f"QUEUE#{opening.queue}",
        "gsi1sk": iso(now),
        "gsi2pk": week_key(opening.opened_at),
        "gsi2sk": f"{iso(opening.opened_at)}#CASE#{opening.case_id}",
    }


def _interaction_item(interaction: Interaction) -> dict[str, Any]:
    return {
        **event_key(interaction.case_id, interaction.id),
        "type": "interaction",
        "id": interaction.id,
        "case_id": interaction.case_id,
        "at": iso(interaction.at),
        "channel": interaction.channel,
        "direction": interaction.direction,
        "body": interaction.body,
        "provider": interaction.provider,
        "provider_id": interaction.provider_id,
        "status": interaction.status,
        "status_rank": 0 if interaction.status else None,
        "media": [{"url": m.url, "content_type": m.content_type} for m in interaction.media]
        or None,
        "automated": interaction.automated or None,
        "to": interaction.to,
        "gsi2pk": week_key(interaction.at),
        "gsi2sk": f"{iso(interaction.at)}#EVENT#{interaction.id}",
    }


def _interaction(item: dict[str, Any]) -> Interaction:
    return Interaction(
        id=item["id"],
        case_id=item["case_id"],
        at=parse_iso(item["at"]),
        channel=item["channel"],
        direction=item["direction"],
        body=item.get("body", ""),
        provider=item.get("provider"),
        provider_id=item.get("provider_id"),
        status=item.get("status"),
        media=tuple(
            Media(url=m["url"], content_type=m["content_type"]) for m in item.get("media", [])
        ),
        automated=bool(item.get("automated", False)),
        to=item.get("to"),
        error_code=item.get("error_code"),
    )
