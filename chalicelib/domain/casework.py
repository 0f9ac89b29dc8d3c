"""What practitioners and managers do with cases: read, claim, transfer, note, reply, close.

Who may see a case: a manager, its assignee, or a practitioner serving its queue; while its risk
is high, also the on-duty supervisors and safeguarding practitioners. Every read of a
case is recorded (who, when), because cases may hold disclosures from minors. Who may act on an
assigned case (reply, close, transfer): its assignee or a manager; a colleague who can see it may
only read it and add notes. Only managers move a case to the quarantine queue, which nobody is
routed from. Every decision reads the practitioner's profile afresh, so a manager's change of
queues takes effect on the practitioner's next request, whichever container serves it.

A close (and a reply that says so) names the latest timeline event the practitioner saw; if a
citizen's message arrived since, it is refused with those messages, and nothing changes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import (
    canned,
    chat,
    delivery,
    mail,
    model,
    routing,
    safeguarding,
    satisfaction,
)
from chalicelib.domain.errors import (
    CaseChanged,
    ChangedMeanwhile,
    Conflict,
    Forbidden,
    InvalidCursor,
    InvalidInput,
    NotFound,
    OpenCaseExists,
    PractitionerUnavailable,
    WriteConflict,
    WriteRejected,
)
from chalicelib.domain.mail import QUARANTINE_QUEUE

if TYPE_CHECKING:
    from chalicelib.domain.ports import CaseStore, Deps

log = logging.getLogger("contact-centre")

STATUSES = ("queued", "assigned", "closed")
INBOX_CHANNELS = ("sms", "voice", "email", "webinar", "chat")  # what a citizen writes by (no notes)
OUTCOMES = ("answered", "referred", "no_reply_needed", "unreachable", "duplicate", "other")
PAGE_SIZE = 25
PRESENCE_SECONDS = 30
ACTIVITIES = ("viewing", "writing")
MAX_CURSOR = 512  # ours are under 100 characters


class UnseenMessages(Conflict):
    """The citizen wrote since the event the practitioner last saw; the edge shows `messages`."""

    def __init__(self, messages: tuple[model.Interaction, ...]) -> None:
        super().__init__(
            "The citizen wrote since you last looked; read it first.", code="unseen_messages"
        )
        self.messages = messages


def _ref(case: model.Case, *, unchanged_inbound: bool = False) -> model.CaseRef:
    """The case as read; with `unchanged_inbound`, a write on it also fails if a message lands."""
    count = case.inbound_count if unchanged_inbound else None
    return model.CaseRef(
        case.id, case.queue, case.language, case.contact_id, case.assignee, inbound_count=count
    )


def profile_of(actor: model.Actor, store: CaseStore) -> model.Practitioner | None:
    """A practitioner's profile (queues, capacity), read afresh on every request: a cached copy
    would let someone removed from a queue keep reading its cases. Managers need none."""
    if actor.is_manager:
        return None
    practitioner = store.get_practitioner(actor.user_id)
    if practitioner is None:
        raise Forbidden(
            "No practitioner profile for this user; ask a manager to create one.", code="no_profile"
        )
    return practitioner


def can_see(
    actor: model.Actor, profile: model.Practitioner | None, case: model.Case, store: CaseStore
) -> bool:
    """Managers; the assignee; whoever serves the case's queue; and, while its risk is high or
    its alert open, the on-duty supervisors and safeguarding practitioners it alerts
    (`safeguarding.on_watch`, which reads the alert only when that is all that is left)."""
    if actor.is_manager:
        return True
    assert profile is not None
    return (
        case.assignee == actor.user_id
        or case.queue in profile.queues
        or safeguarding.on_watch(profile, case, store)
    )


def _visible_case(
    case_id: str, actor: model.Actor, store: CaseStore, with_timeline: bool = False
) -> tuple[model.Case, model.Practitioner | None]:
    """The case, if this actor may see it (by their profile as stored now)."""
    profile = profile_of(actor, store)
    case = store.get_case(case_id, with_timeline=with_timeline)
    if case is None:
        raise NotFound("No such case.")
    if not can_see(actor, profile, case, store):
        raise Forbidden("This case is not in your queues nor assigned to you.")
    return case, profile


def _require_holder(actor: model.Actor, case: model.Case, refusal: str) -> None:
    """Acting on an assigned case (reply, close, transfer) is for its assignee or a manager."""
    if not actor.is_manager and case.assignee not in (None, actor.user_id):
        raise Forbidden(refusal, code="not_assignee")


def _unseen(case: model.Case, seen: str) -> tuple[model.Interaction, ...]:
    """The citizen's messages on the timeline after the event `seen` (by position or time: a
    voicemail's id sorts beside its call, but it lands later)."""
    ids = [event.id for event in case.timeline]
    if seen not in ids:
        if not case.timeline:
            return ()
        raise InvalidInput("seen must be the id of an event of this case.", code="unknown_event")
    index = ids.index(seen)
    mark = case.timeline[index].at
    return tuple(
        event
        for position, event in enumerate(case.timeline)
        if event.direction == "in" and event.id != seen and (position > index or event.at > mark)
    )


