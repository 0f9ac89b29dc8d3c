"""Safeguarding: a young person at risk never waits in a queue, and a human always decides.

Every inbound text is assessed (`risk.assess`) against the terms managers maintain. A flag
raises the case's risk, never lowers it (only a practitioner does, with a reason, over every
message she read: `change`; her lowering resolves the alert, a human decided); every flag
and change is a note on the case's timeline and an audit record. A high-risk case waits first in
its queue and is offered to `safeguarding` practitioners first (`routing.rank`); it alerts the
on-duty supervisor (a practitioner with the `supervisor` skill) by SMS and email through the
one delivery path, and `run` (every minute) passes an alert nobody acknowledged within
SAFEGUARDING_ALERT_MINUTES to the next supervisor (and, once, the managers). A supervisor gets at
most one alert SMS per SAFEGUARDING_SMS_MINUTES (alerts meanwhile are batched into her next). Out of
hours, or when nobody took the case within SAFEGUARDING_ANSWER_MINUTES, the citizen gets the
crisis answer (`safeguarding_texts`) on their own channel, once per case. Nothing else is sent or
closed automatically. Logs carry case ids and levels, never a matched term or a message's words.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from chalicelib.domain import delivery, risk, safeguarding_texts
from chalicelib.domain.errors import ChangedMeanwhile, Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Actor, Alert, Case, Practitioner, new_entry
from chalicelib.domain.risk import Level, Risk, TermList

if TYPE_CHECKING:
    from chalicelib.domain.ports import CaseStore, Deps, SafeguardingStore, Store

log = logging.getLogger("contact-centre")
SUPERVISOR, SAFEGUARDING = "supervisor", "safeguarding"
AUTHOR = "safeguarding"  # the author of the rules' notes on a timeline


def _at(now: datetime) -> str:
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
            {**fields, "version": expected + 1, "updated_by": actor.user_id, "updated_at": _at(now)}
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
    return Risk(assessed.level, assessed.reasons, "rules", _at(deps.clock()))


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
        raise_alert(deps, case, now)


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
    judged = replace(before, level=cast(Level, level), by=actor.user_id, at=_at(now), note=reason)
    read = risk.Held(inbound_count=case.inbound_count or 0)
    updated = store.set_risk(case_id, judged, only_if_higher=False, held=read)
    if updated is None:
        raise casework.changed(case_id, store, seen)
    _recorded(deps, updated, judged, actor.user_id, now, before=case.risk)
    if level == "high" and before.level != "high":
        raise_alert(deps, updated, now)
    elif level != "high":
        _resolve(deps, updated, actor.user_id, now)
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


# --- alerts ---------------------------------------------------------------------------------------


def raise_alert(deps: Deps, case: Case, now: datetime) -> None:
    """Alert the on-duty supervisor about a high-risk case (once while an alert is open); out of
    hours, answer the citizen with the crisis lines at once."""
    store: SafeguardingStore = deps.store
    settings = deps.settings
    existing = store.get_alert(case.id)
    if existing is not None and existing.escalate_at is not None:
        return  # still alerting: the job escalates it
    in_hours = deps.hours().is_open(now)
    supervisor = _next_supervisor(store, ())
    alert = Alert(
        case.id,
        now,
        version=existing.version + 1 if existing else 1,
        notified=(supervisor.id,) if supervisor else (),
        escalate_at=now + timedelta(minutes=settings.safeguarding_alert_minutes),
        answer_at=now + timedelta(minutes=settings.safeguarding_answer_minutes)
        if in_hours and not (existing and existing.crisis_answered_at)
        else None,
        crisis_answered_at=existing.crisis_answered_at if existing else None,
        managers_told=supervisor is None,
    )
    if not store.put_alert(alert, existing.version if existing else None):
        return  # another message raised it at the same time
    if supervisor is not None:
        _notify(deps, case, [supervisor], [])
    else:
        _notify(deps, case, [], list(settings.manager_emails))
    log.info("risk alert raised", extra={"case_id": case.id, "supervisor": bool(supervisor)})
    if not in_hours:
        _answer_once(deps, case, alert, now)


def acknowledge(deps: Deps, actor: Actor, case_id: str) -> Alert:
    """A supervisor, safeguarding practitioner or manager has seen the alert: it stops
    escalating (idempotent). The crisis answer, if due, still goes when nobody takes the case."""
    store: Store = deps.store
    if not actor.is_manager:
        profile = store.get_practitioner(actor.user_id)
        if profile is None or not {SUPERVISOR, SAFEGUARDING} & set(profile.skills):
            raise Forbidden(
                "Only supervisors, safeguarding practitioners and managers acknowledge alerts.",
                code="not_safeguarding",
            )
    for _ in range(5):
        alert = store.get_alert(case_id)
        if alert is None:
            raise NotFound("No risk alert on this case.")
        if alert.acknowledged_at is not None:
            return alert
        now = deps.clock()
        done = replace(
            alert,
            version=alert.version + 1,
            acknowledged_by=actor.user_id,
            acknowledged_at=now,
            escalate_at=None,
        )
        if store.put_alert(done, alert.version):
            case = store.get_case(case_id)
            if case is not None and case.risk is not None:
                seen = replace(case.risk, acknowledged_by=actor.user_id, acknowledged_at=_at(now))
                # over the risk as read: a practitioner's change meanwhile is never undone
                store.set_risk(case_id, seen, only_if_higher=False, held=risk.Held(case.risk))
            store.add_interaction(
                new_entry(
                    case_id,
                    now,
                    "note",
                    "internal",
                    "Risk alert acknowledged",
                    author=actor.user_id,
                    status="risk",
                )
            )
            if case is not None:
                store.audit("risk_acknowledged", case.contact_id, actor.user_id, now, {})
            return done
    raise Conflict("The alert is changing; try again.", code="changed")


def _resolve(deps: Deps, case: Case, by: str, now: datetime) -> None:
    """A practitioner lowered the case's risk below high, with a reason: a human decided, so
    its alert (if one was raised and not yet resolved) stops escalating and no crisis answer
    is still due; it stays on record as resolved by her, then (the timeline and the audit say
    so too). Raising the risk again starts a new alert (`raise_alert`)."""
    store: SafeguardingStore = deps.store
    for _ in range(5):
        alert = store.get_alert(case.id)
        if alert is None or alert.resolved_at is not None:
            return
        if store.put_alert(_resolved(alert, by, now), alert.version):
            deps.store.add_interaction(
                new_entry(
                    case.id,
                    now,
                    "note",
                    "internal",
                    "Risk alert resolved by lowering the risk",
                    author=by,
                    status="risk",
                )
            )
            deps.store.audit("risk_alert_resolved", case.contact_id, by, now, {})
            log.info("risk alert resolved", extra={"case_id": case.id})
            return
    raise Conflict("The alert is changing; try again.", code="changed")


def _resolved(alert: Alert, by: str, at: datetime) -> Alert:
    """The alert ended by a lowering: nothing more to escalate nor answer."""
    return replace(
        alert,
        version=alert.version + 1,
        escalate_at=None,
        answer_at=None,
        resolved_by=by,
        resolved_at=at,
    )


def run(deps: Deps) -> dict[str, int]:
    """Every minute: alerts nobody acknowledged go on to the next supervisor and the managers;
    high-risk cases nobody took in time get the crisis answer; a case a practitioner lowered
    meanwhile gets neither (her lowering resolved its alert). Each step is claimed with a
    conditional write of the alert, so overlapping runs do it once."""
    store: Store = deps.store
    settings = deps.settings
    now = deps.clock()
    counts = {"escalated": 0, "answered": 0}
    for alert in store.alerts_due(now):
        case = store.get_case(alert.case_id)
        judged = case.risk if case is not None else None
        if judged is not None and judged.level != "high":
            # lowered, and that lowering's own resolution did not land (it crashed between its
            # two writes): the practitioner's judgement stands, on record as hers; nothing more
            at = datetime.fromisoformat(judged.at) if judged.at else now
            store.put_alert(_resolved(alert, judged.by, at), alert.version)
            continue
        open_case = case is not None and case.status != "closed"
        escalate = open_case and alert.escalate_at is not None and alert.escalate_at <= now
        due = alert.answer_at is not None and alert.answer_at <= now
        answer = open_case and due and case is not None and case.assignee is None
        supervisor = _next_supervisor(store, alert.notified) if escalate else None
        tell_managers = escalate and not alert.managers_told  # once per alert, not per period
        advance = escalate and (supervisor is not None or tell_managers)
        after = replace(
            alert,
            version=alert.version + 1,
            stage=alert.stage + 1 if advance else alert.stage,
            managers_told=alert.managers_told or tell_managers,
            notified=alert.notified + ((supervisor.id,) if supervisor else ()),
            escalate_at=now + timedelta(minutes=settings.safeguarding_alert_minutes)
            if escalate
            else (alert.escalate_at if open_case else None),
            answer_at=None if due or not open_case else alert.answer_at,
            crisis_answered_at=now if answer else alert.crisis_answered_at,
        )
        if not store.put_alert(after, alert.version):
            continue  # another run took this step
        assert case is not None or not (escalate or answer)
        if advance and case is not None:
            managers = list(settings.manager_emails) if tell_managers else []
            _notify(deps, case, [supervisor] if supervisor else [], managers)
            counts["escalated"] += 1
        if answer and case is not None:
            _send_crisis_answer(deps, case)
            counts["answered"] += 1
    batched = _send_batched(deps, now)
    if any(counts.values()) or batched:
        log.info("safeguarding job", extra={**counts, "batched_sms": batched})
    return counts


def _sms_window(deps: Deps, now: datetime) -> datetime:
    """A supervisor's alert SMS window opens again when her last one is this old."""
    return now - timedelta(minutes=deps.settings.safeguarding_sms_minutes)


