"""Provider webhooks: Twilio SMS and Voice, the email relay, and SES's SNS notifications."""

from __future__ import annotations

import json
import os
from typing import Any

from chalice import Response

from chalicelib.routes.edge import FORM, VOICE, Area, menu_url, no_content, twiml

bp = Area(__name__)
SES_TOPIC = os.environ.get("SES_NOTIFICATIONS_TOPIC", "guidance-contact-centre-ses")
INBOUND_TOPIC = os.environ.get("INBOUND_MAIL_TOPIC", "guidance-contact-centre-inbound-mail")


@bp.route("/webhooks/twilio/sms", methods=["POST"], content_types=FORM)
def twilio_sms_inbound() -> Response:
    from chalicelib.channels import twilio_sms
    from chalicelib.domain import intake

    deps = bp.deps
    form = bp.twilio_form("/webhooks/twilio/sms")
    message = twilio_sms.parse_inbound(form, deps.settings.allowed_country_codes)
    outcome = intake.receive(deps, message)
    callback = deps.sms_status_url(outcome.reply_ref) if outcome.reply_ref else None
    return twiml(twilio_sms.render_reply(outcome.reply, callback))


@bp.route("/webhooks/twilio/sms/status", methods=["POST"], content_types=FORM)
def twilio_sms_status() -> Response:
    from chalicelib.channels import twilio_sms
    from chalicelib.domain import delivery

    status, sid, error_code = twilio_sms.parse_status(bp.twilio_form("/webhooks/twilio/sms/status"))
    delivery.record_status(bp.deps, bp.query("ref"), status, sid, error_code)
    return no_content()


@bp.route(VOICE, methods=["POST"], content_types=FORM)
def twilio_voice_inbound() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    message, deps = twilio_voice.parse_call(bp.twilio_form(VOICE)), bp.deps
    voice.answer(deps, message)
    return twiml(twilio_voice.welcome(deps.wording(), menu_url(deps)))


@bp.route(f"{VOICE}/menu", methods=["POST"], content_types=FORM)
def twilio_voice_menu() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    form, deps = bp.twilio_form(f"{VOICE}/menu"), bp.deps
    step, reason, attempt, language = twilio_voice.parse_step(bp.query("step"))
    call = voice.find_call(deps, twilio_voice.call_sid(form), twilio_voice.caller(form))
    choice, dialled = twilio_voice.choice(form), form.get("DialCallStatus")
    talked = twilio_voice.dial_seconds(form)
    next_step = voice.menu(deps, call, step, attempt, reason, choice, dialled, talked)
    speaker = twilio_voice.Speaker(deps.wording(), language, menu_url(deps))
    recording = deps.settings.public_url(f"{VOICE}/recording")
    return twiml(twilio_voice.answer(next_step, speaker, recording))


@bp.route(f"{VOICE}/recording", methods=["POST"], content_types=FORM)
def twilio_voice_recording() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice

    form = bp.twilio_form(f"{VOICE}/recording")
    sid, url, duration, status = twilio_voice.recording(form)
    deps = bp.deps
    call = voice.find_call(deps, twilio_voice.call_sid(form), twilio_voice.caller(form))
    if call is not None and status == "completed":
        voice.record_voicemail(deps, call, sid, url, duration)
    return no_content()


@bp.route(f"{VOICE}/status", methods=["POST"], content_types=FORM)
def twilio_voice_status() -> Response:
    from chalicelib.channels import twilio_voice
    from chalicelib.domain import voice
    from chalicelib.domain.delivery import parse_reference

    form = bp.twilio_form(f"{VOICE}/status")
    status, duration = twilio_voice.call_status(form)
    deps, ref = bp.deps, parse_reference(bp.query("ref") or "")
    sid = twilio_voice.call_sid(form)
    call = voice.Call(ref[0], ref[1], None) if ref else voice.find_call(deps, sid, None)
    if call is not None:
        voice.call_status(deps, call, status, duration)
    return no_content()


def _receive_email(
    raw: bytes, provider_id: str | None, raw_key: str | None, verdicts: dict[str, str] | None = None
) -> Any:
    from chalicelib.channels import email_mime
    from chalicelib.domain import mail

    deps = bp.deps
    parsed = email_mime.parse(
        raw, deps.settings.mail_domain, provider_id, raw_key is not None, verdicts
    )
    return mail.receive(deps, parsed.message, parsed.attachments, raw, raw_key)


def _relayed() -> bytes:
    """The raw email the relay POSTed, once its signature and size have been checked."""
    from chalicelib.channels import email_mime, email_relay
    from chalicelib.domain.errors import PayloadTooLarge

    request = bp.current_request
    raw = request.raw_body if isinstance(request.raw_body, bytes) else request.raw_body.encode()
    signed = (request.headers.get("x-relay-timestamp"), request.headers.get("x-relay-signature"))
    email_relay.verify(bp.deps.settings.email_relay_secret, *signed, raw)
    if len(raw) > email_mime.MAX_BYTES:
        raise PayloadTooLarge(f"Messages over {email_mime.MAX_BYTES} bytes are refused.")
    return raw


@bp.route("/webhooks/email/inbound", methods=["POST"], content_types=["message/rfc822"])
def email_inbound() -> Response:
    outcome = _receive_email(_relayed(), None, None)
    if outcome.duplicate:  # the same bytes again: nothing to add, and no case to name
        return Response(body={"duplicate": True}, status_code=200)
    return Response(body={"case_id": outcome.case_id, "duplicate": False}, status_code=201)


@bp.on_sns_message(topic=INBOUND_TOPIC)
def email_from_ses(event: Any) -> None:
    """SES stored a message in S3 and said so on SNS (with its spam and virus verdicts).

    SNS rather than an S3 event: `chalice package` cannot wire S3 notifications in
    CloudFormation, and SES's notification carries the verdicts besides."""
    from chalicelib.channels import email_ses

    stored = email_ses.stored_message(json.loads(event.message))
    if stored is None:
        return  # not a "Received" notification with an S3 action: nothing to read
    raw = email_ses.with_verdicts(bp.deps.blobs.get(stored.key), stored.verdicts)
    _receive_email(raw, "ses:" + stored.message_id, stored.key, stored.verdicts)


@bp.on_sns_message(topic=SES_TOPIC)
def ses_notification(event: Any) -> None:
    """SES bounces and complaints: those addresses are never emailed again."""
    from chalicelib.channels import email_ses
    from chalicelib.domain import mail

    found = email_ses.undeliverable(json.loads(event.message))
    if found is not None:
        reason, addresses = found
        mail.bounced(bp.deps, addresses, reason)
