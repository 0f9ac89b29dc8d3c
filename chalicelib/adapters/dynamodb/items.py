"""Domain objects to items and back (one place per kind of item)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import update
from chalicelib.adapters.dynamodb.codec import (
    OPEN_SHARDS,
    PRACTITIONERS,
    PROFILE_SK,
    case_key,
    event_key,
    iso,
    mine_key,
    open_count_key,
    open_key,
    parse_iso,
    practitioner_key,
    queue_inbox_key,
    waiting_key,
    week_key,
)
from chalicelib.domain.model import (
    Attachment,
    Case,
    CaseOpening,
    CaseRef,
    EmailDetails,
    Identity,
    Interaction,
    Media,
    Practitioner,
    Presence,
)
from chalicelib.domain.risk import RANK, Risk, prioritised, queue_position


def new_case_item(
    opening: CaseOpening, reply_to: dict[str, str], now: datetime, shards: int = OPEN_SHARDS
) -> dict[str, Any]:
    """A case opened by a webinar booking is kept for its timeline only: in no inbox and no
    waiting list (`booked_only`, with the waiting key it takes once the citizen writes)."""
    if opening.channel == "webinar":
        return {
            **_case_fields(opening, reply_to, now),
            "booked_only": True,
            "booked_waiting": waiting_key(opening.queue),
            "booked_inbox": queue_inbox_key(opening.queue),
        }
    flag = opening.risk  # the first message's: its place in the queue is written with it
    high = flag is not None and flag.level == "high"
    place = queue_position(f"{iso(now)}#{opening.case_id}", high)
    return {
        **_case_fields(opening, reply_to, now),
        "waiting_since": iso(now),
        "gsi1pk": open_key(opening.case_id, shards),
        "gsi1sk": iso(now),
        "gsi3pk": waiting_key(opening.queue),
        "gsi3sk": place,
        "gsi4pk": queue_inbox_key(opening.queue),
        "gsi4sk": place,
        **({"risk": flag.to_json(), "risk_rank": RANK[flag.level]} if flag else {}),
    }


def waiting_place(
    item: dict[str, Any] | None, case_id: str, since: str
) -> tuple[str, str, dict[str, Any]]:
    """Where a case put (back) in its queue waits: from `since`, first if its risk (in `item`,
    as read) is high (`risk.queue_position`); and the condition, for the write that puts it
    there, that its risk is still that one."""
    rank = (item or {}).get("risk_rank")
    place = queue_position(f"{since}#{case_id}", rank == RANK["high"])
    if rank is None:
        return place, "attribute_not_exists(risk_rank)", {}
    return place, "risk_rank = :held_rank", {":held_rank": rank}


def open_count(table: str, case_id: str, shards: int, delta: int) -> dict[str, Any]:
    """The operation, for the transaction that moves the case into (+1) or out of (-1) the
    managers' open inbox, that keeps its shard's counter exact."""
    return update(
        table,
        open_count_key(open_key(case_id, shards)),
        "SET #type = :count ADD open_cases :d",
        {":d": delta, ":count": "count"},
        names={"#type": "type"},
    )


def _case_fields(opening: CaseOpening, reply_to: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        **case_key(opening.case_id),
        "type": "case",
        "id": opening.case_id,
        "contact_id": opening.contact_id,
        "status": "queued",
        "queue": opening.queue,
        "channel": opening.channel,
        "channels": {opening.channel},
        "opened_at": iso(opening.opened_at),
        "queued_at": iso(now),
        "last_activity_at": iso(now),
        "last_inbound_at": iso(now),
        "inbound_count": 1,
        "reply_to": reply_to,
        "reply_token": opening.reply_token or None,
        "language": opening.language,
        "gsi2pk": week_key(opening.opened_at),
        "gsi2sk": f"{iso(opening.opened_at)}#CASE#{opening.case_id}",
    }


def case_from(item: dict[str, Any], timeline: tuple[Interaction, ...] = ()) -> Case:
    return Case(
        id=item["id"],
        contact_id=item["contact_id"],
        status=item["status"],
        queue=item["queue"],
        channel=item["channel"],
        channels=tuple(sorted(item.get("channels", {item["channel"]}))),
        opened_at=parse_iso(item["opened_at"]),  # type: ignore[arg-type]  # always set
        last_activity_at=parse_iso(item["last_activity_at"]),  # type: ignore[arg-type]  # always set
        assignee=item.get("assignee"),
        assigned_at=parse_iso(item.get("assigned_at")),
        first_response_at=parse_iso(item.get("first_response_at")),
        closed_at=parse_iso(item.get("closed_at")),
        outcome=item.get("outcome"),
        language=item.get("language"),
        callback_number=item.get("callback_number"),
        reply_token=item.get("reply_token"),
        email_subject=item.get("email_subject"),
        email_thread=tuple(item.get("email_thread", ())),
        possible_link=(item["possible_link"]["case_id"], item["possible_link"]["reason"])
        if item.get("possible_link")
        else None,
        linked_to=item.get("linked_to"),
        inbound_count=int(item["inbound_count"]) if "inbound_count" in item else None,
        callback_requested_at=parse_iso(item.get("callback_requested_at")),
        reply_to=Identity(item["reply_to"]["kind"], item["reply_to"]["value"])
        if item.get("reply_to")
        else None,
        timeline=timeline,
        erased_at=parse_iso(item.get("erased_at")),
        preview=item.get("preview"),
        last_inbound_channel=item.get("last_inbound_channel"),
        waiting_since=parse_iso(item.get("waiting_since")),
        last_inbound_at=parse_iso(item.get("last_inbound_at")),
        last_read=tuple(
            (user, parse_iso(at))  # type: ignore[misc]  # always set
            for user, at in sorted(item.get("last_read", {}).items())
        ),
        risk=Risk.from_json(item.get("risk")),
        rating=int(item["rating"]) if "rating" in item else None,
        presence=tuple(
            Presence(user, entry["activity"], parse_iso(entry["until"]))  # type: ignore[arg-type]
            for user, entry in sorted(item.get("presence", {}).items())
        ),
    )


def case_ref(item: dict[str, Any]) -> CaseRef:
    """From a case item or its copy in gsi3 (which projects neither its risk nor its waiting
    time: a waiting case's position says both, `risk.queue_position`)."""
    case_id = item.get("id") or item["pk"].removeprefix("CASE#")
    waiting = str(item.get("gsi3pk", "")).startswith("WAITING#")
    position = item.get("gsi3sk") if waiting else None
    level = (item.get("risk") or {}).get("level")
    return CaseRef(
        case_id,
        item.get("queue", ""),
        item.get("language"),
        item.get("contact_id", ""),
        item.get("assignee"),
        waiting_since=position,
        risk="high" if position and prioritised(position) else level,
    )


OUTBOX = "OUTBOX"  # gsi3's partition of messages waiting for a (next) try


def outbox_slot(at: datetime, case_id: str, interaction_id: str) -> str:
    """A message's place in the outbox: ordered by when it is due."""
    return f"{iso(at)}#{case_id}#{interaction_id}"


def interaction_item(interaction: Interaction) -> dict[str, Any]:
    """A timeline entry; one recorded before it is sent is in the outbox too, due when its
    lease ends (the status write after the send takes it out in the same update)."""
    lease = interaction.lease_until
    outbox = (
        {
            "gsi3pk": OUTBOX,
            "gsi3sk": outbox_slot(lease, interaction.case_id, interaction.id),
            "next_try_at": iso(lease),
        }
        if lease is not None
        else {}
    )
    return {
        **outbox,
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
        "author": interaction.author,
        "duration_seconds": interaction.duration_seconds,
        "email": _email_item(interaction.email) if interaction.email else None,
        "canned_id": interaction.canned_id,
        "rating": interaction.rating,
        "gsi2pk": week_key(interaction.at),
        "gsi2sk": f"{iso(interaction.at)}#EVENT#{interaction.id}",
    }


def interaction_from(item: dict[str, Any]) -> Interaction:
    return Interaction(
        id=item["id"],
        case_id=item["case_id"],
        at=parse_iso(item["at"]),  # type: ignore[arg-type]  # always set
        channel=item["channel"],
        direction=item["direction"],
        body=item.get("body", ""),
        provider=item.get("provider"),
        provider_id=item.get("provider_id"),
        status=item.get("status"),
        media=tuple(Media(m["url"], m["content_type"]) for m in item.get("media", [])),
        automated=bool(item.get("automated", False)),
        to=item.get("to"),
        error_code=item.get("error_code"),
        author=item.get("author"),
        duration_seconds=int(item["duration_seconds"]) if "duration_seconds" in item else None,
        email=_email_from(item["email"]) if "email" in item else None,
        contact_id=item.get("contact_id"),
        answered=item.get("answered"),
        waiting_at=parse_iso(item.get("waiting_at")),
        waited_until=parse_iso(item.get("waited_until")),
        canned_id=item.get("canned_id"),
        rating=int(item["rating"]) if "rating" in item else None,
    )


def practitioner_item(practitioner: Practitioner) -> dict[str, Any]:
    return {
        **practitioner_key(practitioner.id),
        "type": "practitioner",
        "id": practitioner.id,
        "display_name": practitioner.display_name,
        "queues": list(practitioner.queues),
        "languages": list(practitioner.languages),
        "max_active_cases": practitioner.max_active_cases,
        "active_cases": practitioner.active_cases,
        "on_duty": practitioner.on_duty,
        "phone": practitioner.phone,
        "skills": list(practitioner.skills) or None,
        "email": practitioner.email,
        "gsi1pk": PRACTITIONERS,
        "gsi1sk": duty_sort_key(practitioner.id, practitioner.on_duty),
        # first in their inbox partition: the page reads the profile with their own cases
        "gsi4pk": mine_key(practitioner.id),
        "gsi4sk": PROFILE_SK,
    }


def duty_sort_key(practitioner_id: str, on_duty: bool) -> str:
    """Listed under PRACTITIONERS; on-duty ones share a prefix, so routing reads only them."""
    return f"{'on' if on_duty else 'off'}#{practitioner_id}"


def practitioner_from(item: dict[str, Any]) -> Practitioner:
    return Practitioner(
        id=item["id"],
        display_name=item["display_name"],
        queues=tuple(item.get("queues", [])),
        languages=tuple(item.get("languages", [])),
        max_active_cases=int(item["max_active_cases"]),
        on_duty=bool(item.get("on_duty", False)),
        active_cases=int(item.get("active_cases", 0)),
        last_assigned_at=parse_iso(item.get("last_assigned_at")),
        phone=item.get("phone"),
        shift_started_at=parse_iso(item.get("shift_started_at")),
        skills=tuple(item.get("skills", ())),
        email=item.get("email"),
    )


def _email_item(email: EmailDetails) -> dict[str, Any]:
    fields = {
        "subject": email.subject,
        "message_id": email.message_id,
        "in_reply_to": list(email.in_reply_to) or None,
        "references": list(email.references) or None,
        "mailbox": email.mailbox or None,
        "quoted": email.quoted or None,
        "attachments": [
            {k: v for k, v in vars(a).items() if v is not None} for a in email.attachments
        ]
        or None,
        "auto_reply": email.auto_reply or None,
        "quarantine": email.quarantine,
        "needs_review": email.needs_review,
        "raw_key": email.raw_key,
        "verdicts": dict(email.verdicts) or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _email_from(item: dict[str, Any]) -> EmailDetails:
    return EmailDetails(
        subject=item.get("subject", ""),
        message_id=item.get("message_id"),
        in_reply_to=tuple(item.get("in_reply_to", ())),
        references=tuple(item.get("references", ())),
        mailbox=item.get("mailbox", ""),
        quoted=item.get("quoted", ""),
        attachments=tuple(
            Attachment(
                a["filename"],
                a["content_type"],
                int(a["size"]),
                a.get("key"),
                bool(a.get("inline", False)),
            )
            for a in item.get("attachments", ())
        ),
        auto_reply=bool(item.get("auto_reply", False)),
        quarantine=item.get("quarantine"),
        needs_review=item.get("needs_review"),
        raw_key=item.get("raw_key"),
        verdicts=dict(item.get("verdicts") or {}),
    )