def _send_batched(deps: Deps, now: datetime) -> int:
    """The alerts batched while an on-duty supervisor's SMS window was shut, in one SMS once it
    opens (recorded on the first of those cases). How many SMS went."""
    store: SafeguardingStore = deps.store
    sent = 0
    for p in store.list_practitioners(on_duty_only=True):
        if SUPERVISOR in p.skills and p.phone:
            batch = store.claim_alert_sms(p.id, None, now, _sms_window(deps, now))
            if batch:
                _alert_sms(deps, p.phone, batch)
                sent += 1
    return sent


def _alert_sms(deps: Deps, phone: str, cases: tuple[str, ...]) -> None:
    settings = deps.settings
    text = safeguarding_texts.alert_batch(cases, settings.case_page, settings.app_page("inbox"))
    _quietly(deps, delivery.Outgoing(cases[0], "sms", phone, text, automated=True))


def _next_supervisor(store: SafeguardingStore, notified: tuple[str, ...]) -> Practitioner | None:
    """The on-duty supervisor not yet alerted, in a stable order (by id)."""
    on_duty = sorted(store.list_practitioners(on_duty_only=True), key=lambda p: p.id)
    return next((p for p in on_duty if SUPERVISOR in p.skills and p.id not in notified), None)


def _notify(deps: Deps, case: Case, supervisors: list[Practitioner], managers: list[str]) -> None:
    """SMS and email to each, recorded on the case like every message: the case id, the level
    and a link; never the citizen's words or contact details. Email always; SMS (paid, and
    someone texting method words from many numbers must not flood a phone) at most one per
    supervisor per SAFEGUARDING_SMS_MINUTES: alerts meanwhile are batched into her next one."""
    from chalicelib.domain import mail

    level = case.risk.level if case.risk else "high"
    text = safeguarding_texts.alert(level, case.id, deps.settings.case_page(case.id))
    subject = safeguarding_texts.alert_subject(level, case.id)
    emails = [*(p.email for p in supervisors if p.email), *managers]
    now = deps.clock()
    for p in supervisors:
        if p.phone:
            batch = deps.store.claim_alert_sms(p.id, case.id, now, _sms_window(deps, now))
            if batch:
                _alert_sms(deps, p.phone, (case.id, *(c for c in batch if c != case.id)))
    for address in emails:
        raw = mail.notice(deps, address, subject, text)
        _quietly(deps, delivery.Outgoing(case.id, "email", address, text, raw=raw, automated=True))


