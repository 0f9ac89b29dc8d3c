"""The relay endpoint's authentication: an HMAC over the timestamp and the raw message.

`X-Relay-Timestamp: <unix seconds>` and `X-Relay-Signature: <hex HMAC-SHA256(secret,
"<timestamp>." + body)>`. Compared in constant time; a timestamp more than five minutes away from
now is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from chalicelib.domain.errors import Forbidden

WINDOW_SECONDS = 300
# Unix seconds (ASCII digits only: int() would also take "1_7", " 17" or other scripts' digits,
# and a 400-digit one overflows the age arithmetic) and a lower-case hex SHA-256.
TIMESTAMP = r"[0-9]{1,12}"
HEX_SHA256 = r"[0-9a-f]{64}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str | None, given: str | None, body: bytes, now: float | None = None
) -> None:
    """Refuse (403) unless `given` signs `timestamp` and `body` with `secret`, within the window.

    Both headers are checked for their exact shape first, so no value an attacker picks (huge,
    non-ASCII, with a trailing newline) reaches the arithmetic or the comparison."""
    given = (given or "").strip().lower()
    shaped = re.fullmatch(TIMESTAMP, timestamp or "") and re.fullmatch(HEX_SHA256, given)
    if not secret or not shaped:
        raise Forbidden("Missing or invalid relay signature.", code="bad_signature")
    age = abs((now if now is not None else time.time()) - int(timestamp or "0"))
    if age > WINDOW_SECONDS:
        raise Forbidden("The relay timestamp is too old or in the future.", code="stale_signature")
    if not hmac.compare_digest(signature(secret, timestamp or "", body), given):
        raise Forbidden("Missing or invalid relay signature.", code="bad_signature")
