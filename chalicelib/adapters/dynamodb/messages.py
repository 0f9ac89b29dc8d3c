"""Storage for messages on a case timeline and their delivery status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, delete, put, update
from chalicelib.adapters.dynamodb.codec import case_key, dump, event_key, iso, load, parse_iso
from chalicelib.adapters.dynamodb.items import OUTBOX, interaction_item, outbox_slot
from chalicelib.domain import positions
from chalicelib.domain.errors import WriteConflict
from chalicelib.domain.model import Identity, Interaction, Mention, Parked, Retry, StatusUpdate

MENTION_DAYS = 90  # a mention older than a quarter is history: the note stays on the case


def _mention_key(user_id: str, position: str) -> dict[str, str]:
    return {"pk": f"MENTIONS#{user_id}", "sk": position}


class DynamoMessages(StoreBase):
    def get_reply_identity(self, case_id: str) -> Identity | None:
        """Where a reply on this case goes: the identity of the citizen's latest message."""
        item = self._get(case_key(case_id))
        if item is None:
            return None
        return Identity(kind=item["reply_to"]["kind"], value=item["reply_to"]["value"])

    def add_interaction(self, interaction: Interaction) -> None:
        self.client.put_item(**put(self.table, interaction_item(interaction))["Put"])

    def add_note(self, note: Interaction, mentioned: tuple[str, ...]) -> None:
        """The note and an entry in each mentioned practitioner's mentions, unread, in one
        transaction (a note is never half mentioned). Each unread one also has a marker in
        the practitioner's `UNREAD#` partition, by case: opening a case finds its markers with
        one Query, and the count reads only the unread. Both expire after MENTION_DAYS."""
        ops = [("note", put(self.table, interaction_item(note)))]
        expires = int((note.at + timedelta(days=MENTION_DAYS)).timestamp())
        for user in mentioned:
            position = f"{iso(note.at)}#{note.case_id}#{note.id}"
            entry = {
                "type": "mention",
                "case_id": note.case_id,
                "note_id": note.id,
                "author": note.author,
                "at": iso(note.at),
                "expires_at": expires,
            }
            ops.append(
                (
                    "mention",
                    put(self.table, {**_mention_key(user, position), **entry, "unread": True}),
                )
            )
            marker = {"pk": f"UNREAD#{user}", "sk": f"{note.case_id}#{position}"}
            ops.append(
                (
                    "unread",
                    put(self.table, {**marker, "type": "mention_unread", "expires_at": expires}),
                )
            )
        try:
            self._transact(ops)
        except Cancelled as lost:
            raise WriteConflict(str(lost)) from lost

    def mentions_of(
        self, user_id: str, limit: int, after: str | None = None
    ) -> tuple[list[Mention], str | None]:
        """Newest first, after a position (None: from the newest): one Query of the user's own
        partition; the position where the next page starts (None: no more)."""
        condition, values = "pk = :pk", {":pk": f"MENTIONS#{user_id}"}
        if after is not None:
            positions.checked(after, positions.MENTION)
            condition += " AND sk < :after"
            values[":after"] = after
        page = self.client.query(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=dump(values),
            ScanIndexForward=False,
            Limit=limit,
        )
        items = [load(item) for item in page.get("Items", [])]
        mentions = [
            Mention(
                user_id,
                i["case_id"],
                i["note_id"],
                i["author"],
                parse_iso(i["at"]),  # type: ignore[arg-type]  # always set
                read=not i.get("unread", False),
            )
            for i in items
        ]
        more = "LastEvaluatedKey" in page and bool(items)
        return mentions, items[-1]["sk"] if more else None

    def read_mentions(self, user_id: str, case_id: str) -> None:
        """The user's unread mentions on this case marked read: one Query of their markers for
        it (none, mostly), then per mention its marker gone and its entry read, together."""
        markers = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :case)",
            ExpressionAttributeValues=dump({":pk": f"UNREAD#{user_id}", ":case": f"{case_id}#"}),
        )
        for marker in markers:
            key = {"pk": marker["pk"], "sk": marker["sk"]}
            position = marker["sk"].removeprefix(f"{case_id}#")
            try:
                self._transact(
                    [
                        ("unread", delete(self.table, key, "attribute_exists(pk)", {})),
                        (
                            "mention",
                            update(
                                self.table,
                                _mention_key(user_id, position),
                                "REMOVE unread",
                                condition="attribute_exists(pk)",
                            ),
                        ),
                    ]
                )
            except Cancelled:  # read meanwhile (another tab), or its entry expired first
                self.client.delete_item(TableName=self.table, Key=dump(key))

    def count_mentions(self, user_id: str) -> int:
        """How many unread mentions the user has (the last MENTION_DAYS): their markers only."""
        return self._count(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": f"UNREAD#{user_id}"}),
        )

    def add_interaction_once(self, interaction: Interaction) -> bool:
        """For ids derived from the provider's: False when it was recorded already."""
        return self._put_new(interaction_item(interaction))

    def mark_call_answered(self, case_id: str, interaction_id: str, answered: bool) -> None:
        self.client.update_item(
            **update(
                self.table,
                event_key(case_id, interaction_id),
                "SET answered = :a",
                {":a": answered},
                "attribute_exists(pk)",
            )["Update"]
        )

    def mark_call_wait(self, case_id: str, call_id: str, at: datetime, ended: bool) -> None:
        """When the caller started waiting for a practitioner (the <Dial>), or when that wait
        ended: the first report stands (a retried callback comes later and would lengthen it)."""
        field = "waited_until" if ended else "waiting_at"
        self.client.update_item(
            **update(
                self.table,
                event_key(case_id, call_id),
                f"SET {field} = if_not_exists({field}, :w)",
                {":w": iso(at)},
                "attribute_exists(pk)",
            )["Update"]
        )

    def update_delivery_status(
        self, case_id: str, interaction_id: str, update: StatusUpdate
    ) -> bool:
        """Move a message's or call's status forward only: a late or repeated callback changes
        nothing, so a call's minutes are never counted twice. A status means the provider has
        the message: it leaves the outbox in the same write (a lease, or a retry's slot)."""
        sets, values = _status_sets(update)
        return self._update(
            event_key(case_id, interaction_id),
            sets + _OUT_OF_OUTBOX,
            values,
            "attribute_exists(pk) AND (attribute_not_exists(status_rank) OR status_rank < :rank)",
            {"#status": "status"},
        )


