"""What practitioners and managers do with cases: read, claim, transfer, note, reply, close.

Who may see a case: a manager, its assignee, or a practitioner serving its queue. Every read of a
case is recorded (who, when), because cases may hold disclosures from minors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib import mail, outbound, routing
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.ids import interaction_id
from chalicelib.model import Actor, Case, CaseRead, CaseRef, InboxQuery, Interaction, Practitioner
from chalicelib.ports import (
    CaseChanged,
    OpenCaseExists,
    PractitionerUnavailable,
    SmsSender,
    WriteConflict,
)

log = logging.getLogger("contact-centre")

STATUSES = ("queued", "assigned", "closed")
OUTCOMES = ("answered", "referred", "no_reply_needed", "unreachable", "duplicate", "other")
PAGE_SIZE = 25


class CaseworkStore(mail.MailStore, Protocol):
    def get_case(self, case_id: str, with_timeline: bool = False) -> Case | None: ...

    def record_read(self, case_id: str, user_id: str, role: str, at: datetime) -> None: ...

    def case_reads(self, case_id: str) -> list[CaseRead]: ...

    def inbox_page(self, query: InboxQuery) -> tuple[list[Case], str | None]: ...

    def transfer_to(self, case: CaseRef, practitioner_id: str, now: datetime) -> None: ...

    def close(self, case: CaseRef, outcome: str, closed_by: str, now: datetime) -> None: ...

    def reopen(self, case: CaseRef, now: datetime) -> None: ...

    def record_reply(self, case_id: str, now: datetime, answered_by_assignee: bool) -> None: ...


def _ref(case: Case) -> CaseRef:
    return CaseRef(case.id, case.queue, case.language, case.contact_id, case.assignee)


def profile_of(actor: Actor, store: CaseworkStore) -> Practitioner | None:
    """A practitioner's profile (queues, capacity); managers need none."""
    if actor.is_manager:
        return None
    practitioner = store.get_practitioner(actor.user_id)
    if practitioner is None:
        raise Forbidden(
            "No practitioner profile for this user; ask a manager to create one.", code="no_profile"
        )
    return practitioner


def can_see(actor: Actor, profile: Practitioner | None, case: Case) -> bool:
    if actor.is_manager:
        return True
    assert profile is not None
    return case.assignee == actor.user_id or case.queue in profile.queues


def _visible_case(
    case_id: str,
    actor: Actor,
    store: CaseworkStore,
    with_timeline: bool = False,
    profile: Practitioner | None = None,
) -> tuple[Case, Practitioner | None]:
    """The case, if this actor may see it. `profile` may come from the caller's short cache."""
    profile = profile or profile_of(actor, store)
    case = store.get_case(case_id, with_timeline=with_timeline)
    if case is None:
        raise NotFound("No such case.")
    if not can_see(actor, profile, case):
        raise Forbidden("This case is not in your queues nor assigned to you.")
    return case, profile


def view_case(
    case_id: str,
    actor: Actor,
    store: CaseworkStore,
    now: datetime,
    profile: Practitioner | None = None,
) -> Case:
    """The case with its whole timeline; the read is recorded before anything is shown."""
    case, _ = _visible_case(case_id, actor, store, with_timeline=True, profile=profile)
    store.record_read(case_id, actor.user_id, actor.role, now)
    return case


def reads_of(case_id: str, store: CaseworkStore) -> list[CaseRead]:
    if store.get_case(case_id) is None:
        raise NotFound("No such case.")
    return store.case_reads(case_id)


