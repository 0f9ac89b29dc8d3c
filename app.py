"""Routes and events mapped to calls: parse and verify at the edge, one domain call, render.

Each handler imports the modules it uses: a Lambda cold start pays only for its first request's
needs (an SMS webhook never loads the inbox, JWT or JSON Schema code), and `import app` stays close
to the floor of importing Chalice and boto3 (see `make bench`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Chalice, Cron, Rate, Response

from chalicelib.channels import auth
from chalicelib.channels.http import (
    bounded,
    error_response,
    json_errors,
    reshape_framework_errors,
    signed_form,
    with_query,
)
from chalicelib.logs import configure_logging, request_id
from chalicelib.wiring import Services, services

if TYPE_CHECKING:
    from chalicelib.domain.model import Actor

app = Chalice(app_name="guidance-contact-centre")
app.api.binary_types.append("message/rfc822")  # raw emails reach the relay route as bytes
configure_logging(app)
SES_TOPIC = os.environ.get("SES_NOTIFICATIONS_TOPIC", "guidance-contact-centre-ses")
INBOUND_TOPIC = os.environ.get("INBOUND_MAIL_TOPIC", "guidance-contact-centre-inbound-mail")

FORM = ["application/x-www-form-urlencoded"]
JSON = ["application/json"]


@app.middleware("http")
def one_error_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every log line of the request carries its id; every error has our one JSON shape; a
    request outside the edge's bounds (header, path and query sizes) reaches no route."""
    context = getattr(event, "context", None) or {}
    token = request_id.set(context.get("requestId") or uuid.uuid4().hex)
    try:
        refused = bounded(event)
        if refused is not None:
            return error_response(refused.status, refused.code, refused.message)
        return reshape_framework_errors(get_response(event))
    finally:
        request_id.reset(token)


# --- helpers: the edge's three jobs (verify, parse, render) ----------------------------------


def _twilio_form(path: str) -> dict[str, str]:
    """The POSTed fields, once Twilio's signature over our public URL has been checked."""
    from chalicelib.channels import twilio_sms

    request = app.current_request
    settings = services().settings
    url = with_query(settings.public_url(path), request.query_params)
    given = request.headers.get("x-twilio-signature")
    return signed_form(
        request.raw_body,
        lambda form: twilio_sms.verify_signature(settings.twilio_auth_token, url, form, given),
    )


def _twiml(twiml: str) -> Response:
    return Response(body=twiml, status_code=200, headers={"Content-Type": "text/xml"})


def _actor(*roles: auth.Role) -> Actor:
    """The signed-in user, who must hold one of `roles` (401 without a valid token, else 403)."""
    from chalicelib.domain.model import Actor

    header = app.current_request.headers.get("authorization")
    principal = auth.require(auth.authenticate(header, services().settings), *roles)
    return Actor(principal.user_id, principal.role)


def _body(schema: str) -> dict[str, Any]:
    from chalicelib.channels.validation import json_body

    return json_body(app.current_request.raw_body, schema)


def _query(name: str) -> str | None:
    return (app.current_request.query_params or {}).get(name)


BOTH: tuple[auth.Role, ...] = ("practitioner", "manager")


# --- health --------------------------------------------------------------------------------


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/openapi.json", methods=["GET"])
def openapi() -> dict[str, Any]:
    from chalicelib.channels.openapi import document

    return document(app.routes)


# --- Twilio SMS ----------------------------------------------------------------------------


@app.route("/webhooks/twilio/sms", methods=["POST"], content_types=FORM)
@json_errors
def twilio_sms_inbound() -> Response:
    from chalicelib.channels import twilio_sms
    from chalicelib.domain import intake

    deps = services()
    message = twilio_sms.parse_inbound(
        _twilio_form("/webhooks/twilio/sms"), deps.settings.allowed_country_codes
    )
    outcome = intake.receive(message, deps.store, deps.hours(), deps.clock)
    callback = deps.sms_status_url(outcome.reply_ref) if outcome.reply_ref else None
    return _twiml(twilio_sms.render_reply(outcome.reply, callback))


