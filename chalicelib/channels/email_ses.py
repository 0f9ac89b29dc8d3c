"""SES's notifications (SNS): where a received message is and SES's verdicts on it; and which
addresses bounced for good or complained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredMessage:
    message_id: str
    key: str
    verdicts: dict[str, str]


def stored_message(note: dict[str, Any]) -> StoredMessage | None:
    if note.get("notificationType") != "Received":
        return None
    receipt = note.get("receipt") or {}
    action = receipt.get("action") or {}
    key = action.get("objectKey")
    message_id = (note.get("mail") or {}).get("messageId")
    if action.get("type") != "S3" or not key or not message_id:
        return None
    verdicts = {
        name: str((receipt.get(f"{name}Verdict") or {}).get("status", "")).upper()
        for name in ("spam", "virus", "spf", "dkim", "dmarc")
    }
    return StoredMessage(str(message_id), str(key), {k: v for k, v in verdicts.items() if v})


def with_verdicts(raw: bytes, verdicts: dict[str, str]) -> bytes:
    """SES's verdicts as the headers SES itself adds (X-SES-Spam-Verdict...), so that one parser
    reads them whichever way the message came in. Existing headers of the same name win."""
    lines = []
    for name in ("spam", "virus"):
        header = f"X-SES-{name.title()}-Verdict"
        if name in verdicts and header.lower().encode() not in raw[:20000].lower():
            lines.append(f"{header}: {verdicts[name]}\r\n".encode())
    return b"".join(lines) + raw


def undeliverable(note: dict[str, Any]) -> tuple[str, list[str]] | None:
    """("bounce" | "complaint", the addresses) for a permanent bounce or a complaint; a
    transient bounce or any other notification is nothing to act on."""
    kind = note.get("notificationType") or note.get("eventType")
    if kind == "Bounce" and (note.get("bounce") or {}).get("bounceType") == "Permanent":
        recipients = note["bounce"].get("bouncedRecipients") or []
        return "bounce", [r["emailAddress"] for r in recipients if r.get("emailAddress")]
    if kind == "Complaint":
        recipients = (note.get("complaint") or {}).get("complainedRecipients") or []
        return "complaint", [r["emailAddress"] for r in recipients if r.get("emailAddress")]
    return None
