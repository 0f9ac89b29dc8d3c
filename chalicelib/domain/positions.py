"""Where a page stopped, as the stores hand it back: the sort key of the last entry shown.

Both stores (DynamoDB and the in-memory fake) give out and take back the same positions, and
each checks one against its shape before using it: a cursor is opaque to clients but not
trusted, and a forged one must be a 400 `invalid_cursor`, never a Query DynamoDB refuses (500).
"""

from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidCursor

_AT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"
_ID = r"[0-9a-zA-Z_-]{1,64}"

CASE = rf"{_AT}#{_ID}\Z"  # an inbox entry: since when it is where it is, case id
MENTION = rf"{_AT}#{_ID}#{_ID}\Z"  # a mention: when, case id, note id


def checked(position: str | None, shape: str) -> str | None:
    """The position, if it has the shape of one we gave out."""
    if position is not None and not re.match(shape, position):
        raise InvalidCursor("This cursor is not one we gave out.")
    return position