@app.route("/webhooks/twilio/sms/status", methods=["POST"], content_types=FORM)
@json_errors
def twilio_sms_status() -> Response:
    from chalicelib.channels import twilio_sms
    from chalicelib.domain import delivery

    status, sid, error_code = twilio_sms.parse_status(_twilio_form("/webhooks/twilio/sms/status"))
    delivery.record_status(services(), _query("ref"), status, sid, error_code)
    return Response(body="", status_code=204)


# --- Twilio Voice --------------------------------------------------------------------------

VOICE = "/webhooks/twilio/voice"


def _menu_url(deps: Services) -> Callable[[str], str]:
    return lambda step: deps.settings.public_url(f"{VOICE}/menu?step={step}")


@app.route(VOICE, methods=["POST"], content_types=FORM)
@json_errors
def twilio_voice_inbound() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    message = twilio_voice.parse_call(_twilio_form(VOICE))
    deps = services()
    greeting = voice.answer(message, deps.store, deps.hours(), deps.clock)
    return _twiml(twilio_voice.welcome(greeting, _menu_url(deps)))


@app.route(f"{VOICE}/menu", methods=["POST"], content_types=FORM)
@json_errors
def twilio_voice_menu() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    form = _twilio_form(f"{VOICE}/menu")
    step, reason, attempt = twilio_voice.parse_step(_query("step"))
    deps = services()
    call = voice.find_call(twilio_voice.call_sid(form), twilio_voice.caller(form), deps.store)
    next_step = voice.menu(
        call,
        step,
        attempt,
        reason,
        twilio_voice.choice(form),
        form.get("DialCallStatus"),
        deps.store,
        deps.clock(),
        voice.CallbackRules(
            deps.settings.allowed_country_codes, deps.settings.callbacks_per_number_per_day
        ),
    )
    recording = deps.settings.public_url(f"{VOICE}/recording")
    return _twiml(twilio_voice.answer(next_step, _menu_url(deps), recording))


@app.route(f"{VOICE}/recording", methods=["POST"], content_types=FORM)
@json_errors
def twilio_voice_recording() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    form = _twilio_form(f"{VOICE}/recording")
    sid, url, duration, status = twilio_voice.recording(form)
    deps = services()
    call = voice.find_call(twilio_voice.call_sid(form), twilio_voice.caller(form), deps.store)
    if call is not None and status == "completed":
        voice.record_voicemail(call, sid, url, duration, deps.store, deps.clock())
    return Response(body="", status_code=204)


@app.route(f"{VOICE}/status", methods=["POST"], content_types=FORM)
@json_errors
def twilio_voice_status() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice
    from chalicelib.domain.delivery import parse_reference

    form = _twilio_form(f"{VOICE}/status")
    status, duration = twilio_voice.call_status(form)
    deps = services()
    ref = parse_reference(_query("ref") or "")
    call = (
        voice.Call(ref[0], ref[1], None)
        if ref
        else voice.find_call(twilio_voice.call_sid(form), None, deps.store)
    )
    if call is not None:
        voice.call_status(call, status, duration, deps.store)
    return Response(body="", status_code=204)


# --- Email --------------------------------------------------------------------------------


def _receive_email(
    raw: bytes,
    provider_id: str | None,
    raw_key: str | None,
    verdicts: dict[str, str] | None = None,
) -> Any:
    from chalicelib.channels import email_mime
    from chalicelib.domain import mail

    deps = services()
    parsed = email_mime.parse(
        raw, deps.settings.mail_domain, provider_id, raw_key is not None, verdicts
    )
    return mail.receive(deps, parsed.message, parsed.attachments, raw, raw_key)


