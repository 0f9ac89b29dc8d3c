"""Which practitioner gets a case: pure ranking, plus the store's atomic hand-over.

The ranking is advice; the hand-over is the rule. `assign` is conditional on the case still being
queued and on the practitioner's load staying below capacity, so concurrent routers and claims can
race freely: the losers move on to the next candidate or leave the case waiting.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import safeguarding
from chalicelib.domain.errors import CaseChanged, PractitionerUnavailable, WriteConflict
from chalicelib.domain.model import CaseRef, Practitioner

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, RoutingStore

log = logging.getLogger("contact-centre")
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
SAFEGUARDING = "safeguarding"  # the skill a high-risk case is offered to first


def rank(
    candidates: list[Practitioner],
    case: CaseRef,
    previous: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Practitioner]:
    """On duty, serving the queue, with room; for a high-risk case those with the
    `safeguarding` skill first; then those who speak the case's language (a young person is not
    left waiting when nobody on duty speaks it), then the citizen's previous practitioner, then
    the least loaded, then the longest idle."""
    fit = [
        p
        for p in candidates
        if p.on_duty and p.has_room and p.serves(case.queue, None) and p.id not in exclude
    ]
    high = case.risk == "high"
    return sorted(
        fit,
        key=lambda p: (
            high and SAFEGUARDING not in p.skills,
            not p.serves(case.queue, case.language),
            p.id != previous,
            p.active_cases,
            p.last_assigned_at or NEVER,
            p.id,
        ),
    )


def route(
    case: CaseRef,
    store: RoutingStore,
    now: datetime,
    *,
    returning: bool = True,
    exclude: frozenset[str] = frozenset(),
) -> str | None:
    """Give a queued case to the best practitioner who can take it; None leaves it waiting."""
    previous = store.last_practitioner(case.contact_id) if returning else None
    for practitioner in rank(store.list_practitioners(on_duty_only=True), case, previous, exclude):
        try:
            if not _hand_over(case, practitioner.id, store, now):
                continue
        except CaseChanged:
            return None  # claimed, moved or closed meanwhile: not ours to route any more
        log.info("case routed", extra={"case_id": case.id, "practitioner_id": practitioner.id})
        return practitioner.id
    log.info("case waiting", extra={"case_id": case.id, "queue": case.queue})
    return None


def waiting_again(
    deps: Deps, case: CaseRef, *, returning: bool = True, exclude: frozenset[str] = frozenset()
) -> str | None:
    """Every path that puts a case (back) in a queue ends here: a transfer, a reopen, the
    unanswered requeue, a booked case's first message. The store put a high-risk case first
    in the same write (`risk.queue_position`); it is offered `safeguarding` practitioners
    first. Who took it, or None: it waits."""
    level = safeguarding.level_of(deps, case.id)
    waiting = replace(case, risk=level, assignee=None)
    return route(waiting, deps.store, deps.clock(), returning=returning, exclude=exclude)


def _hand_over(case: CaseRef, practitioner_id: str, store: RoutingStore, now: datetime) -> bool:
    """False when the practitioner is full or off duty. A transaction conflict (another
    hand-over touched the same practitioner at that moment) is no refusal: tried again, so the
    best candidate (for a high-risk case, a safeguarding one with room) is not skipped."""
    for _ in range(3):
        try:
            store.assign(case, practitioner_id, now, require_on_duty=True)
        except PractitionerUnavailable:
            return False
        except WriteConflict:
            continue
        return True
    return False


def fill(practitioner_id: str, store: RoutingStore, now: datetime) -> list[str]:
    """Offer waiting cases, high risk first then oldest first (their waiting positions sort so),
    to a practitioner who came on duty or freed a slot; a high-risk case only if no on-duty
    `safeguarding` practitioner has room for it."""
    taken: list[str] = []
    practitioner = store.get_practitioner(practitioner_id)
    skilled_free: bool | None = None
    while practitioner is not None and practitioner.on_duty and practitioner.has_room:
        waiting = sorted(
            (
                case
                for queue in practitioner.queues
                for case in store.waiting_cases(queue)
                if practitioner.serves(case.queue, None)
            ),
            key=lambda case: case.waiting_since or "",
        )
        progressed = False
        for case in waiting:
            if case.risk == "high" and SAFEGUARDING not in practitioner.skills:
                if skilled_free is None:
                    skilled_free = _skilled_free(store, case)
                if skilled_free:
                    continue
            try:
                store.assign(case, practitioner.id, now, require_on_duty=True)
            except CaseChanged:
                continue
            except (PractitionerUnavailable, WriteConflict):
                return taken
            taken.append(case.id)
            progressed = True
            break
        if not progressed:
            return taken
        practitioner = store.get_practitioner(practitioner_id)
    return taken


def _skilled_free(store: RoutingStore, case: CaseRef) -> bool:
    return any(
        SAFEGUARDING in p.skills and p.has_room and p.serves(case.queue, case.language)
        for p in store.list_practitioners(on_duty_only=True)
    )


def requeue_unanswered(deps: Deps, after: timedelta | None = None) -> list[str]:
    """Cases assigned but not answered in time (`after`, else UNANSWERED_MINUTES) go back to
    their queue, and on to someone else."""
    store: RoutingStore = deps.store
    now = deps.clock()
    if after is None:
        after = timedelta(minutes=deps.settings.unanswered_minutes)
    moved: list[str] = []
    for case in store.unanswered_since_before(now - after):
        try:
            store.to_queue(case, case.queue, now, only_if_unanswered=True)
        except (CaseChanged, WriteConflict):
            continue  # answered, moved or closed since we looked
        moved.append(case.id)
        previous = frozenset({case.assignee}) if case.assignee else frozenset()
        waiting = CaseRef(case.id, case.queue, case.language, case.contact_id)
        waiting_again(deps, waiting, returning=False, exclude=previous)
    if moved:
        log.info("unanswered cases requeued", extra={"count": len(moved)})
    return moved


def offer_waiting(deps: Deps) -> list[str]:
    """The safety net: any waiting case that an on-duty practitioner with room could take."""
    store: RoutingStore = deps.store
    now = deps.clock()
    taken: list[str] = []
    for practitioner in store.list_practitioners(on_duty_only=True):
        if practitioner.has_room:
            taken += fill(practitioner.id, store, now)
    return taken