def _status_sets(update: StatusUpdate) -> tuple[str, dict[str, Any]]:
    """The SET clause and values for a new delivery status and whichever of its other fields
    are given (None or "" leaves the stored value as it was)."""
    sets = ["#status = :status", "status_rank = :rank"]
    values: dict[str, Any] = {":status": update.status, ":rank": update.rank}
    for name in ("provider_id", "error_code", "provider", "duration_seconds"):
        value = getattr(update, name)
        if value is not None and value != "":
            sets.append(f"{name} = :{name}")
            values[f":{name}"] = value
    return "SET " + ", ".join(sets), values


_OUT_OF_OUTBOX = " REMOVE gsi3pk, gsi3sk, next_try_at"
ADDRESSED = "attribute_exists(pk) AND attribute_exists(#to)"  # erasure removes the address


class DynamoOutbox(StoreBase):
    """Parked messages sit in the sparse gsi3 under OUTBOX, ordered by their next try; so does
    every message recorded before it is sent, until its lease ends (`interaction_item`)."""

    def add_interaction_unless_erased(self, interaction: Interaction) -> bool:
        """An automatic message (a webinar's) goes on its case before it is sent, unless the
        case's citizen was erased meanwhile (False): it must not bring their address back."""
        try:
            self._transact(
                [
                    (
                        "case",
                        {
                            "ConditionCheck": {
                                "TableName": self.table,
                                "Key": dump(case_key(interaction.case_id)),
                                "ConditionExpression": "attribute_not_exists(erased_at)",
                            }
                        },
                    ),
                    ("event", put(self.table, interaction_item(interaction))),
                ]
            )
        except Cancelled as lost:
            if "case" in lost.failed:
                return False
            raise
        return True

    def park(self, case_id: str, interaction_id: str, retry: Retry) -> bool:
        """False when the message has no address left (its contact was erased): it must never
        wait for a retry that would send it to nobody, or to whoever gets the address next."""
        sets = (
            "SET #status = :retrying, attempts = :n, next_try_at = :at, error_code = :err, "
            "gsi3pk = :outbox, gsi3sk = :slot"
        )
        values: dict[str, Any] = {
            ":retrying": "retrying",
            ":n": retry.attempts,
            ":at": iso(retry.at),
            ":err": retry.error,
            ":outbox": OUTBOX,
            ":slot": outbox_slot(retry.at, case_id, interaction_id),
        }
        if retry.raw_key:
            sets += ", outbox_raw_key = :raw"
            values[":raw"] = retry.raw_key
        return self._update(
            event_key(case_id, interaction_id),
            sets,
            values,
            ADDRESSED,
            {"#status": "status", "#to": "to"},
        )

    def due(self, now: datetime) -> list[Parked]:
        items = self._query_all(
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :o AND gsi3sk <= :now",
            ExpressionAttributeValues=dump({":o": OUTBOX, ":now": iso(now) + "#~"}),
        )
        parked = []
        for slot in items:
            item = self._get({"pk": slot["pk"], "sk": slot["sk"]})
            if item is not None and item.get("gsi3pk") == OUTBOX and item.get("to"):
                parked.append(
                    Parked(
                        item["case_id"],
                        item["id"],
                        item["channel"],
                        item.get("to", ""),
                        item.get("body", ""),
                        int(item.get("attempts", 0)),  # 0: its first send was interrupted
                        item["gsi3sk"],
                        item.get("outbox_raw_key"),
                        bool(item.get("automated", False)),
                    )
                )
        return parked

    def claim(self, entry: Parked, lease_until: datetime) -> bool:
        return self._update(
            event_key(entry.case_id, entry.interaction_id),
            "SET gsi3sk = :lease",
            {
                ":slot": entry.slot,
                ":lease": outbox_slot(lease_until, entry.case_id, entry.interaction_id),
            },
            "gsi3sk = :slot AND attribute_exists(#to)",
            {"#to": "to"},
        )

    def cancel_parked(self, case_id: str, interaction_id: str) -> bool:
        """Out of the outbox for good (its contact is being erased); False if it was not there.
        A retry that claimed it already finds no address when it wants to park it again."""
        return self._update(
            event_key(case_id, interaction_id),
            "SET #status = :failed, status_rank = :rank, error_code = :why "
            "REMOVE gsi3pk, gsi3sk, next_try_at, outbox_raw_key",
            {":failed": "failed", ":rank": 4, ":why": "cancelled: erased", ":outbox": OUTBOX},
            "gsi3pk = :outbox",
            {"#status": "status"},
        )

    def unpark(self, case_id: str, interaction_id: str, update: StatusUpdate) -> None:
        sets, values = _status_sets(update)
        self._update(
            event_key(case_id, interaction_id),
            sets + _OUT_OF_OUTBOX,
            values,
            names={"#status": "status"},
        )