@app.route("/webhooks/email/inbound", methods=["POST"], content_types=["message/rfc822"])
@json_errors
def email_inbound() -> Response:
    from chalicelib.channels import email_mime, email_relay
    from chalicelib.domain.errors import PayloadTooLarge

    request = app.current_request
    raw = request.raw_body if isinstance(request.raw_body, bytes) else request.raw_body.encode()
    email_relay.verify(
        services().settings.email_relay_secret,
        request.headers.get("x-relay-timestamp"),
        request.headers.get("x-relay-signature"),
        raw,
    )
    if len(raw) > email_mime.MAX_BYTES:
        raise PayloadTooLarge(f"Messages over {email_mime.MAX_BYTES} bytes are refused.")
    outcome = _receive_email(raw, None, None)
    if outcome.duplicate:  # the same bytes again: nothing to add, and no case to name
        return Response(body={"duplicate": True}, status_code=200)
    return Response(body={"case_id": outcome.case_id, "duplicate": False}, status_code=201)


@app.on_sns_message(topic=INBOUND_TOPIC)
def email_from_ses(event: Any) -> None:
    """SES stored a message in S3 and said so on SNS (with its spam and virus verdicts).

    SNS rather than an S3 event: `chalice package` cannot wire S3 notifications in
    CloudFormation, and SES's notification carries the verdicts besides."""
    from chalicelib.channels import email_ses

    stored = email_ses.stored_message(json.loads(event.message))
    if stored is None:
        return  # not a "Received" notification with an S3 action: nothing to read
    raw = email_ses.with_verdicts(services().blobs.get(stored.key), stored.verdicts)
    _receive_email(raw, "ses:" + stored.message_id, stored.key, stored.verdicts)


@app.on_sns_message(topic=SES_TOPIC)
def ses_notification(event: Any) -> None:
    """SES bounces and complaints: those addresses are never emailed again."""
    from chalicelib.channels import email_ses
    from chalicelib.domain import mail

    found = email_ses.undeliverable(json.loads(event.message))
    if found is not None:
        reason, addresses = found
        mail.bounced(services(), addresses, reason)


# --- Webinars ------------------------------------------------------------------------------


@app.route("/webinars", methods=["GET"])
@json_errors
def upcoming_webinars() -> dict[str, Any]:
    from datetime import timedelta

    from chalicelib.channels import views

    deps = services()
    now = deps.clock()
    sessions = deps.store.webinars_between(now, now + timedelta(days=365))
    return {"webinars": [views.webinar_public(w) for w in sessions if w.status == "scheduled"]}


