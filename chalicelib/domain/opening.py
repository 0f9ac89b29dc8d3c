"""Managers publish the opening hours; every channel, the routing and the reports read them.

The hours decide what a citizen is told out of hours and what the weekly report counts as
scheduled, so a change is checked whole (real dates, a known time zone) before it replaces the
stored one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.hours import OpeningHours

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, HoursStore


def replace(deps: Deps, fields: dict[str, Any]) -> OpeningHours:
    """The new hours, stored; a 400 naming the problem if they do not make sense."""
    store: HoursStore = deps.store
    try:
        hours = OpeningHours.from_item(fields)
    except ValueError as error:
        raise InvalidInput(f"Invalid opening hours: {error}", code="invalid_hours") from error
    store.save_hours(hours)
    return hours
