"""Messages we send, and what providers later tell us about their delivery.

A message is recorded on the timeline before it is sent, so nothing sent is ever missing from the
case; its delivery status then only moves forward, because providers report late, twice or out of
order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.ids import interaction_id
from chalicelib.domain.model import Identity, Interaction
from chalicelib.domain.ports import OutboundStore, SmsSender

# Twilio's message statuses in lifecycle order; final states share the top rank but one.
STATUS_RANK: dict[str, int] = {
    "queued": 1,
    "local": 1,
    "accepted": 1,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}


@dataclass(frozen=True)
class SentSms:
    case_id: str
    interaction_id: str
    status: str


def reference(case_id: str, interaction_id_: str) -> str:
    """Carried in the status-callback URL, so a callback finds its message with one write."""
    return f"{case_id}.{interaction_id_}"


def parse_reference(ref: str) -> tuple[str, str] | None:
    case_id, dot, interaction = ref.partition(".")
    return (case_id, interaction) if dot and case_id and interaction else None


def send_sms(
    case_id: str,
    body: str,
    store: OutboundStore,
    sender: SmsSender,
    clock: Callable[[], datetime],
    callback_url: Callable[[str], str],
    author: str | None = None,
    to: Identity | None = None,
) -> SentSms:
    """Send on the case's SMS number (`to`, when the caller has read the case already); refused
    for an opted-out number."""
    to = to or store.get_reply_identity(case_id)
    if to is None:
        raise NotFound("No such case.")
    if to.kind != "phone":
        raise Conflict("This case's citizen has no phone number to text.", code="no_sms_address")
    identity = store.find_identity(to)
    if identity is not None and identity.opted_out:
        raise Conflict(
            "The citizen has opted out of SMS (sent STOP); they must send START first.",
            code="opted_out",
        )
    now = clock()
    message = Interaction(
        id=interaction_id(now),
        case_id=case_id,
        at=now,
        channel="sms",
        direction="out",
        body=body,
        provider=None,
        status="queued",
        to=to.value,
        author=author,
    )
    store.add_interaction(message)
    ref = reference(case_id, message.id)
    try:
        sent = sender.send_sms(to.value, body, callback_url(ref))
    except Exception as error:  # 5xx, time-out: it waits in the outbox, the case shows it
        from chalicelib.domain.outbox import failed_first_try

        status = failed_first_try(store, case_id, message.id, clock(), error)  # type: ignore[arg-type]
        return SentSms(case_id, message.id, status)
    status = sent.status if sent.status in STATUS_RANK else "queued"
    store.update_delivery_status(
        case_id,
        message.id,
        status,
        STATUS_RANK[status],
        provider_id=sent.provider_id,
        provider=sent.provider,
    )
    return SentSms(case_id, message.id, status)


def record_status(
    store: OutboundStore,
    ref: str | None,
    status: str,
    provider_id: str | None,
    error_code: str | None,
) -> bool:
    """Apply a delivery report; True when it moved the status forward."""
    parsed = parse_reference(ref or "")
    rank = STATUS_RANK.get(status)
    if parsed is None or rank is None:
        return False  # not ours, or a status we do not track: acknowledged and ignored
    case_id, message_id = parsed
    return store.update_delivery_status(
        case_id, message_id, status, rank, provider_id=provider_id, error_code=error_code
    )