@app.route("/webinars/{webinar_id}/bookings", methods=["POST"], content_types=JSON)
@json_errors
def book_webinar(webinar_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import webinars
    from chalicelib.domain.errors import NotFound

    request, deps = _body("booking"), services()
    webinar = deps.webinar(webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    limits = webinars.BookingLimits(
        deps.settings.booking_max_active, deps.settings.booking_max_per_day
    )
    webinars.book(deps, webinar, request, limits)
    # The same answer for a new booking, a repeat and an address over its limit: the state and
    # the cancel link go to the address or number given, so only its owner learns them.
    return Response(body=views.booking_requested(webinar), status_code=202)


@app.route("/bookings/{token}/cancel", methods=["POST"])
@json_errors
def cancel_booking(token: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    deps = services()
    booking = webinars.cancel(deps, token)
    return {"booking": views.booking_public(booking, None)}


@app.route("/webinars", methods=["POST"], content_types=JSON)
@json_errors
def create_webinar() -> Response:
    from chalicelib.channels import views
    from chalicelib.channels.validation import parse_time
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.model import Webinar

    _actor("manager")
    body, deps = _body("webinar"), services()
    webinar = Webinar(
        id=new_id(),
        title=body["title"],
        description=body.get("description", ""),
        starts_at=parse_time(body["starts_at"], "starts_at"),
        duration_minutes=body["duration_minutes"],
        capacity=body["capacity"],
        waitlist_size=body.get("waitlist_size", 0),
        queue=body.get("queue", "general"),
        join_url=body.get("join_url", ""),
        host=body.get("host"),
    )
    deps.store.create_webinar(webinar)
    return Response(body=views.webinar_admin(webinar), status_code=201)


@app.route("/webinars/{webinar_id}", methods=["PUT"], content_types=JSON)
@json_errors
def update_webinar(webinar_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.channels.validation import parse_time
    from chalicelib.domain.errors import NotFound

    _actor("manager")
    changes = _body("webinar_update")
    if "starts_at" in changes:
        changes["starts_at"] = parse_time(changes["starts_at"], "starts_at")
    updated = services().store.update_webinar(webinar_id, changes)
    if updated is None:
        raise NotFound("No such scheduled webinar.")
    return views.webinar_admin(updated)


@app.route("/webinars/{webinar_id}/cancel", methods=["POST"])
@json_errors
def cancel_webinar(webinar_id: str) -> dict[str, Any]:
    from chalicelib.domain import webinars

    _actor("manager")
    deps = services()
    told = webinars.cancel_session(deps, webinar_id)
    return {"cancelled": webinar_id, "citizens_told": told}


@app.route("/webinars/{webinar_id}/bookings", methods=["GET"])
@json_errors
def webinar_bookings(webinar_id: str) -> dict[str, Any]:
    from chalicelib.channels import views

    _actor("manager")
    return {"bookings": [views.booking_admin(b) for b in services().store.bookings_of(webinar_id)]}


@app.route(
    "/webinars/{webinar_id}/bookings/{booking_id}/attendance", methods=["POST"], content_types=JSON
)
@json_errors
def mark_attendance(webinar_id: str, booking_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import webinars

    _actor("manager")
    deps = services()
    attended = _body("attendance")["attended"]
    booking = webinars.attendance(webinar_id, booking_id, attended, deps.store, deps.clock)
    return views.booking_admin(booking)


# --- Reports ------------------------------------------------------------------------------


def _render_report(figures: dict[str, Any]) -> tuple[str, str, str]:
    from chalicelib.channels import report_views

    return (
        report_views.as_text(figures),
        report_views.as_html(figures),
        report_views.as_csv(figures),
    )


@app.route("/reports/weekly/{week}", methods=["GET"])
@json_errors
def weekly_report(week: str) -> Any:
    """JSON; CSV with `Accept: text/csv`; a page with charts at `/reports/weekly/<week>.html`."""
    from chalicelib.domain import reports

    _actor("manager")
    deps = services()
    page = week.endswith(".html")
    figures = reports.weekly(week.removesuffix(".html"), deps.store, deps.hours(), deps.clock())
    if page:
        _, html, _ = _render_report(figures)
        return Response(body=html, headers={"Content-Type": "text/html; charset=utf-8"})
    if _wants_csv():
        _, _, csv_text = _render_report(figures)
        name = f"service-report-{figures['week']}.csv"
        return Response(
            body=csv_text,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )
    return figures


def _wants_csv() -> bool:
    return "text/csv" in (app.current_request.headers.get("accept") or "")


# --- Privacy (managers) ---------------------------------------------------------------------


@app.route("/contacts/{contact_id}/export", methods=["GET"])
@json_errors
def export_contact(contact_id: str) -> dict[str, Any]:
    from chalicelib.domain import privacy

    actor, deps = _actor("manager"), services()
    return privacy.export(deps, contact_id, actor.user_id)


@app.route("/contacts/{contact_id}/erase", methods=["POST"])
@json_errors
def erase_contact(contact_id: str) -> dict[str, Any]:
    from chalicelib.domain import privacy

    actor, deps = _actor("manager"), services()
    counts = privacy.erase(deps, contact_id, actor.user_id)
    return {"erased": contact_id, **counts}


# --- the unified inbox ---------------------------------------------------------------------


@app.route("/inbox", methods=["GET"])
@json_errors
def inbox() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    cases, cursor = casework.inbox(
        actor,
        deps.store,
        status=_query("status"),
        queue=_query("queue"),
        assignee=_query("assignee"),
        cursor=_query("cursor"),
    )
    return {"cases": [views.case_summary(c) for c in cases], "cursor": cursor}


@app.route("/cases/{case_id}", methods=["GET"])
@json_errors
def case_detail(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    case = casework.view_case(case_id, actor, deps.store, deps.clock())
    return views.case_detail(case)


@app.route("/cases/{case_id}/reads", methods=["GET"])
@json_errors
def case_reads(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    _actor("manager")
    return {"reads": [views.case_read(r) for r in casework.reads_of(case_id, services().store)]}


@app.route("/cases/{case_id}/claim", methods=["POST"])
@json_errors
def claim_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor("practitioner"), services()
    return views.case_summary(casework.claim(case_id, actor, deps.store, deps.clock()))


@app.route("/cases/{case_id}/replies", methods=["POST"], content_types=JSON)
@json_errors
def reply_to_case(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    request = _body("reply")
    with views.unseen_shown():
        reply_id, status = casework.reply(
            deps, case_id, actor, request["body"], seen=request.get("seen")
        )
    return Response(body={"id": reply_id, "status": status}, status_code=201)


@app.route("/cases/{case_id}/callback", methods=["POST"])
@json_errors
def call_back(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import voice

    actor, deps = _actor("practitioner"), services()
    call = voice.start_callback(deps, case_id, actor)
    return Response(body=views.interaction(call), status_code=201)


@app.route("/cases/{case_id}/notes", methods=["POST"], content_types=JSON)
@json_errors
def note_on_case(case_id: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    note = casework.add_note(case_id, actor, _body("note")["body"], deps.store, deps.clock())
    return Response(body=views.interaction(note), status_code=201)


@app.route("/cases/{case_id}/transfer", methods=["POST"], content_types=JSON)
@json_errors
def transfer_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    target = _body("transfer")
    case = casework.transfer(
        case_id,
        actor,
        deps.store,
        deps.clock(),
        queue=target.get("queue"),
        practitioner_id=target.get("practitioner_id"),
    )
    return views.case_summary(case)


@app.route("/cases/{case_id}/close", methods=["POST"], content_types=JSON)
@json_errors
def close_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    request = _body("close")
    with views.unseen_shown():
        case = casework.close(
            case_id, actor, request["outcome"], deps.store, deps.clock(), seen=request["seen"]
        )
    return views.case_summary(case)


@app.route("/cases/{case_id}/link", methods=["POST"])
@json_errors
def confirm_case_link(case_id: str) -> dict[str, Any]:
    """The marked case's sender is the linked case's citizen: see chalicelib/domain/links.py."""
    from chalicelib.channels import views
    from chalicelib.domain import links

    actor, deps = _actor(*BOTH), services()
    case = links.confirm(case_id, actor, deps.store, deps.clock())
    return {**views.case_summary(case), **views.case_links(case)}


@app.route("/cases/{case_id}/link/dismiss", methods=["POST"])
@json_errors
def dismiss_case_link(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import links

    actor, deps = _actor(*BOTH), services()
    case = links.dismiss(case_id, actor, deps.store)
    return {**views.case_summary(case), **views.case_links(case)}


@app.route("/cases/{case_id}/reopen", methods=["POST"])
@json_errors
def reopen_case(case_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import casework

    actor, deps = _actor(*BOTH), services()
    return views.case_summary(casework.reopen(case_id, actor, deps.store, deps.clock()))


# --- practitioners -------------------------------------------------------------------------


@app.route("/hours", methods=["GET"])
@json_errors
def opening_hours() -> dict[str, Any]:
    from chalicelib.channels import views

    deps = services()
    return views.opening_hours(deps.hours(), deps.clock())


@app.route("/hours", methods=["PUT"], content_types=JSON)
@json_errors
def publish_opening_hours() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import opening

    _actor("manager")
    fields, deps = _body("hours"), services()
    hours = opening.replace(fields, deps.store)
    deps.hours_changed(hours)
    return views.opening_hours(hours, deps.clock())


@app.route("/practitioners/me/status", methods=["PUT"], content_types=JSON)
@json_errors
def my_duty_status() -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    actor, deps = _actor("practitioner"), services()
    on_duty = _body("duty_status")["on_duty"]
    return views.practitioner(staffing.set_duty(actor, on_duty, deps.store, deps.clock()))


@app.route("/practitioners", methods=["GET"])
@json_errors
def list_practitioners() -> dict[str, Any]:
    from chalicelib.channels import views

    _actor("manager")
    return {"practitioners": [views.practitioner(p) for p in services().store.list_practitioners()]}


@app.route("/practitioners", methods=["POST"], content_types=JSON)
@json_errors
def create_practitioner() -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    _actor("manager")
    created = staffing.create(_body("practitioner"), services().store)
    return Response(body=views.practitioner(created), status_code=201)


@app.route("/practitioners/{practitioner_id}", methods=["PUT"], content_types=JSON)
@json_errors
def update_practitioner(practitioner_id: str) -> dict[str, Any]:
    from chalicelib.channels import views
    from chalicelib.domain import staffing

    _actor("manager")
    changes = _body("practitioner_update")
    return views.practitioner(staffing.update(practitioner_id, changes, services().store))


@app.route("/practitioners/{practitioner_id}/shifts", methods=["GET"])
@json_errors
def practitioner_shifts(practitioner_id: str) -> dict[str, Any]:
    from chalicelib.channels import views

    _actor("manager")
    return {"shifts": [views.shift(s) for s in services().store.shifts(practitioner_id)]}


# --- schedules -----------------------------------------------------------------------------


@app.schedule(Rate(1, unit=Rate.MINUTES))
def route_waiting_cases(event: Any) -> dict[str, Any]:
    """Cases assigned but unanswered for UNANSWERED_MINUTES go back to their queue, and waiting
    cases are offered to on-duty practitioners with room (a safety net for missed offers)."""
    from chalicelib.domain import routing

    deps = services()
    after = timedelta(minutes=deps.settings.unanswered_minutes)
    moved = routing.requeue_unanswered(deps.store, deps.clock(), after)
    offered = routing.offer_waiting(deps.store, deps.clock())
    return {"requeued": len(moved), "offered": len(offered)}


@app.schedule(Rate(5, unit=Rate.MINUTES))
def webinar_reminders(event: Any) -> dict[str, Any]:
    """Reminders 24 h and 1 h before each session, each sent exactly once."""
    from chalicelib.domain import webinars

    return {"sent": webinars.send_reminders(services())}


@app.schedule(Cron(0, 6, "?", "*", "MON", "*"))
def weekly_service_report(event: Any) -> dict[str, Any]:
    """Monday 06:00 UTC (07:00 or 08:00 in Copenhagen): the week that just ended, stored and
    emailed to the managers once."""
    from chalicelib.domain import reports

    deps = services()
    week = reports.week_of_last_monday(deps.clock(), deps.hours().timezone)
    return reports.send_weekly(deps, week, _render_report)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def retry_outbox(event: Any) -> dict[str, int]:
    """Messages a provider refused are retried with back-off, then fail visibly on the case."""
    from chalicelib.domain import delivery

    return delivery.retry_due(services())


@app.schedule(Cron(30, 2, "*", "*", "?", "*"))
def retention_purge(event: Any) -> dict[str, int]:
    """Daily retention (RETENTION_*_DAYS): bodies of closed cases, voicemail references,
    identities of contacts gone quiet, old read and audit records; the counts stay."""
    from chalicelib.domain import privacy

    return privacy.purge(services())
