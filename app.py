"""Routes and events mapped to calls: parse and verify at the edge, one domain call, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib import intake, outbound
from chalicelib.channels import twilio_sms
from chalicelib.channels.http import form_fields, json_errors, reshape_framework_errors, with_query
from chalicelib.logs import configure_logging
from chalicelib.wiring import services

app = Chalice(app_name="guidance-contact-centre")
configure_logging(app)

FORM = ["application/x-www-form-urlencoded"]


@app.middleware("http")
def one_error_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return reshape_framework_errors(get_response(event))


def _twilio_form(path: str) -> dict[str, str]:
    """The POSTed fields, once Twilio's signature over our public URL has been checked."""
    request = app.current_request
    settings = services().settings
    form = form_fields(request.raw_body)
    url = with_query(settings.public_url(path), request.query_params)
    twilio_sms.verify_signature(
        settings.twilio_auth_token, url, form, request.headers.get("x-twilio-signature")
    )
    return form


def _twiml(twiml: str) -> Response:
    return Response(body=twiml, status_code=200, headers={"Content-Type": "text/xml"})


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/webhooks/twilio/sms", methods=["POST"], content_types=FORM)
@json_errors
def twilio_sms_inbound() -> Response:
    message = twilio_sms.parse_inbound(_twilio_form("/webhooks/twilio/sms"))
    deps = services()
    outcome = intake.receive(message, deps.store, deps.hours(), deps.clock)
    callback = (
        deps.settings.public_url(f"/webhooks/twilio/sms/status?ref={outcome.reply_ref}")
        if outcome.reply_ref
        else None
    )
    return _twiml(twilio_sms.render_reply(outcome.reply, callback))


@app.route("/webhooks/twilio/sms/status", methods=["POST"], content_types=FORM)
@json_errors
def twilio_sms_status() -> Response:
    status, sid, error_code = twilio_sms.parse_status(_twilio_form("/webhooks/twilio/sms/status"))
    ref = (app.current_request.query_params or {}).get("ref")
    outbound.record_status(services().store, ref, status, sid, error_code)
    return Response(body="", status_code=204)
