"""Practitioners as managers administer them, and going on and off duty.

Every on/off span is kept as a shift: the weekly report counts staffed hours from shifts alone.
Coming on duty offers the oldest waiting cases at once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalicelib.domain import routing
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.model import Actor, Practitioner, Shift

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, StaffingStore


def create(deps: Deps, fields: dict[str, Any]) -> Practitioner:
    store: StaffingStore = deps.store
    practitioner = Practitioner(
        id=fields["id"],
        display_name=fields["display_name"],
        queues=tuple(fields["queues"]),
        languages=tuple(fields.get("languages", ())),
        max_active_cases=int(fields.get("max_active_cases", 5)),
        phone=fields.get("phone"),
    )
    if not store.create_practitioner(practitioner):
        raise Conflict("A practitioner with that id exists.", code="exists")
    return practitioner


def update(deps: Deps, practitioner_id: str, changes: dict[str, Any]) -> Practitioner:
    store: StaffingStore = deps.store
    updated = store.update_practitioner(practitioner_id, changes)
    if updated is None:
        raise NotFound("No such practitioner.")
    return updated


def own_profile(deps: Deps, actor: Actor) -> Practitioner:
    """The signed-in practitioner's profile (on duty or not, queues, room): what the web app's
    duty switch shows before they touch it."""
    store: StaffingStore = deps.store
    practitioner = store.get_practitioner(actor.user_id)
    if practitioner is None:
        raise NotFound("No practitioner profile for this user; ask a manager to create one.")
    return practitioner


def set_duty(deps: Deps, actor: Actor, on_duty: bool) -> Practitioner:
    store: StaffingStore = deps.store
    now = deps.clock()
    """Idempotent: asking for the state one is in changes nothing."""
    practitioner = own_profile(deps, actor)
    if on_duty and not practitioner.on_duty:
        store.go_on_duty(practitioner.id, now)
        routing.fill(practitioner.id, store, now)
    elif not on_duty and practitioner.on_duty:
        store.go_off_duty(practitioner, now)
    refreshed = store.get_practitioner(actor.user_id)
    return refreshed or replace(practitioner, on_duty=on_duty)


def everyone(deps: Deps) -> list[Practitioner]:
    found: list[Practitioner] = deps.store.list_practitioners()
    return found


def shifts_of(deps: Deps, practitioner_id: str) -> list[Shift]:
    found: list[Shift] = deps.store.shifts(practitioner_id)
    return found