def refuse_unseen(case: model.Case, seen: str) -> None:
    unseen = _unseen(case, seen)
    if unseen:
        raise UnseenMessages(unseen)


def _lost(error: WriteRejected, answers: dict[type[WriteRejected], Conflict]) -> Conflict:
    """What the actor is told when the store refused a write: the answer for that kind of
    refusal, else that the case changed meanwhile (moved, closed, or raced)."""
    return next((a for kind, a in answers.items() if isinstance(error, kind)), ChangedMeanwhile())


def changed(case_id: str, store: CaseStore, seen: str | None) -> Conflict:
    """Why a conditional write lost: a message that landed meanwhile, a close, another change."""
    fresh = store.get_case(case_id, with_timeline=seen is not None)
    if seen is not None and fresh is not None:
        unseen = _unseen(fresh, seen)
        if unseen:
            return UnseenMessages(unseen)
    if fresh is not None and fresh.status == "closed":
        return Conflict("The case was closed meanwhile; nothing was done.", code="closed")
    return ChangedMeanwhile()


def view_case(deps: Deps, case_id: str, actor: model.Actor) -> model.Case:
    """The case with its whole timeline and its citizen's language; the read is recorded before
    anything is shown."""
    store, now = deps.store, deps.clock()
    case, _ = _visible_case(case_id, actor, store, with_timeline=True)
    store.record_read(case_id, actor.user_id, actor.role, now)
    store.read_mentions(actor.user_id, case_id)  # opening the case reads what named me on it
    case = replace(case, contact_language=store.contact_language(case.contact_id))
    return _as_seen_by(case, actor, now)


def mark_presence(deps: Deps, case_id: str, actor: model.Actor, activity: str) -> model.Case:
    """`activity` (viewing, writing) on the case for the next 30 s: the client repeats it while
    it lasts. Colleagues see it on the case and its inbox entry, so two practitioners do not
    answer one citizen. Answers the case as this actor sees it (the others on it)."""
    store, now = deps.store, deps.clock()
    if activity not in ACTIVITIES:
        raise InvalidInput(f"activity must be one of {', '.join(ACTIVITIES)}.")
    case, _ = _visible_case(case_id, actor, store)
    # The minute counts towards the practitioner's handle time on the case (docs/reports.md),
    # written once: the client repeats its presence every 15 s, and a presence this minute
    # means the minute was recorded (recorded first, so a presence never outruns its minute).
    if not _marked_this_minute(case, actor.user_id, now):
        store.record_active_minute(case_id, actor.user_id, case.channel, now)
    until = now + timedelta(seconds=PRESENCE_SECONDS)
    store.mark_presence(case_id, actor.user_id, activity, until)
    if activity == "writing" and case.reply_to is not None and case.reply_to.kind == "chat":
        chat.practitioner_typing(deps, case.reply_to.value)  # the citizen sees "typing..."
    return _as_seen_by(case, actor, now)


def _marked_this_minute(case: model.Case, user_id: str, now: datetime) -> bool:
    """Whether this user's presence on the case was marked in the same minute as `now`."""
    minute = now.replace(second=0, microsecond=0)
    since = timedelta(seconds=PRESENCE_SECONDS)
    return any(
        p.user_id == user_id and (p.until - since).replace(second=0, microsecond=0) == minute
        for p in case.presence
    )


