"""Safeguarding alerts: a high-risk case reaches a human at once, and a citizen in danger is
never left without an answer.

A high flag (the rules' or a practitioner's: `safeguarding.apply`, `safeguarding.change`) alerts
the on-duty supervisor (a practitioner with the `supervisor` skill) by SMS and email through the
one delivery path; `run` (every minute) passes an alert nobody acknowledged within
SAFEGUARDING_ALERT_MINUTES to the next supervisor (and, once, the managers). A supervisor gets at
most one alert SMS per SAFEGUARDING_SMS_MINUTES (alerts meanwhile are batched into her next). Out of
hours, or when nobody took the case within SAFEGUARDING_ANSWER_MINUTES, the citizen gets the
crisis answer (`safeguarding_texts`) on their own channel, once per case. A lowering below high
resolves the alert (`resolve`): a human decided. Apart from `safeguarding` (assessment), which
every message passes through: most messages never alert, so their cold start never loads this.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import delivery, risk, safeguarding_texts
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.model import Actor, Alert, Case, Practitioner, new_entry
from chalicelib.domain.safeguarding import SAFEGUARDING, SUPERVISOR, stamp

if TYPE_CHECKING:
    from chalicelib.domain.ports import Deps, SafeguardingStore, Store

log = logging.getLogger("contact-centre")


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
                seen = replace(case.risk, acknowledged_by=actor.user_id, acknowledged_at=stamp(now))
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


def resolve(deps: Deps, case: Case, by: str, now: datetime) -> None:
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
