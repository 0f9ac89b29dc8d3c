"""Messages a provider did not take (5xx, time-out) wait in the outbox and are retried with
back-off by a scheduled function; after the last attempt they fail visibly on the case.

The citizen's side never depends on this: inbound messages are recorded before any sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.domain.ids import interaction_id
from chalicelib.domain.model import Interaction, Parked
from chalicelib.domain.outbound import STATUS_RANK
from chalicelib.domain.ports import MessageRejected, SentMessage

log = logging.getLogger("contact-centre")
MAX_ATTEMPTS = 5
RETRYING = "retrying"


def next_try(now: datetime, attempts: int) -> datetime:
    """1, 2, 4, 8 minutes after the 1st, 2nd, 3rd, 4th failure."""
    return now + timedelta(minutes=2 ** (attempts - 1))


class OutboxStore(Protocol):
    def park(
        self,
        case_id: str,
        interaction_id: str,
        attempts: int,
        retry_at: datetime,
        error: str,
        raw_key: str | None = None,
    ) -> bool: ...

    def due(self, now: datetime) -> list[Parked]: ...

    def claim(self, entry: Parked, lease_until: datetime) -> bool: ...

    def unpark(
        self,
        case_id: str,
        interaction_id: str,
        status: str,
        rank: int,
        provider_id: str | None,
        provider: str | None,
        error: str | None,
    ) -> None: ...


class Sms(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None) -> SentMessage: ...


class Mail(Protocol):
    def send_email(self, raw: bytes, to: str) -> SentMessage: ...


class Blobs(Protocol):
    def get(self, key: str) -> bytes: ...


class BlobWriter(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class UnsentStore(OutboxStore, Protocol):
    def record_unsent(self, interaction: Interaction) -> bool: ...


def park_unsent(
    store: UnsentStore,
    blobs: BlobWriter,
    clock: Callable[[], datetime],
    case_id: str,
    channel: str,
    to: str,
    body: str,
    raw: bytes | None,
    error: Exception,
) -> None:
    """An automatic message sent without being recorded first (a webinar confirmation, which
    must not cost the booking a write) that the provider refused: it goes on the case's
    timeline and into the outbox, so it is retried and, at worst, fails visibly."""
    now = clock()
    message = Interaction(
        id=interaction_id(now),
        case_id=case_id,
        at=now,
        channel=channel,  # type: ignore[arg-type]
        direction="out",
        body=body,
        status=RETRYING,
        automated=True,
        to=to,
    )
    if not store.record_unsent(message):
        log.info("refused message dropped: its citizen was erased", extra={"case_id": case_id})
        return
    failed_first_try(store, case_id, message.id, now, error, None if raw is None else (raw, blobs))


def failed_first_try(
    store: OutboxStore,
    case_id: str,
    interaction_id: str,
    now: datetime,
    error: Exception,
    email: tuple[bytes, BlobWriter] | None = None,
) -> str:
    """The provider refused the first try: the message waits for the next one (an email's
    bytes kept in the blob store for it), unless the refusal is final."""
    if isinstance(error, MessageRejected):
        return _rejected(store, case_id, interaction_id, error)
    raw_key = None
    if email is not None:
        raw, blobs = email
        raw_key = f"outbox/{case_id}/{interaction_id}.eml"
        blobs.put(raw_key, raw, "message/rfc822")
    if not store.park(case_id, interaction_id, 1, next_try(now, 1), type(error).__name__, raw_key):
        # erased meanwhile: the message has no address left, and its bytes must not stay either
        if email is not None and raw_key is not None:
            email[1].delete(raw_key)
        return "failed"
    log.warning(
        "provider refused; message parked",
        extra={"case_id": case_id, "error": type(error).__name__},
    )
    return RETRYING


def _rejected(store: OutboxStore, case_id: str, interaction_id: str, error: MessageRejected) -> str:
    store.unpark(
        case_id,
        interaction_id,
        "failed",
        STATUS_RANK["failed"],
        None,
        None,
        f"rejected: {error.code}",
    )
    log.warning("provider rejected the message", extra={"case_id": case_id, "code": error.code})
    return "failed"


def retry_due(
    store: OutboxStore,
    sms: Sms,
    mail: Mail,
    blobs: Blobs,
    now: datetime,
    status_url: Callable[[str], str],
) -> dict[str, int]:
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for entry in store.due(now):
        if not store.claim(entry, now + timedelta(minutes=5)):
            continue  # another run has it
        try:
            if entry.channel == "email":
                assert entry.raw_key is not None
                sent = mail.send_email(blobs.get(entry.raw_key), entry.to)
            else:
                sent = sms.send_sms(
                    entry.to, entry.body, status_url(f"{entry.case_id}.{entry.interaction_id}")
                )
        except MessageRejected as error:
            _rejected(store, entry.case_id, entry.interaction_id, error)
            counts["failed"] += 1
            continue
        except Exception as error:
            attempts = entry.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                store.unpark(
                    entry.case_id,
                    entry.interaction_id,
                    "failed",
                    STATUS_RANK["failed"],
                    None,
                    None,
                    f"gave up: {type(error).__name__}",
                )
                counts["failed"] += 1
                log.warning("gave up sending", extra={"case_id": entry.case_id})
            elif store.park(
                entry.case_id,
                entry.interaction_id,
                attempts,
                next_try(now, attempts),
                type(error).__name__,
                entry.raw_key,
            ):
                counts["retrying"] += 1
            else:  # its contact was erased while we tried: nothing is left to send
                counts["failed"] += 1
            continue
        status = sent.status if sent.status in STATUS_RANK else "sent"
        store.unpark(
            entry.case_id,
            entry.interaction_id,
            status,
            STATUS_RANK[status],
            sent.provider_id,
            sent.provider,
            None,
        )
        counts["sent"] += 1
    return counts