def _as_seen_by(case: model.Case, actor: model.Actor, now: datetime | None) -> model.Case:
    """Only the others who are on the case now: a lapsed signal, or one's own, is not shown;
    unread: the citizen wrote after the actor's latest read (never read: any message)."""
    live = tuple(
        p for p in case.presence if now is not None and p.until > now and p.user_id != actor.user_id
    )
    mine = dict(case.last_read).get(actor.user_id)
    wrote = case.last_inbound_at
    unread = wrote is not None and (mine is None or wrote > mine)
    return replace(case, presence=live, unread=unread)


def reads_of(deps: Deps, case_id: str) -> list[model.CaseRead]:
    store: CaseStore = deps.store
    if store.get_case(case_id) is None:
        raise NotFound("No such case.")
    return store.case_reads(case_id)


def inbox(
    deps: Deps,
    actor: model.Actor,
    *,
    status: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    channel: str | None = None,
    needs_reply: bool | None = None,
) -> tuple[list[model.Case], str | None]:
    """A practitioner's inbox: every case of theirs, then their queues' longest waiting cases.
    A manager's: every case, filterable by queue, status and assignee. Both by the channel of
    the citizen's latest message and by whether it needs a reply. Each entry shows who else is
    on the case now."""
    if channel is not None and channel not in INBOX_CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(INBOX_CHANNELS)}.")
    has_filter = channel is not None or needs_reply is not None
    only = model.InboxFilter(channel, needs_reply) if has_filter else None
    cases, next_cursor = _inbox(deps, actor, status, queue, assignee, cursor, limit, only)
    now = deps.clock() if any(case.presence for case in cases) else None  # none to lapse
    return [_as_seen_by(case, actor, now) for case in cases], next_cursor


def inbox_counts(deps: Deps, actor: model.Actor) -> dict[str, object]:
    """The figures beside the inbox, counted afresh from the index keys the pages read (never
    a counter kept beside them, which concurrent hand-overs could let drift): a practitioner's
    own cases, the cases waiting in the queues they serve, their mentions; a manager's open
    cases and the waiting cases of each queue someone serves."""
    store: CaseStore = deps.store
    profile = profile_of(actor, store)
    if profile is None:
        queues = sorted({q for p in store.list_practitioners() for q in p.queues})
        return {
            "open": store.count_open(),
            "waiting": {queue: store.count_waiting(queue) for queue in queues},
        }
    return {
        "mine": store.count_mine(actor.user_id),
        "waiting": sum(store.count_waiting(queue) for queue in sorted(profile.queues)),
        "mentions": store.count_mentions(actor.user_id),
    }


def _inbox(
    deps: Deps,
    actor: model.Actor,
    status: str | None,
    queue: str | None,
    assignee: str | None,
    cursor: str | None,
    limit: int,
    only: model.InboxFilter | None,
) -> tuple[list[model.Case], str | None]:
    store: CaseStore = deps.store
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}.", code="invalid_status")
    statuses = frozenset({status} if status else {"queued", "assigned"})
    queues = frozenset({queue}) if queue else None
    closed = status == "closed"
    if actor.is_manager:
        if assignee is not None and not closed:  # one assignee's partition, nothing else read
            return _open_page(store, status, queues, (assignee, frozenset()), cursor, limit, only)
        if queue is not None and status == "queued":
            return _open_page(store, status, None, ("", frozenset({queue})), cursor, limit, only)
        query = model.InboxQuery(closed, statuses, queues, assignee, None, limit, cursor, only)
    else:
        if assignee not in (None, actor.user_id):
            raise Forbidden("Practitioners see their own assigned cases only.")
        if not closed:
            return _practitioner_page(store, actor, status, queues, cursor, limit, only)
        profile = profile_of(actor, store)
        assert profile is not None
        mine = (actor.user_id, frozenset(profile.queues))
        query = model.InboxQuery(closed, statuses, queues, assignee, mine, limit, cursor, only)
    return store.inbox_page(query)


