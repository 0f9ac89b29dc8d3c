"""A `Deps` for tests that send through particular senders (a Twilio account over `responses`,
a recorder, a provider that is down) on a given store and clock: the test services otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.wiring import Services
from tests.conftest import make_services


@dataclass
class TestDeps(Services):
    """The test services, optionally with the test's own URLs (`urls(path)`)."""

    __test__ = False  # not a test class, though its name says so

    urls: Callable[[str], str] | None = None

    def public_url(self, path: str) -> str:
        return self.urls(path) if self.urls else super().public_url(path)


def deps_for(
    store: Any,
    clock: Callable[[], datetime],
    urls: Callable[[str], str] | None = None,
    **senders: Any,
) -> TestDeps:
    """`senders`: any of `sms`, `calls`, `mail`, `blobs` to use instead of the local ones."""
    base = make_services(store, clock)
    fields = {
        name: getattr(base, name) for name in ("settings", "store", "sms", "calls", "mail", "blobs")
    }
    return TestDeps(**{**fields, **senders}, clock=clock, urls=urls)


def by_ref(url: Callable[[str], str]) -> Callable[[str], str]:
    """The test's URL for a message (`url(ref)`), whatever our path for its status reports."""
    return lambda path: url(path.partition("?ref=")[2])


class Fixed:
    """A clock that stays where the test put it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at
