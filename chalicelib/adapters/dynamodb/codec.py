"""Keys, timestamps and (de)serialisation: how domain values look inside the table."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.domain.model import Identity

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

HOURS_KEY = {"pk": "SETTINGS", "sk": "HOURS"}
INBOX_OPEN = "INBOX#open"  # before the shards: only `index_open_cases` still reads it
OPEN_SHARDS = 8  # the default number of keys the open cases are spread over (INBOX_SHARDS)
MAX_OPEN_SHARDS = 16  # a cursor holds a place in each: 16 keep it under 2 KB
INBOX_CLOSED = "INBOX#closed"
UNANSWERED = "UNANSWERED"
PRACTITIONERS = "PRACTITIONERS"


def dump(item: dict[str, Any]) -> dict[str, Any]:
    """To DynamoDB's typed JSON; None means 'leave the attribute out'."""
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def iso(at: datetime) -> str:
    """UTC timestamps with microseconds, so that string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)  # C speed; our stamps always end in Z (UTC)


def week_key(at: datetime) -> str:
    """gsi2 partition: the UTC ISO week. A report for a local week reads at most two of them."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"WEEK#{year}-W{week:02d}"


def identity_key(identity: Identity) -> dict[str, str]:
    return {"pk": f"IDENTITY#{identity.kind}#{identity.value}", "sk": "IDENTITY"}


def contact_key(contact_id: str) -> dict[str, str]:
    return {"pk": f"CONTACT#{contact_id}", "sk": "PROFILE"}


def open_case_key(contact_id: str) -> dict[str, str]:
    return {"pk": f"CONTACT#{contact_id}", "sk": "OPENCASE"}


def case_key(case_id: str) -> dict[str, str]:
    return {"pk": f"CASE#{case_id}", "sk": "CASE"}


def event_key(case_id: str, interaction_id: str) -> dict[str, str]:
    return {"pk": f"CASE#{case_id}", "sk": f"EVENT#{interaction_id}"}


def read_key(case_id: str, at: datetime, user_id: str) -> dict[str, str]:
    return {"pk": f"CASE#{case_id}", "sk": f"READ#{iso(at)}#{user_id}"}


def mail_token_key(token: str) -> dict[str, str]:
    return {"pk": f"MAILTOKEN#{token}", "sk": "MAILTOKEN"}


def message_id_key(message_id: str) -> dict[str, str]:
    return {"pk": f"MSGID#{message_id}", "sk": "MSGID"}


def dedupe_key(provider: str, provider_id: str) -> dict[str, str]:
    """Keyed by a digest of the provider's id, never the id itself: the item outlives an erasure
    as a tombstone (so a provider's retry records nothing), and some ids are chosen by the
    sender (an email's Message-ID) and may name them."""
    digest = hashlib.sha256(provider_id.encode()).hexdigest()
    return {"pk": f"DEDUPE#{provider}#{digest}", "sk": "DEDUPE"}


def practitioner_key(practitioner_id: str) -> dict[str, str]:
    return {"pk": f"PRACTITIONER#{practitioner_id}", "sk": "PROFILE"}


def waiting_key(queue: str) -> str:
    return f"WAITING#{queue}"


def mine_key(practitioner_id: str) -> str:
    """gsi4: a practitioner's profile (at PROFILE_SK, first) and then their open cases, in the
    order they were handed them (full copies): one Query reads who they are and what they hold."""
    return f"MINE#{practitioner_id}"


PROFILE_SK = "!profile"  # the profile's gsi4 sort key: before every case's "<time>#<case id>"


def open_key(case_id: str, shards: int) -> str:
    """gsi1: an open case's shard of the managers' inbox, `OPEN#<n>`, n from a hash of its id
    (fixed for the case's life, spread evenly): no one key takes every open-case write."""
    digest = hashlib.sha256(case_id.encode()).digest()
    return f"OPEN#{int.from_bytes(digest[:4], 'big') % shards}"


def open_count_key(shard: str) -> dict[str, str]:
    """The counter of the open cases in one shard (`OPEN#<n>`), a key of its own: moved by the
    same transaction as every case that enters or leaves the shard."""
    return {"pk": f"COUNT#{shard}", "sk": "COUNT"}


def queue_inbox_key(queue: str) -> str:
    """gsi4: a queue's waiting cases, longest waiting first (full copies, unlike gsi3's)."""
    return f"QUEUED#{queue}"