def _practitioner_page(
    store: CaseStore,
    actor: model.Actor,
    status: str | None,
    queues: frozenset[str] | None,
    cursor: str | None,
    limit: int,
    only: model.InboxFilter | None,
) -> tuple[list[model.Case], str | None]:
    """Their profile, read afresh on every page (a removal from a queue counts on the next
    one), comes in the same Query as their own cases: it heads their index partition. Then one
    Query per queue they serve: 1 + queues requests in all."""
    part, after = _decode_position(cursor)
    reads_mine = status in (None, "assigned") and part == "mine"
    profile, mine, more = store.practitioner_page(
        actor.user_id, after if reads_mine else None, limit if reads_mine else 0, only
    )
    if profile is None:  # not in the index (yet): `scripts/index_inbox.py`; read it as before
        profile = profile_of(actor, store)
        assert profile is not None
    waiting_in = frozenset(profile.queues) & (queues or frozenset(profile.queues))
    first = (mine, more) if reads_mine else None
    return _open_page(
        store, status, queues, (actor.user_id, waiting_in), cursor, limit, only, first
    )


def _open_page(
    store: CaseStore,
    status: str | None,
    queues: frozenset[str] | None,
    whose: tuple[str, frozenset[str]],  # (assignee, waiting queues); "" / empty: none
    cursor: str | None,
    limit: int,
    only: model.InboxFilter | None,
    first: tuple[list[model.Case], str | None] | None = None,  # the assignee's part, already read
) -> tuple[list[model.Case], str | None]:
    """Someone's cases first (every one, up to the page), newest activity first, then the
    longest waiting cases of the queues: one Query of the assignee's partition and one per
    queue, each reading only what the page shows. The cursor says which part continues where."""
    assignee, waiting_in = whose
    part, after = _decode_position(cursor)
    cases: list[model.Case] = []
    if assignee and status in (None, "assigned") and part == "mine":
        mine, more = first if first is not None else store.mine_page(assignee, after, limit, only)
        cases = sorted(
            (c for c in mine if queues is None or c.queue in queues),
            key=lambda c: c.last_activity_at,
            reverse=True,
        )
        if more is not None:
            return cases, _encode_position("mine", more)
        part, after = "waiting", None
    if not waiting_in or status not in (None, "queued"):
        return cases, None
    room = limit - len(cases)
    if room <= 0:
        return cases, _encode_position("waiting", None)
    waiting, more = store.waiting_page(waiting_in, after, room, only)
    return cases + waiting, _encode_position("waiting", more) if more is not None else None


def _encode_position(part: str, after: str | None) -> str:
    """Opaque to clients: which part of the page continues, and after which entry."""
    text = json.dumps({"part": part, "after": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_position(
    cursor: str | None, parts: tuple[str, ...] = ("mine", "waiting")
) -> tuple[str, str | None]:
    """Only a cursor shaped like ours, of one of this view's `parts` (the store checks the
    position itself); no cursor: the first part from its start."""
    if cursor is None:
        return parts[0], None
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(plain, dict) or set(plain) != {"part", "after"}:
            raise ValueError
        part, after = plain["part"], plain["after"]
        if part not in parts or not isinstance(after, str | None):
            raise ValueError
        if part != "waiting" and after is None:
            raise ValueError
        return part, after
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidCursor("This cursor is not one we gave out.") from error


def claim(deps: Deps, case_id: str, actor: model.Actor) -> model.Case:
    store, now = deps.store, deps.clock()
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
    deps: Deps,
    case_id: str,
    actor: model.Actor,
    *,
    queue: str | None = None,
    practitioner_id: str | None = None,
) -> model.Case:
    """To a queue (it waits there and is routed) or to a named practitioner (who must have room).
    An assigned case moves only by its assignee or a manager; to quarantine, by a manager only.
    To its current assignee, it stays as it is."""
    store, now = deps.store, deps.clock()
    if (queue is None) == (practitioner_id is None):
        raise InvalidInput("Give either queue or practitioner_id.", code="invalid_transfer")
    if queue == QUARANTINE_QUEUE and not actor.is_manager:
        raise Forbidden("Only managers move a case to quarantine.", code="managers_only")
    case, _ = _visible_case(case_id, actor, store)
    if case.status == "closed":
        raise Conflict("A closed case cannot be transferred; reopen it first.", code="closed")
    _require_holder(actor, case, "Only its assignee or a manager can transfer an assigned case.")
    if practitioner_id is not None and practitioner_id == case.assignee:
        return case  # already theirs: nothing to move, nobody's load changes
    try:
        if queue is not None:
            store.to_queue(_ref(case), queue, now)
            previous = frozenset({case.assignee}) if case.assignee else frozenset()
            waiting = model.CaseRef(case.id, queue, case.language, case.contact_id)
            routing.waiting_again(deps, waiting, exclude=previous)
        else:
            assert practitioner_id is not None
            if store.get_practitioner(practitioner_id) is None:
                raise NotFound("No such practitioner.")
            store.transfer_to(_ref(case), practitioner_id, now)
    except WriteRejected as lost:
        full = Conflict("That practitioner has no room for another case.", code="at_capacity")
        raise _lost(lost, {PractitionerUnavailable: full}) from lost
    if case.assignee and case.assignee != practitioner_id:
        routing.fill(case.assignee, store, now)  # a slot freed: offer the oldest waiting case
    return _fresh(case_id, store)


def add_note(deps: Deps, case_id: str, actor: model.Actor, body: str) -> model.Interaction:
    """An internal note; each `@id` in it that names a practitioner who may see the case puts
    the case in their mentions view. Naming anyone else is 400 `invalid_mention`, so a note
    never points someone at a case they may not open (nor says who exists to a typo)."""
    store, now = deps.store, deps.clock()
    case, _ = _visible_case(case_id, actor, store)
    mentioned = _mentioned(store, case, actor, body)
    note = model.new_entry(case_id, now, "note", "internal", body, author=actor.user_id)
    store.add_note(note, mentioned)
    return note


def set_language(deps: Deps, case_id: str, actor: model.Actor, language: str) -> model.Case:
    """Whoever may see the case corrects its language (a guess from a first message, a caller's
    slip); a note on the timeline says who and when. Routing and every later automatic text
    use it, and so does the citizen's next case: the contact keeps it."""
    store: CaseStore = deps.store
    now = deps.clock()
    language = deps.wording().spoken(language)
    case, _ = _visible_case(case_id, actor, store)
    if case.language != language:
        store.set_case_language(case_id, language)
        body = f"Language: {case.language or 'not set'} -> {language}"
        store.add_interaction(
            model.new_entry(case_id, now, "note", "internal", body, author=actor.user_id)
        )
    store.set_contact_language(case.contact_id, language)  # False: erased, nothing to keep
    return replace(case, language=language)


MENTION = r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})"
MAX_MENTIONS = 10


