"""Safeguarding: a young person at risk never waits in a queue, and a human always decides.

Every inbound text is assessed (`risk.assess`) against the terms managers maintain. A flag
raises the case's risk, never lowers it (only a practitioner does, with a reason, over every
message she read: `change`; her lowering resolves the alert, a human decided); every flag
and change is a note on the case's timeline and an audit record. A high-risk case waits first in
its queue and is offered to `safeguarding` practitioners first (`routing.rank`); a high one
alerts a supervisor, and out of hours answers the citizen with the crisis lines (`alerts`).
Nothing else is sent or closed automatically. Logs carry case ids and levels, never a matched
term or a message's words.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from chalicelib.domain import risk
from chalicelib.domain.errors import ChangedMeanwhile, Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Actor, Case, Practitioner, new_entry
from chalicelib.domain.risk import Level, Risk, TermList

if TYPE_CHECKING:
    from chalicelib.domain.ports import CaseStore, Deps, SafeguardingStore, Store

log = logging.getLogger("contact-centre")
SUPERVISOR, SAFEGUARDING = "supervisor", "safeguarding"
AUTHOR = "safeguarding"  # the author of the rules' notes on a timeline


def stamp(now: datetime) -> str:
    """A time as risk records hold it (ISO 8601, UTC, with Z)."""
    return now.isoformat().replace("+00:00", "Z")


# --- the term list ------------------------------------------------------------------------------


def current_terms(store: SafeguardingStore) -> TermList:
    """The managers' list as stored, else the shipped defaults (version 0: nothing saved)."""
    stored = store.load_risk_terms()
    if stored is None:
        return replace(risk.defaults(), version=0)
    return risk.parse(stored)


def save_terms(deps: Deps, actor: Actor, fields: dict[str, Any]) -> TermList:
    """A manager's new list, over the version they read (`version`; 409 `changed` if another
    save came first). Patterns are compiled and refused (400) if invalid or ReDoS-shaped."""
    store: SafeguardingStore = deps.store
    now = deps.clock()
    expected = int(fields["version"])
    try:
        terms = risk.parse(
            {
                **fields,
                "version": expected + 1,
                "updated_by": actor.user_id,
                "updated_at": stamp(now),
            }
        )
    except risk.InvalidTerms as error:
        raise InvalidInput(str(error), code="invalid_terms") from None
    if not store.save_risk_terms(terms.to_json(), expected):
        raise ChangedMeanwhile("The term list changed meanwhile; reload it.")
    store.audit("risk_terms", "terms", actor.user_id, now, {"version": terms.version})
    log.info("risk terms saved", extra={"version": terms.version, "terms": len(terms.terms)})
    return terms


def on_watch(profile: Practitioner, case: Case, store: CaseStore) -> bool:
    """Whether a practitioner may open and act on a case beyond her queues: an on-duty
    supervisor or safeguarding practitioner (the people its alert calls on), while its risk is
    high or its alert is open (raised and not acknowledged: the link she was sent works even if
    the risk was lowered meanwhile). Once the alert is acknowledged and the risk lowered, her
    need to know a young person's case has ended, and so has her access (unless she holds it).
    Read afresh per request; every read she makes is recorded like anyone's (`READ#`)."""
    if not (profile.on_duty and {SUPERVISOR, SAFEGUARDING} & set(profile.skills)):
        return False
    if case.risk is not None and case.risk.level == "high":
        return True
    if case.risk is None:
        return False  # never flagged: never alerted
    alert = store.get_alert(case.id)
    return alert is not None and alert.acknowledged_at is None


# --- assessment and changes -----------------------------------------------------------------------


def on_inbound(deps: Deps, case_id: str, text: str) -> str | None:
    """Assess a citizen's message on `case_id`; raise the case's risk if it is higher, and for a
    high one alert and (out of hours) answer. The level found, or None when nothing was."""
    flag = assess(deps, text)
    if flag is not None:
        apply(deps, case_id, flag)
    return flag.level if flag else None


