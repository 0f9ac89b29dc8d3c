"""The relay endpoint's authentication: an HMAC over the timestamp and the raw message.

`X-Relay-Timestamp: <unix seconds>` and `X-Relay-Signature: <hex HMAC-SHA256(secret,
"<timestamp>." + body)>`. Compared in constant time; a timestamp more than five minutes away from
now is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from chalicelib.errors import Forbidden

WINDOW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str | None, given: str | None, body: bytes, now: float | None = None
) -> None:
    if not secret or not timestamp or not given:
        raise Forbidden("Missing or invalid relay signature.", code="bad_signature")
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError as error:
        raise Forbidden("Missing or invalid relay signature.", code="bad_signature") from error
    if age > WINDOW_SECONDS:
        raise Forbidden("The relay timestamp is too old or in the future.", code="stale_signature")
    if not hmac.compare_digest(signature(secret, timestamp, body), given.strip().lower()):
        raise Forbidden("Missing or invalid relay signature.", code="bad_signature")