def _mentioned(
    store: CaseStore, case: model.Case, actor: model.Actor, body: str
) -> tuple[str, ...]:
    names = sorted({m.rstrip(".") for m in re.findall(MENTION, body)} - {actor.user_id})
    if len(names) > MAX_MENTIONS:
        raise InvalidInput(f"At most {MAX_MENTIONS} mentions a note.", code="invalid_mention")
    for name in names:
        profile = store.get_practitioner(name)
        if profile is None or not (case.assignee == name or case.queue in profile.queues):
            raise InvalidInput(
                f"@{name} is not a practitioner who can see this case.", code="invalid_mention"
            )
    return tuple(names)


def mentions(
    deps: Deps, actor: model.Actor, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[model.Mention], str | None]:
    """The notes that named me, newest first, each read or not (read: I opened the case since);
    a page at a time. Opening a case still needs the right to see it."""
    store: CaseStore = deps.store
    _, after = _decode_position(cursor, ("mentions",))
    found, more = store.mentions_of(actor.user_id, limit, after)
    return found, _encode_position("mentions", more) if more is not None else None


def close(deps: Deps, case_id: str, actor: model.Actor, outcome: str, *, seen: str) -> model.Case:
    """`seen`: the latest timeline event the practitioner saw. A citizen's message after it
    refuses the close (409, with the messages), also one landing while we write."""
    store, now = deps.store, deps.clock()
    case, _ = _visible_case(case_id, actor, store, with_timeline=True)
    if case.status == "closed":
        raise Conflict("The case is already closed.", code="closed")
    _require_holder(actor, case, "Only its assignee or a manager can close an assigned case.")
    refuse_unseen(case, seen)
    try:
        store.close(_ref(case, unchanged_inbound=True), outcome, actor.user_id, now)
    except (CaseChanged, WriteConflict) as lost:
        raise changed(case_id, store, seen) from lost
    if case.assignee:
        routing.fill(case.assignee, store, now)  # a slot freed: offer the oldest waiting case
    closed = _fresh(case_id, store)
    satisfaction.after_close(deps, closed)  # how did it go? (if the outcome answered them)
    return closed


