"""Test helpers for sending: our URL for a message by its ref, and a clock that stays put."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


def by_ref(url: Callable[[str], str]) -> Callable[[str], str]:
    """The test's URL for a message (`url(ref)`), whatever our path for its status reports."""
    return lambda path: url(path.partition("?ref=")[2])


class Fixed:
    """A clock that stays where the test put it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at