def assess(deps: Deps, text: str) -> Risk | None:
    """The rules' flag on a citizen's words, or None when they found nothing. Pure but for the
    term list: intake assesses a first message before writing its case, so the case is
    written with its risk and its place in the queue in one transaction."""
    assessed = risk.assess(text, deps.risk_terms())
    if assessed.level == "none":
        return None
    return Risk(assessed.level, assessed.reasons, "rules", stamp(deps.clock()))


def apply(deps: Deps, case_id: str, flag: Risk, *, stored: bool = False) -> None:
    """The rules' flag on the case, if it is higher than its risk (`stored`: intake already
    wrote it with the new case): on the timeline and in the audit, and a high one alerts."""
    if stored:
        case = deps.store.get_case(case_id)
    else:
        case = deps.store.set_risk(case_id, flag, only_if_higher=True)
    if case is None:
        return
    now = deps.clock()
    _recorded(deps, case, flag, "rules", now)
    if flag.level == "high":
        from chalicelib.domain import alerts  # most messages never alert: loaded when one does

        alerts.raise_alert(deps, case, now)


def change(
    deps: Deps, actor: Actor, case_id: str, level: str, reason: str, *, seen: str | None = None
) -> Case:
    """A practitioner who may see the case raises or lowers its risk, with a reason. Lowering
    is a judgement of every word the citizen wrote: `seen` (the latest timeline event she saw)
    is required, and a citizen's message after it refuses the lowering (409 unseen_messages,
    with the messages), also one landing while we write: the store's write is conditional on
    the count of messages as read here. Raising is always safe: `seen` is not checked. A
    lowering below high resolves the case's alert: a human decided, so it stops escalating."""
    from chalicelib.domain import casework

    store: Store = deps.store
    case = store.get_case(case_id, with_timeline=True)
    if case is None:
        raise NotFound("No such case.")
    if not casework.can_see(actor, casework.profile_of(actor, store), case, store):
        raise Forbidden("This case is not in your queues nor assigned to you.")
    before = case.risk or Risk("none")
    if risk.RANK[level] < risk.RANK[before.level]:
        if seen is None:
            raise InvalidInput(
                "Lowering a risk needs seen: the latest event you read.", code="seen_required"
            )
        casework.refuse_unseen(case, seen)
    now = deps.clock()
    # the alert's acknowledgement is history, not part of a judgement: it stays on the case
    judged = replace(before, level=cast(Level, level), by=actor.user_id, at=stamp(now), note=reason)
    read = risk.Held(inbound_count=case.inbound_count or 0)
    updated = store.set_risk(case_id, judged, only_if_higher=False, held=read)
    if updated is None:
        raise casework.changed(case_id, store, seen)
    _recorded(deps, updated, judged, actor.user_id, now, before=case.risk)
    from chalicelib.domain import alerts

    if level == "high" and before.level != "high":
        alerts.raise_alert(deps, updated, now)
    elif level != "high":
        alerts.resolve(deps, updated, actor.user_id, now)
    return updated


def level_of(deps: Deps, case_id: str) -> str | None:
    """The risk level of a case put (back) in its queue (None: never flagged), for routing: the
    store already placed it (first, if high) in the same write that put it there, on condition
    that its risk was still the one it read."""
    case = deps.store.get_case(case_id)
    return case.risk.level if case is not None and case.risk is not None else None


def _recorded(
    deps: Deps, case: Case, flag: Risk, by: str, now: datetime, before: Risk | None = None
) -> None:
    """The flag or change on the case's timeline (with its reasons: practitioners read them
    there) and in the audit (levels only)."""
    was = before.level if before else "none"
    body = f"Risk {was} -> {flag.level} by {by}"
    if flag.note:
        body += f": {flag.note}"
    elif flag.reasons:
        body += f" (matched: {', '.join(flag.reasons)})"
    author = AUTHOR if by == "rules" else by
    deps.store.add_interaction(
        new_entry(case.id, now, "note", "internal", body, author=author, status="risk")
    )
    deps.store.audit(
        f"risk_{flag.level}",
        case.contact_id,
        by,
        now,
        {"from": risk.RANK[was], "to": risk.RANK[flag.level]},
    )
    log.info(
        "case risk changed",
        extra={"case_id": case.id, "level": flag.level, "by_rules": by == "rules"},
    )