def reopen(deps: Deps, case_id: str, actor: model.Actor) -> model.Case:
    store, now = deps.store, deps.clock()
    case, _ = _visible_case(case_id, actor, store)
    if case.status != "closed":
        raise Conflict("Only a closed case can be reopened.", code="not_closed")
    if case.erased_at is not None:  # the store's condition holds this against a race too
        raise Conflict("The citizen's data was erased; the case stays closed.", code="erased")
    try:
        store.reopen(_ref(case), now)
    except WriteRejected as lost:
        other = Conflict(
            "The citizen has another open case; work that one.", code="other_case_open"
        )
        raise _lost(lost, {OpenCaseExists: other}) from lost
    # the weekly report's reopen rate counts these notes
    store.add_interaction(
        model.new_entry(
            case.id, now, "note", "internal", "Reopened", status="reopened", author=actor.user_id
        )
    )
    routing.waiting_again(deps, model.CaseRef(case.id, case.queue, case.language, case.contact_id))
    return _fresh(case_id, store)


def reply(
    deps: Deps,
    case_id: str,
    actor: model.Actor,
    body: str,
    *,
    seen: str | None = None,
    canned_id: str | None = None,
    first_name: str | None = None,
) -> tuple[str, str]:
    """Answer on the citizen's own channel (that of their latest message); the first reply sets
    the case's first-response time. Returns the reply's interaction id and status. A reply
    written from a canned response names it (kept on the timeline) and has its placeholders
    filled (`domain.canned`).

    The reply is written to the timeline, conditional on the case being as read, before it is
    sent: racing a close or transfer, it is refused (409) before anything leaves, never after.
    Given `seen`, a citizen's message after that event refuses it too."""
    store: CaseStore = deps.store
    case, _ = _visible_case(case_id, actor, store, with_timeline=seen is not None)
    if case.status == "closed":
        raise Conflict("The case is closed; reopen it to reply.", code="closed")
    _require_holder(actor, case, "Another practitioner has this case.")
    if seen is not None:
        refuse_unseen(case, seen)
    if canned_id is not None:
        canned.find(deps, actor, canned_id)
        body = canned.fill(deps, actor, body, first_name, case.language)
    gate = _ReplyGate(
        store,
        _ref(case, unchanged_inbound=seen is not None),
        answered_by_assignee=case.status == "assigned",
        canned_id=canned_id,
    )
    try:
        return _send_reply(deps, case, actor, body, gate)
    except (CaseChanged, WriteConflict) as lost:
        raise changed(case_id, store, seen) from lost


class _ReplyGate:
    """The reply's one write before sending, its timeline entry, goes through `add_reply`:
    recorded with the case's first-response time, only while the case is as the practitioner
    read it."""

    def __init__(
        self,
        store: CaseStore,
        case: model.CaseRef,
        *,
        answered_by_assignee: bool,
        canned_id: str | None = None,
    ) -> None:
        self._store = store
        self._case = case
        self._answered_by_assignee = answered_by_assignee
        self._canned_id = canned_id

    def add_interaction(self, interaction: model.Interaction) -> None:
        self._store.add_reply(
            replace(interaction, canned_id=self._canned_id),
            self._case,
            answered_by_assignee=self._answered_by_assignee,
        )


def _send_reply(
    deps: Deps, case: model.Case, actor: model.Actor, body: str, gate: _ReplyGate
) -> tuple[str, str]:
    if case.reply_to is not None and case.reply_to.kind == "email":
        sent = mail.send_reply(deps, case, body, actor.user_id, gate.add_interaction)
        return sent.id, sent.status or "sent"
    if case.reply_to is not None and case.reply_to.kind == "phone":
        sms = delivery.send_sms(
            deps, case.id, body, actor.user_id, case.reply_to, gate.add_interaction
        )
        return sms.interaction_id, sms.status
    if case.reply_to is not None and case.reply_to.kind == "chat":
        out = delivery.Outgoing(case.id, "chat", case.reply_to.value, body, author=actor.user_id)
        chat = delivery.send(deps, out, gate.add_interaction)
        return chat.interaction_id, chat.status
    raise Conflict("The citizen left no address to answer (an anonymous call).", code="no_address")


def _fresh(case_id: str, store: CaseStore) -> model.Case:
    case = store.get_case(case_id)
    if case is None:  # cases are never deleted by these operations
        raise NotFound("No such case.")
    return case