def _answer_once(deps: Deps, case: Case, alert: Alert, now: datetime) -> None:
    if alert.crisis_answered_at is not None:
        return
    answered = replace(alert, version=alert.version + 1, crisis_answered_at=now, answer_at=None)
    if deps.store.put_alert(answered, alert.version):
        _send_crisis_answer(deps, case)


def _send_crisis_answer(deps: Deps, case: Case) -> None:
    """The crisis lines on the citizen's own channel (their latest message's sender); a caller
    heard them in the menu, and an opted-out number or a bouncing address gets nothing."""
    from chalicelib.domain import mail

    to = case.reply_to
    if to is None or to.kind == "anonymous":
        return
    words = deps.wording()
    language = words.language(case.language)
    text = words.say(language, "sms.crisis", crisis_lines=deps.settings.crisis_lines)
    if to.kind == "chat":  # the open conversation: the widget shows it at once
        _quietly(deps, delivery.Outgoing(case.id, "chat", to.value, text, automated=True))
        return
    try:
        delivery.refuse_unreachable(deps, "sms" if to.kind == "phone" else "email", to)
    except Conflict:
        log.info("crisis answer not sent: unreachable", extra={"case_id": case.id})
        return
    if to.kind == "phone":
        _quietly(deps, delivery.Outgoing(case.id, "sms", to.value, text, automated=True))
        return
    raw, _ = mail.compose(
        deps,
        mailbox=mail.mailbox_for(case),
        token=case.reply_token,
        to=to.value,
        subject=case.email_subject or words.say(language, "email.crisis_subject"),
        body=text,
        thread=case.email_thread,
        automatic=True,
    )
    _quietly(deps, delivery.Outgoing(case.id, "email", to.value, text, raw=raw, automated=True))


def _quietly(deps: Deps, out: delivery.Outgoing) -> None:
    """Sending never stops the others: a refusal is parked or failed on the case by delivery."""
    try:
        delivery.send(deps, out)
    except Exception:
        log.exception("safeguarding message not sent", extra={"case_id": out.case_id})
