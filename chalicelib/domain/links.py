"""Possible links between cases: an email that named a case (by its reply address or threading
headers) whose sender is not that case's citizen lands on a case of its own, marked. Only a
practitioner can say "this is the same young person" (a parent, a second address) or "this is
someone else": only then do identities and the reply address change.

Confirming keeps both cases as they are (nothing is moved, so nothing is lost): the source case
records `linked_to`, the sender's address becomes an identity of the target's contact and the
target's reply address, the target's contact lists the source case (export and erasure reach
it), and the target's timeline notes the link. The source case stays open for its practitioner
to close (outcome `duplicate`); the sender's later mail threads onto the target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain import casework
from chalicelib.domain.errors import (
    CaseChanged,
    ChangedMeanwhile,
    Conflict,
    Forbidden,
    NotFound,
    WriteConflict,
)
from chalicelib.domain.model import Actor, Case, new_entry

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, LinkStore


def _cases(case_id: str, actor: Actor, store: LinkStore) -> tuple[Case, Case | None]:
    """The marked case and the case it names, if this actor may act on both: managers, or a
    practitioner who may see both and is not refused on either by another's assignment."""
    profile = casework.profile_of(actor, store)
    source = store.get_case(case_id)
    if source is None:
        raise NotFound("No such case.")
    target = store.get_case(source.possible_link[0]) if source.possible_link else None
    for case in (source, target):
        if case is None:
            continue
        if not casework.can_see(actor, profile, case, store):
            raise Forbidden("This case is not in your queues nor assigned to you.")
        if not actor.is_manager and case.assignee not in (None, actor.user_id):
            raise Forbidden("Only its assignee or a manager can link an assigned case.")
    if source.possible_link is None:
        raise Conflict("This case has no possible link to confirm.", code="no_possible_link")
    return source, target


def confirm(deps: Deps, case_id: str, actor: Actor) -> Case:
    store: LinkStore = deps.store
    now = deps.clock()
    source, target = _cases(case_id, actor, store)
    if target is None:
        raise Conflict("The linked case no longer exists.", code="no_possible_link")
    if target.status == "closed":
        raise Conflict("The linked case is closed; reopen it first.", code="closed")
    body = f"Linked with case {source.id}: its sender is this citizen."
    note = new_entry(target.id, now, "note", "internal", body, author=actor.user_id)
    try:
        store.confirm_link(source, target, note)
    except (CaseChanged, WriteConflict) as lost:
        raise ChangedMeanwhile() from lost
    return _fresh(case_id, store)


def dismiss(deps: Deps, case_id: str, actor: Actor) -> Case:
    store: LinkStore = deps.store
    source, _ = _cases(case_id, actor, store)
    assert source.possible_link is not None
    try:
        store.dismiss_link(source.id, source.possible_link[0])
    except (CaseChanged, WriteConflict) as lost:
        raise ChangedMeanwhile() from lost
    return _fresh(case_id, store)


def _fresh(case_id: str, store: LinkStore) -> Case:
    case = store.get_case(case_id)
    if case is None:
        raise NotFound("No such case.")
    return case
