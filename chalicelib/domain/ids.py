"""Identifiers: random where they must not be guessed, time-ordered where they sort a timeline."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id() -> str:
    """Contact and case ids: 80 random bits, URL-safe, nothing personal in them."""
    return secrets.token_hex(10)


def reply_token() -> str:
    """A case's reply-address token: 80 random bits, lower-case (mail systems fold case)."""
    return secrets.token_hex(10)


def interaction_id(at: datetime) -> str:
    """Sorts by time within a case timeline (and is unique thanks to the random tail)."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(4)}"