def inbox(
    actor: Actor,
    store: CaseworkStore,
    *,
    status: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    profile: Practitioner | None = None,
) -> tuple[list[Case], str | None]:
    """A practitioner's inbox: their cases and their queues' waiting cases, newest activity first.
    A manager's: every case, filterable by queue, status and assignee."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}.", code="invalid_status")
    statuses = frozenset({status} if status else {"queued", "assigned"})
    queues = frozenset({queue}) if queue else None
    closed = status == "closed"
    if actor.is_manager:
        query = InboxQuery(closed, statuses, queues, assignee, None, limit, cursor)
    else:
        profile = profile or profile_of(actor, store)
        assert profile is not None
        if assignee not in (None, actor.user_id):
            raise Forbidden("Practitioners see their own assigned cases only.")
        mine = (actor.user_id, frozenset(profile.queues))
        query = InboxQuery(closed, statuses, queues, assignee, mine, limit, cursor)
    return store.inbox_page(query)


def claim(case_id: str, actor: Actor, store: CaseworkStore, now: datetime) -> Case:
    case, _ = _visible_case(case_id, actor, store)
    if case.status != "queued":
        raise Conflict(
            "The case is not waiting: someone has it, or it is closed.", code="not_claimable"
        )
    try:
        store.assign(_ref(case), actor.user_id, now, require_on_duty=False)
    except CaseChanged as lost:
        raise Conflict("Someone else claimed the case first.", code="not_claimable") from lost
    except PractitionerUnavailable as full:
        raise Conflict("You are at your maximum number of cases.", code="at_capacity") from full
    except WriteConflict as busy:
        raise Conflict("The case changed while claiming; try again.", code="busy") from busy
    return _fresh(case_id, store)


def transfer(
    case_id: str,
    actor: Actor,
    store: CaseworkStore,
    now: datetime,
    *,
    queue: str | None = None,
    practitioner_id: str | None = None,
) -> Case:
    """To a queue (it waits there and is routed) or to a named practitioner (who must have room)."""
    case, _ = _visible_case(case_id, actor, store)
    if case.status == "closed":
        raise Conflict("A closed case cannot be transferred; reopen it first.", code="closed")
    if (queue is None) == (practitioner_id is None):
        raise InvalidInput("Give either queue or practitioner_id.", code="invalid_transfer")
    try:
        if queue is not None:
            store.to_queue(_ref(case), queue, now)
            previous = frozenset({case.assignee}) if case.assignee else frozenset()
            waiting = CaseRef(case.id, queue, case.language, case.contact_id)
            routing.route(waiting, store, now, exclude=previous)
        else:
            assert practitioner_id is not None
            if store.get_practitioner(practitioner_id) is None:
                raise NotFound("No such practitioner.")
            store.transfer_to(_ref(case), practitioner_id, now)
    except PractitionerUnavailable as full:
        raise Conflict(
            "That practitioner has no room for another case.", code="at_capacity"
        ) from full
    except (CaseChanged, WriteConflict) as lost:
        raise Conflict("The case changed meanwhile; reload it.", code="changed") from lost
    if case.assignee and case.assignee != practitioner_id:
        routing.fill(case.assignee, store, now)  # a slot freed: offer the oldest waiting case
    return _fresh(case_id, store)


def add_note(
    case_id: str, actor: Actor, body: str, store: CaseworkStore, now: datetime
) -> Interaction:
    _visible_case(case_id, actor, store)
    note = Interaction(
        id=interaction_id(now),
        case_id=case_id,
        at=now,
        channel="note",
        direction="internal",
        body=body,
        author=actor.user_id,
    )
    store.add_interaction(note)
    return note


def close(case_id: str, actor: Actor, outcome: str, store: CaseworkStore, now: datetime) -> Case:
    case, _ = _visible_case(case_id, actor, store)
    if case.status == "closed":
        raise Conflict("The case is already closed.", code="closed")
    if not actor.is_manager and case.assignee not in (None, actor.user_id):
        raise Forbidden("Only its assignee or a manager can close an assigned case.")
    try:
        store.close(_ref(case), outcome, actor.user_id, now)
    except (CaseChanged, WriteConflict) as lost:
        raise Conflict("The case changed meanwhile; reload it.", code="changed") from lost
    if case.assignee:
        routing.fill(case.assignee, store, now)  # a slot freed: offer the oldest waiting case
    return _fresh(case_id, store)


def reopen(case_id: str, actor: Actor, store: CaseworkStore, now: datetime) -> Case:
    case, _ = _visible_case(case_id, actor, store)
    if case.status != "closed":
        raise Conflict("Only a closed case can be reopened.", code="not_closed")
    if case.erased_at is not None:  # the store's condition holds this against a race too
        raise Conflict("The citizen's data was erased; the case stays closed.", code="erased")
    try:
        store.reopen(_ref(case), now)
    except OpenCaseExists as other:
        raise Conflict(
            "The citizen has another open case; work that one.", code="other_case_open"
        ) from other
    except (CaseChanged, WriteConflict) as lost:
        raise Conflict("The case changed meanwhile; reload it.", code="changed") from lost
    routing.route(CaseRef(case.id, case.queue, case.language, case.contact_id), store, now)
    return _fresh(case_id, store)


@dataclass(frozen=True)
class Outlets:
    """How replies leave, per channel."""

    sms: SmsSender
    mail: mail.MailSender
    boxes: mail.Mailboxes
    sms_status_url: Callable[[str], str]
    blobs: Any = None  # where a parked email keeps its bytes for the retries


def reply(
    case_id: str,
    actor: Actor,
    body: str,
    store: CaseworkStore,
    outlets: Outlets,
    clock: Callable[[], datetime],
    profile: Practitioner | None = None,
) -> tuple[str, str]:
    """Answer on the citizen's own channel (that of their latest message); the first reply sets
    the case's first-response time. Returns the reply's interaction id and status."""
    case, _ = _visible_case(case_id, actor, store, profile=profile)
    if case.status == "closed":
        raise Conflict("The case is closed; reopen it to reply.", code="closed")
    if not actor.is_manager and case.assignee not in (None, actor.user_id):
        raise Forbidden("Another practitioner has this case.")
    if case.reply_to is not None and case.reply_to.kind == "email":
        sent = mail.send_reply(
            case, body, actor.user_id, store, outlets.mail, clock, outlets.boxes, outlets.blobs
        )
        result = (sent.id, sent.status or "sent")
    elif case.reply_to is not None and case.reply_to.kind == "phone":
        sms = outbound.send_sms(
            case_id,
            body,
            store,
            outlets.sms,
            clock,
            outlets.sms_status_url,
            author=actor.user_id,
            to=case.reply_to,
        )
        result = (sms.interaction_id, sms.status)
    else:
        raise Conflict(
            "The citizen left no address to answer (an anonymous call).", code="no_address"
        )
    store.record_reply(case_id, clock(), answered_by_assignee=case.status == "assigned")
    return result


def _fresh(case_id: str, store: CaseworkStore) -> Case:
    case = store.get_case(case_id)
    if case is None:  # cases are never deleted by these operations
        raise NotFound("No such case.")
    return case
